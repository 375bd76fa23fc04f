// Throughput of exsim on loopback: small EWS operations (GetItem by id, FindItem CalendarView,
// UpdateItem of one field) from several keep-alive client connections for a fixed time.
// Prints one JSON object. Usage: exsim_throughput [seconds] [connections]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>

#include "exsim/server/server.h"

namespace {

constexpr const char* kHead =
    R"(<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></s:Header><s:Body>)";
constexpr const char* kTail = "</s:Body></s:Envelope>";

std::string envelope(const std::string& body) { return kHead + body + kTail; }

std::string create_item(int i) {
  return envelope(fmt::format(
      R"(<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>Bench {}</t:Subject><t:Start>2030-01-{:02}T09:00:00Z</t:Start><t:End>2030-01-{:02}T09:30:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>)",
      i, 1 + i % 28, 1 + i % 28));
}

std::string get_item(const std::string& id) {
  return envelope(
      R"(<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id=")" +
      id + R"("/></m:ItemIds></m:GetItem>)");
}

std::string calendar_view() {
  return envelope(
      R"(<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:CalendarView MaxEntriesReturned="10" StartDate="2030-01-05T00:00:00Z" EndDate="2030-01-06T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>)");
}

std::string update_item(const std::string& id, int n) {
  return envelope(fmt::format(
      R"(<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="{}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Updated {}</t:Subject></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>)",
      id, n));
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
  int connections = argc > 2 ? std::atoi(argv[2]) : 4;
  exsim::ServerConfig config;
  config.mailboxes.push_back({"bench@example.com", "Bench"});
  config.accounts.push_back({"bench@example.com", "pw", false, {}});
  config.threads = 16;
  exsim::Server server(config);
  std::string error;
  if (!server.start(error)) {
    std::fprintf(stderr, "exsim_throughput: %s\n", error.c_str());
    return 1;
  }
  std::thread serving([&] { server.run(); });

  // Seed: 200 items whose ids the clients read and update.
  std::vector<std::string> ids;
  {
    httplib::Client c(server.base_url());
    c.set_basic_auth("bench@example.com", "pw");
    std::regex id_re(R"re(ItemId Id="([^"]+)")re");
    for (int i = 0; i < 200; ++i) {
      auto r = c.Post("/EWS/Exchange.asmx", create_item(i), "text/xml");
      for (int attempt = 0; attempt < 50 && !r; ++attempt) {  // the listener may be starting
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        r = c.Post("/EWS/Exchange.asmx", create_item(i), "text/xml");
      }
      std::smatch m;
      if (!r || !std::regex_search(r->body, m, id_re)) {
        std::fprintf(stderr, "exsim_throughput: seeding failed\n");
        server.stop();
        serving.join();
        return 1;
      }
      ids.push_back(m[1]);
    }
  }

  std::atomic<long> ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  auto started = std::chrono::steady_clock::now();
  for (int t = 0; t < connections; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client c(server.base_url());
      c.set_basic_auth("bench@example.com", "pw");
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);  // as urllib3 and libcurl do: no Nagle delay per request
      for (long n = 0; !stop; ++n) {
        const std::string& id =
            ids[static_cast<size_t>((n * 7 + t) % static_cast<long>(ids.size()))];
        std::string body = n % 4 == 3   ? update_item(id, static_cast<int>(n))
                           : n % 4 == 2 ? calendar_view()
                                        : get_item(id);
        auto r = c.Post("/EWS/Exchange.asmx", body, "text/xml");
        (r && r->status == 200 && r->body.find("NoError") != std::string::npos ? ok : failed)++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& c : clients) c.join();
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  server.stop();
  serving.join();
  std::printf(
      "{\"benchmark\": \"exsim_throughput\", \"operations\": %ld, \"failed\": %ld, "
      "\"seconds\": %.2f, \"operations_per_second\": %.0f, \"connections\": %d, "
      "\"mix\": \"50%% GetItem, 25%% FindItem CalendarView, 25%% UpdateItem\", "
      "\"target_operations_per_second\": 2000}\n",
      ok.load(), failed.load(), elapsed, static_cast<double>(ok.load()) / elapsed, connections);
  return failed.load() == 0 ? 0 : 1;
}
