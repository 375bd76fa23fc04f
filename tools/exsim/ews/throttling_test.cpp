// Exchange's EWS throttling budgets, enforced by exsim by default and relaxed by their
// switches: EWSMaxConcurrency (27 requests in flight per charged account, then
// ErrorExceededConnectionCount; GetStreamingEvents is not counted) and EWSFindCountLimit
// (1,000 FindItem rows held per charged account across concurrent requests, 250 with a
// restriction; paged requests are cut short with IncludesLastItemInRange="false", others get
// ErrorServerBusy).
// learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exsim/ews/streaming_test_support.h"

namespace exsim::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string fault_code(const std::string& body) {
  auto at = body.find("<faultcode");
  if (at == std::string::npos) return "";
  at = body.find("a:", at) + 2;
  return body.substr(at, body.find('<', at) - at);
}

int count_items(const std::string& body) {
  int n = 0;
  for (auto at = body.find("<t:CalendarItem>"); at != std::string::npos;
       at = body.find("<t:CalendarItem>", at + 1)) {
    ++n;
  }
  return n;
}

std::string attribute(const std::string& body, const std::string& name) {
  auto at = body.find(name + "=\"");
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  return body.substr(at, body.find('"', at) - at);
}

json budgets(Exsim& exsim) { return json::parse(exsim.admin("ews/budgets").body); }

/// Waits (bounded) until `ready(budgets)` holds.
bool budgets_reach(Exsim& exsim, const std::function<bool(const json&)>& ready) {
  for (int i = 0; i < 200; ++i) {
    if (ready(budgets(exsim))) return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

/// FindItem on `address`'s calendar: paged (IndexedPageItemView) when `max_entries` > 0,
/// otherwise without a view; optionally with a restriction every seeded item matches.
std::string find_items(const std::string& address, int max_entries, int offset = 0,
                       bool restricted = false, const std::string& impersonate = "") {
  std::string view = max_entries > 0 ? fmt::format(
                                           "<m:IndexedPageItemView MaxEntriesReturned=\"{}\" "
                                           "Offset=\"{}\" BasePoint=\"Beginning\"/>",
                                           max_entries, offset)
                                     : "";
  std::string restriction =
      restricted ? "<m:Restriction><t:Exists><t:FieldURI FieldURI=\"item:Subject\"/></t:Exists>"
                   "</m:Restriction>"
                 : "";
  return envelope(fmt::format("<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly"
                              "</t:BaseShape></m:ItemShape>{}{}<m:ParentFolderIds>"
                              "<t:DistinguishedFolderId Id=\"calendar\"><t:Mailbox><t:EmailAddress>"
                              "{}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"
                              "</m:ParentFolderIds></m:FindItem>",
                              view, restriction, address),
                  impersonate);
}

std::string calendar_view(const std::string& address, int max_entries) {
  return envelope(fmt::format(
      "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
      "</m:ItemShape><m:CalendarView MaxEntriesReturned=\"{}\" StartDate=\"2030-01-01T00:00:00Z\" "
      "EndDate=\"2031-01-01T00:00:00Z\"/><m:ParentFolderIds><t:DistinguishedFolderId "
      "Id=\"calendar\"><t:Mailbox><t:EmailAddress>{}</t:EmailAddress></t:Mailbox>"
      "</t:DistinguishedFolderId></m:ParentFolderIds></m:FindItem>",
      max_entries, address));
}

void seed(Exsim& exsim, const std::string& address, int count) {
  ASSERT_EQ(
      exsim.admin(fmt::format("mailboxes/{}/seed", address), json{{"count", count}}.dump()).status,
      200);
}

void faults(Exsim& exsim, const json& settings) {
  ASSERT_EQ(exsim.admin("faults", settings.dump()).status, 200);
}

// ---- EWSMaxConcurrency ----

TEST(EwsMaxConcurrency, TwentySevenInFlightPerChargedAccountThenErrorExceededConnectionCount) {
  Exsim exsim(config_with_mailboxes(2));
  EXPECT_EQ(budgets(exsim)["max_concurrency"], 27);
  std::string stream_id = subscribe_id(exsim, mailbox(0), mailbox(0), "");
  // Every request is held 1.5 s inside its in-flight window.
  faults(exsim, {{"latency_ms", 1500}});
  std::vector<std::thread> slow;
  std::vector<Reply> answers(27);
  for (int i = 0; i < 27; ++i) {
    slow.emplace_back([&, i] { answers[i] = exsim.ews(mailbox(0), get_calendar(mailbox(0))); });
  }
  ASSERT_TRUE(budgets_reach(exsim, [](const json& b) {
    return b["in_flight"].value("account:m0@example.com", 0) == 27;
  }));
  // The 28th is refused at once; those in flight carry on.
  Reply refused = exsim.ews(mailbox(0), get_calendar(mailbox(0)));
  EXPECT_EQ(refused.status, 500);
  EXPECT_EQ(fault_code(refused.body), "ErrorExceededConnectionCount") << refused.body;
  EXPECT_NE(refused.body.find("exceeded the available concurrent connections"), std::string::npos);
  // GetStreamingEvents has its own budget (HangingConnectionLimit): it still opens.
  Stream stream(exsim.port(), mailbox(0), get_streaming_events({stream_id}));
  EXPECT_TRUE(stream.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  // Another account, and a service account impersonating the same mailbox (a copy of the
  // mailbox's budget), are charged apart.
  std::thread other([&] {
    EXPECT_EQ(element_text(exsim.ews(mailbox(1), get_calendar(mailbox(1))).body, "ResponseCode"),
              "NoError");
  });
  Reply impersonated = exsim.ews(kService, get_calendar(mailbox(0), mailbox(0)));
  EXPECT_EQ(element_text(impersonated.body, "ResponseCode"), "NoError") << impersonated.body;
  other.join();
  for (auto& t : slow) t.join();
  for (const Reply& a : answers) EXPECT_EQ(element_text(a.body, "ResponseCode"), "NoError");
  json after = budgets(exsim);
  EXPECT_EQ(after["refused_concurrency"], 1);
  EXPECT_EQ(after["in_flight"].value("account:m0@example.com", 0), 0);
  // Room again once the others answered.
  faults(exsim, {{"latency_ms", 0}});
  EXPECT_EQ(element_text(exsim.ews(mailbox(0), get_calendar(mailbox(0))).body, "ResponseCode"),
            "NoError");
  stream.close();
}

TEST(EwsMaxConcurrency, SwitchZeroRelaxesTheLimit) {
  ServerConfig config = config_with_mailboxes(1);
  config.ews_max_concurrency = 0;
  Exsim exsim(config);
  faults(exsim, {{"latency_ms", 1000}});
  std::vector<std::thread> slow;
  std::vector<Reply> answers(30);
  for (int i = 0; i < 30; ++i) {
    slow.emplace_back([&, i] { answers[i] = exsim.ews(mailbox(0), get_calendar(mailbox(0))); });
  }
  for (auto& t : slow) t.join();
  for (const Reply& a : answers) EXPECT_EQ(element_text(a.body, "ResponseCode"), "NoError");
  EXPECT_EQ(budgets(exsim)["refused_concurrency"], 0);
}

// ---- EWSFindCountLimit ----

TEST(EwsFindCountLimit, APagedRequestOverAThousandIsCutShortAndPagesOn) {
  Exsim exsim(config_with_mailboxes(1));
  seed(exsim, mailbox(0), 1200);
  Reply first = exsim.ews(mailbox(0), find_items(mailbox(0), 2000));
  EXPECT_EQ(element_text(first.body, "ResponseCode"), "NoError") << first.body.substr(0, 600);
  EXPECT_EQ(count_items(first.body), 1000);
  EXPECT_EQ(attribute(first.body, "IncludesLastItemInRange"), "false");
  EXPECT_EQ(attribute(first.body, "IndexedPagingOffset"), "1000");
  Reply rest = exsim.ews(mailbox(0), find_items(mailbox(0), 2000, 1000));
  EXPECT_EQ(count_items(rest.body), 200);
  EXPECT_EQ(attribute(rest.body, "IncludesLastItemInRange"), "true");
  EXPECT_EQ(budgets(exsim)["find_count_truncated"], 1);
}

TEST(EwsFindCountLimit, WithARestrictionTwoHundredFifty) {
  Exsim exsim(config_with_mailboxes(1));
  seed(exsim, mailbox(0), 300);
  Reply paged = exsim.ews(mailbox(0), find_items(mailbox(0), 1000, 0, true));
  EXPECT_EQ(count_items(paged.body), 250);
  EXPECT_EQ(attribute(paged.body, "IncludesLastItemInRange"), "false");
  EXPECT_EQ(attribute(paged.body, "IndexedPagingOffset"), "250");
  Reply unpaged = exsim.ews(mailbox(0), find_items(mailbox(0), 0, 0, true));
  EXPECT_EQ(unpaged.status, 500);
  EXPECT_EQ(fault_code(unpaged.body), "ErrorServerBusy") << unpaged.body;
  // Without the restriction the 300 fit.
  EXPECT_EQ(count_items(exsim.ews(mailbox(0), find_items(mailbox(0), 0)).body), 300);
}

TEST(EwsFindCountLimit, UnpagedCalendarViewAndOldVersionsGetErrorServerBusy) {
  Exsim exsim(config_with_mailboxes(1));
  seed(exsim, mailbox(0), 1200);
  Reply unpaged = exsim.ews(mailbox(0), find_items(mailbox(0), 0));
  EXPECT_EQ(unpaged.status, 500);
  EXPECT_EQ(fault_code(unpaged.body), "ErrorServerBusy") << unpaged.body;
  Reply view = exsim.ews(mailbox(0), calendar_view(mailbox(0), 1100));
  EXPECT_EQ(fault_code(view.body), "ErrorServerBusy") << view.body.substr(0, 600);
  // A CalendarView within the budget answers as before (the rest on a later view).
  Reply fits = exsim.ews(mailbox(0), calendar_view(mailbox(0), 500));
  EXPECT_EQ(count_items(fits.body), 500);
  EXPECT_EQ(attribute(fits.body, "IncludesLastItemInRange"), "false");
  // A client speaking Exchange2010 (or older) gets no partial result, even when paging.
  std::string old = find_items(mailbox(0), 2000);
  old.replace(old.find("Exchange2013_SP1"), 16, "Exchange2010");
  EXPECT_EQ(fault_code(exsim.ews(mailbox(0), old).body), "ErrorServerBusy");
  std::string sp1 = find_items(mailbox(0), 2000);
  sp1.replace(sp1.find("Exchange2013_SP1"), 16, "Exchange2010_SP1");
  EXPECT_EQ(count_items(exsim.ews(mailbox(0), sp1).body), 1000);
  EXPECT_EQ(budgets(exsim)["find_count_refused"], 3);
}

TEST(EwsFindCountLimit, ConcurrentRequestsOfOneAccountShareTheBudget) {
  Exsim exsim(config_with_mailboxes(1));
  seed(exsim, mailbox(0), 1200);
  // Responses wait 1.5 s before they are handed back: their rows stay charged meanwhile.
  faults(exsim, {{"response_delay_ms", 1500}});
  Reply held;
  std::thread first([&] { held = exsim.ews(mailbox(0), find_items(mailbox(0), 800)); });
  ASSERT_TRUE(budgets_reach(exsim, [](const json& b) {
    return b["find_count_held"].value("account:m0@example.com", 0) == 800;
  }));
  // 200 rows are left for this account: a paged request gets them and pages on; an unpaged one
  // is refused; the impersonated mailbox's copy of the budget is untouched.
  std::thread paged_thread;
  Reply paged, unpaged, impersonated;
  paged_thread = std::thread([&] { paged = exsim.ews(mailbox(0), find_items(mailbox(0), 1000)); });
  ASSERT_TRUE(budgets_reach(exsim, [](const json& b) {
    return b["find_count_held"].value("account:m0@example.com", 0) == 1000;
  }));
  unpaged = exsim.ews(mailbox(0), calendar_view(mailbox(0), 100));
  impersonated = exsim.ews(kService, find_items(mailbox(0), 1000, 0, false, mailbox(0)));
  first.join();
  paged_thread.join();
  EXPECT_EQ(count_items(held.body), 800);
  EXPECT_EQ(count_items(paged.body), 200);
  EXPECT_EQ(attribute(paged.body, "IncludesLastItemInRange"), "false");
  EXPECT_EQ(fault_code(unpaged.body), "ErrorServerBusy") << unpaged.body.substr(0, 600);
  EXPECT_EQ(count_items(impersonated.body), 1000);
  // Everything answered: nothing is held any more.
  EXPECT_TRUE(budgets(exsim)["find_count_held"].empty());
}

TEST(EwsFindCountLimit, SwitchZeroRelaxesTheLimit) {
  ServerConfig config = config_with_mailboxes(1);
  config.ews_find_count_limit = 0;
  Exsim exsim(config);
  seed(exsim, mailbox(0), 1200);
  Reply unpaged = exsim.ews(mailbox(0), find_items(mailbox(0), 0));
  EXPECT_EQ(count_items(unpaged.body), 1200);
  EXPECT_EQ(attribute(unpaged.body, "IncludesLastItemInRange"), "true");
  EXPECT_EQ(count_items(exsim.ews(mailbox(0), find_items(mailbox(0), 0, 0, true)).body), 1200);
}

// Request size: a body over `max_request_bytes` (4 MiB by default, the order of IIS/ASP.NET's
// request limit on the EWS virtual directory) is answered HTTP 413 with an ErrorInvalidRequest
// fault before anything is applied; one at the limit is served; the setting relaxes it.
TEST(RequestSize, FourMebibytesThenHttp413) {
  EXPECT_EQ(ServerConfig{}.max_request_bytes, 4u * 1024 * 1024);
  ServerConfig config = config_with_mailboxes(1);
  Exsim exsim(config);
  const std::string small = find_items(mailbox(0), 10);
  const auto padded = [&](std::size_t size) {
    // XML whitespace after the envelope keeps the request valid whatever its size.
    return small + std::string(size - small.size(), ' ');
  };
  Reply at_limit = exsim.ews(mailbox(0), padded(config.max_request_bytes));
  EXPECT_EQ(at_limit.status, 200) << at_limit.body.substr(0, 400);
  Reply over = exsim.ews(mailbox(0), padded(config.max_request_bytes + 1));
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(fault_code(over.body), "ErrorInvalidRequest") << over.body;
  EXPECT_NE(over.body.find("max_request_bytes"), std::string::npos) << over.body;

  ServerConfig relaxed = config_with_mailboxes(1);
  relaxed.max_request_bytes = 8 * 1024 * 1024;
  Exsim roomy(relaxed);
  EXPECT_EQ(roomy.ews(mailbox(0), padded(config.max_request_bytes + 1)).status, 200);
}

}  // namespace
}  // namespace exsim::testing
