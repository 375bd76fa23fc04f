// Change latency of `agendasync serve` (issue 8, R23), as real processes on loopback: exsim
// (TLS) and the daemon over a SQLite agenda. Two directions, measured one change at a time:
//   host -> Exchange: PATCH over the REST API until exsim's admin listing shows the new
//                     subject (debounce + sync + EWS UpdateItem);
//   Exchange -> host: an "Outlook" edit through exsim's admin endpoint until the host change
//                     feed carries the appointment with the new subject (streaming
//                     notification + sync; the safety net is an hour away).
// Prints one JSON object with p50/p90/p99/max per direction.
//
//   bench_service_latency [--changes N]   (default 200 per direction)
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/service/ews_daemon_setup.h"
#include "bench/service/exsim_admin.h"
#include "net/http.h"
#include "store/sqlite_agenda_store.h"
#include "tests/demo/serve_process.h"
#include "tools/exsim/launcher/exsim_process.h"

using namespace agendasync;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

/// The change feed carries entity ids as text; the appointment API as numbers.
bool same_id(const nlohmann::json& id, std::int64_t expected) {
  return id.is_string() ? id.get<std::string>() == std::to_string(expected)
                        : id.is_number() && id.get<std::int64_t>() == expected;
}

/// Polls `condition` every 2 ms until it holds; the time it took, or nothing after 30 s.
/// (The resolution is the poll interval plus one request; both are small next to a sync.)
template <class F>
std::optional<double> time_until(Clock::time_point started, F condition) {
  const auto deadline = started + 30s;
  while (Clock::now() < deadline) {
    if (condition())
      return std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    std::this_thread::sleep_for(2ms);
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  int changes = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--changes") changes = std::clamp(std::atoi(argv[i + 1]), 1, 5000);
  }
  auto dir = std::filesystem::temp_directory_path() /
             ("agendasync-latency-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);

  exsimtest::ExsimProcess exsim({"--version", "Exchange2016", "--auth", "basic", "--mailbox",
                                 "jdoe@example.com", "--account",
                                 "svc@example.com:s3cret:impersonation"});
  benchsetup::ExsimAdmin admin(exsim);
  const auto database = dir / "agenda.db";
  benchsetup::write_ews_config(dir, database, exsim);

  std::string token;
  {
    auto store = store::open_sqlite_agenda_store(database, store::SqliteOptions{.create = true});
    if (!store) return std::cerr << store.error().message << "\n", 1;
    User user;
    user.user_name = "JDOE";
    user.display_name = "John Doe";
    user.sync_enabled = true;
    if (auto added = (*store)->add_user(user); !added) return 1;
    auto made = benchsetup::integration_token(database, "latency bench");
    if (!made) return std::cerr << made.error().message << "\n", 1;
    token = *made;
  }

  demotest::ServeProcess serve(AGENDASYNC_CLI_BINARY,
                               {"--config", (dir / "agendasync.toml").string(), "serve", "--listen",
                                "127.0.0.1:0", "--safety-net-minutes", "60"},
                               dir / "serve.log");
  httplib::Client api("127.0.0.1", serve.port());
  api.set_read_timeout(30, 0);
  api.set_keep_alive(true);  // polling on one connection, not a new one every 2 ms
  const httplib::Headers auth{{"Authorization", "Bearer " + token}};

  auto created = api.Post("/api/v1/appointments", auth,
                          json{{"subject", "latency 0"},
                               {"start", "2027-01-12T09:00:00Z"},
                               {"end", "2027-01-12T10:00:00Z"},
                               {"time_zone", "Europe/Amsterdam"},
                               {"owner", "JDOE"}}
                              .dump(),
                          "application/json");
  if (!created || created->status != 201) return std::cerr << "cannot create\n", 1;
  const auto host_id = json::parse(created->body).at("id").get<long>();
  const std::string path = "/api/v1/appointments/" + std::to_string(host_id);
  auto exchange_subject = [&](long& id) {
    for (const auto& item : admin.call("GET", "mailboxes/jdoe@example.com/items")) {
      if (item.value("folder", "") == "calendar" &&
          item.value("subject", "").rfind("latency", 0) == 0) {
        id = item.value("id", -1L);
        return item.value("subject", "");
      }
    }
    return std::string();
  };
  long exchange_id = -1;
  if (!time_until(Clock::now(), [&] { return !exchange_subject(exchange_id).empty(); })) {
    return std::cerr << "the first sync did not reach exsim; log:\n" << serve.log(), 1;
  }
  // Let the echo of our own create settle (its notification wakes one more run).
  std::this_thread::sleep_for(1s);

  std::vector<double> to_exchange, to_host;
  long failures = 0;
  for (int i = 1; i <= changes; ++i) {
    // Host -> Exchange.
    const std::string host_subject = "latency host " + std::to_string(i);
    auto current = api.Get(path, auth);
    if (!current || current->status != 200) return std::cerr << "cannot read\n", 1;
    httplib::Headers write = auth;
    write.emplace("If-Match", current->get_header_value("ETag"));
    auto started = Clock::now();
    auto patched =
        api.Patch(path, write, json{{"subject", host_subject}}.dump(), "application/json");
    if (!patched || patched->status != 200) {
      ++failures;
      continue;
    }
    long id = -1;
    if (auto ms = time_until(started, [&] { return exchange_subject(id) == host_subject; })) {
      to_exchange.push_back(*ms);
    } else {
      ++failures;
    }

    // Exchange -> host.
    long since = 0;
    for (;;) {  // the head of the feed
      auto page = api.Get("/api/v1/changes?limit=1000&since=" + std::to_string(since), auth);
      if (!page || page->status != 200) break;
      auto body = json::parse(page->body);
      since = body.at("next").get<long>();
      if (!body.at("more").get<bool>()) break;
    }
    const std::string outlook_subject = "latency outlook " + std::to_string(i);
    started = Clock::now();
    admin.call("POST", "mailboxes/jdoe@example.com/items/" + std::to_string(id) + "/update",
               {{"subject", outlook_subject}});
    auto arrived = time_until(started, [&] {
      auto page = api.Get("/api/v1/changes?since=" + std::to_string(since), auth);
      if (!page || page->status != 200) return false;
      // The parsed page must outlive the loop: a range-for over a member of a temporary
      // (`json::parse(...).at("changes")`) iterates a destroyed object, which never matched
      // and made every change "time out" after 30 s.
      const json body = json::parse(page->body, nullptr, false);
      if (!body.is_object() || !body.contains("changes")) return false;
      for (const auto& change : body.at("changes")) {
        if (!same_id(change.at("id"), host_id)) continue;
        auto item = api.Get(path, auth);
        return item && item->status == 200 &&
               json::parse(item->body).value("subject", "") == outlook_subject;
      }
      return false;
    });
    if (arrived) {
      to_host.push_back(*arrived);
    } else {
      ++failures;
    }
  }
  const int stopped = serve.stop(SIGTERM);
  json result = {{"benchmark", "service_change_latency"},
                 {"changes_per_direction", changes},
                 {"host_to_exchange", benchsetup::latency_stats(to_exchange)},
                 {"exchange_to_host_streaming", benchsetup::latency_stats(to_host)},
                 {"failures", failures},
                 {"daemon_exit_code", stopped},
                 {"target_p99_ms", 1000}};
  return benchsetup::finish_run(result, failures == 0 && stopped == 0, dir);
}
