// exsim's Graph v1.0 endpoints over real HTTP: tokens, events CRUD, calendarView, delta,
// instances, $batch, throttling, roles, subscriptions, and the store shared with EWS.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "exsim/faults/faults.h"
#include "exsim/graph/graph_request.h"
#include "exsim/server/server.h"
#include "web/query.h"

namespace exsim {
namespace {

using nlohmann::json;

constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";
constexpr const char* kUser = "alice@example.com";

class GraphApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.mailboxes = {{kUser, "Alice"}, {"bob@example.com", "Bob"}};
    config.admin_token = "admin";
    config.graph_apps = {
        GraphAppConfig{
            kTenant, "app-rw", "secret-rw", {"Calendars.ReadWrite", "User.Read.All"}, {}},
        GraphAppConfig{kTenant, "app-none", "secret-none", {"User.Read.All"}, {}}};
    server_ = std::make_unique<Server>(config);
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
    thread_ = std::thread([this] { server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
    token_ = token_for("app-rw", "secret-rw");
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }

  std::string token_for(const std::string& app, const std::string& secret) {
    auto res =
        client_->Post(fmt::format("/{}/oauth2/v2.0/token", kTenant),
                      fmt::format("grant_type=client_credentials&client_id={}&client_"
                                  "secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
                                  app, secret),
                      "application/x-www-form-urlencoded");
    EXPECT_TRUE(res && res->status == 200);
    return res ? json::parse(res->body).value("access_token", "") : "";
  }

  struct Answer {
    int status = 0;
    json body;
    httplib::Headers headers;
  };
  Answer call(const std::string& method, const std::string& path, const json& body = nullptr,
              httplib::Headers headers = {}, const std::string& token = "") {
    headers.emplace("Authorization", "Bearer " + (token.empty() ? token_ : token));
    httplib::Result res{nullptr, httplib::Error::Unknown};
    const std::string text = body.is_null() ? "" : body.dump();
    if (method == "GET") res = client_->Get(path, headers);
    if (method == "POST") res = client_->Post(path, headers, text, "application/json");
    if (method == "PATCH") res = client_->Patch(path, headers, text, "application/json");
    if (method == "DELETE") res = client_->Delete(path, headers);
    Answer a;
    if (!res) return a;
    a.status = res->status;
    a.headers = res->headers;
    if (!res->body.empty()) a.body = json::parse(res->body, nullptr, false);
    return a;
  }
  // Follows @odata.nextLink pages; returns every value and the final link (deltaLink).
  std::pair<std::vector<json>, std::string> all_pages(std::string path,
                                                      httplib::Headers headers = {}) {
    std::vector<json> values;
    for (int page = 0; page < 100; ++page) {
      Answer a = call("GET", path, nullptr, headers);
      EXPECT_EQ(a.status, 200) << a.body.dump();
      if (a.status != 200) break;
      for (const auto& v : a.body["value"]) values.push_back(v);
      if (a.body.contains("@odata.nextLink")) {
        path = relative(a.body["@odata.nextLink"]);
        continue;
      }
      return {values, a.body.value("@odata.deltaLink", "")};
    }
    return {values, ""};
  }
  std::string relative(const std::string& link) { return link.substr(link.find("/v1.0/")); }

  static json event(const std::string& subject, const std::string& start, const std::string& end,
                    const std::string& zone = "W. Europe Standard Time") {
    return {{"subject", subject},
            {"body", {{"contentType", "text"}, {"content", "notes"}}},
            {"start", {{"dateTime", start}, {"timeZone", zone}}},
            {"end", {{"dateTime", end}, {"timeZone", zone}}}};
  }
  std::string events_path() { return fmt::format("/v1.0/users/{}/events", kUser); }

  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
  std::string token_;
};

TEST_F(GraphApiTest, CreateReadUpdateDeleteWithEtags) {
  json body = event("Planning", "2030-03-04T10:00:00", "2030-03-04T11:00:00");
  body["categories"] = {"Red"};
  body["showAs"] = "tentative";
  body["sensitivity"] = "private";
  body["reminderMinutesBeforeStart"] = 30;
  body["isReminderOn"] = true;
  body["location"] = {{"displayName", "Room 1"}};
  Answer created = call("POST", events_path(), body);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  const std::string id = created.body["id"];
  EXPECT_EQ(created.body["type"], "singleInstance");
  EXPECT_EQ(created.body["originalStartTimeZone"], "W. Europe Standard Time");
  EXPECT_EQ(created.body["start"]["dateTime"], "2030-03-04T09:00:00.0000000");  // UTC by default
  EXPECT_EQ(created.body["start"]["timeZone"], "UTC");
  EXPECT_EQ(created.body["showAs"], "tentative");
  EXPECT_EQ(created.body["sensitivity"], "private");
  EXPECT_EQ(created.body["categories"], json::array({"Red"}));
  EXPECT_EQ(created.body["reminderMinutesBeforeStart"], 30);
  EXPECT_EQ(created.body["location"]["displayName"], "Room 1");
  const std::string etag = created.body["@odata.etag"];
  EXPECT_TRUE(etag.starts_with("W/\"")) << etag;

  Answer got = call("GET", events_path() + "/" + id + "?$select=subject,start", nullptr,
                    {{"Prefer", "outlook.timezone=\"Europe/Amsterdam\""}});
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["subject"], "Planning");
  EXPECT_EQ(got.body["start"]["dateTime"], "2030-03-04T10:00:00.0000000");
  EXPECT_EQ(got.body["start"]["timeZone"], "Europe/Amsterdam");
  EXPECT_FALSE(got.body.contains("location")) << "$select limits the answer";

  Answer patched =
      call("PATCH", events_path() + "/" + id, {{"subject", "Planning 2"}}, {{"If-Match", etag}});
  ASSERT_EQ(patched.status, 200) << patched.body.dump();
  EXPECT_EQ(patched.body["subject"], "Planning 2");
  EXPECT_NE(patched.body["@odata.etag"], etag);
  Answer stale =
      call("PATCH", events_path() + "/" + id, {{"subject", "lost"}}, {{"If-Match", etag}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.body["error"]["code"], "ErrorIrresolvableConflict");
  EXPECT_TRUE(stale.body["error"].contains("innerError"));

  EXPECT_EQ(call("DELETE", events_path() + "/" + id).status, 204);
  Answer gone = call("GET", events_path() + "/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body["error"]["code"], "ErrorItemNotFound");
}

TEST_F(GraphApiTest, AllDayEventsReadMidnightToMidnightInAnyZone) {
  json body = event("Holiday", "2030-05-01T00:00:00", "2030-05-02T00:00:00", "Tokyo Standard Time");
  body["isAllDay"] = true;
  Answer created = call("POST", events_path(), body);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  for (const char* zone : {"UTC", "Pacific Standard Time"}) {
    Answer got = call("GET", events_path() + "/" + created.body["id"].get<std::string>(), nullptr,
                      {{"Prefer", fmt::format("outlook.timezone=\"{}\"", zone)}});
    EXPECT_EQ(got.body["start"]["dateTime"], "2030-05-01T00:00:00.0000000") << zone;
    EXPECT_EQ(got.body["end"]["dateTime"], "2030-05-02T00:00:00.0000000") << zone;
    EXPECT_TRUE(got.body["isAllDay"].get<bool>());
  }
}

TEST_F(GraphApiTest, RecurringSeriesInstancesAndException) {
  json body = event("Standup", "2030-01-07T09:00:00", "2030-01-07T09:15:00");
  body["recurrence"] = {
      {"pattern", {{"type", "weekly"}, {"interval", 1}, {"daysOfWeek", {"monday", "wednesday"}}}},
      {"range", {{"type", "numbered"}, {"startDate", "2030-01-07"}, {"numberOfOccurrences", 6}}}};
  Answer master = call("POST", events_path(), body);
  ASSERT_EQ(master.status, 201) << master.body.dump();
  EXPECT_EQ(master.body["type"], "seriesMaster");
  EXPECT_EQ(master.body["recurrence"]["pattern"]["type"], "weekly");
  EXPECT_EQ(master.body["recurrence"]["range"]["numberOfOccurrences"], 6);
  const std::string id = master.body["id"];
  const std::string window = "startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z";
  auto [instances, unused] = all_pages(events_path() + "/" + id + "/instances?" + window);
  ASSERT_EQ(instances.size(), 6u);
  EXPECT_EQ(instances[1]["type"], "occurrence");
  EXPECT_EQ(instances[1]["seriesMasterId"], id);
  EXPECT_EQ(instances[1]["start"]["dateTime"], "2030-01-09T08:00:00.0000000");
  // Moving one occurrence makes it an exception; deleting another removes it from the view.
  Answer moved = call("PATCH", events_path() + "/" + instances[1]["id"].get<std::string>(),
                      {{"start", {{"dateTime", "2030-01-09T15:00:00"}, {"timeZone", "UTC"}}},
                       {"end", {{"dateTime", "2030-01-09T15:15:00"}, {"timeZone", "UTC"}}}});
  ASSERT_EQ(moved.status, 200) << moved.body.dump();
  EXPECT_EQ(moved.body["type"], "exception");
  EXPECT_EQ(moved.body["originalStart"], "2030-01-09T08:00:00Z");
  EXPECT_EQ(call("DELETE", events_path() + "/" + instances[2]["id"].get<std::string>()).status,
            204);
  auto [view, unused2] = all_pages(fmt::format("/v1.0/users/{}/calendarView?{}", kUser, window));
  ASSERT_EQ(view.size(), 5u);
  EXPECT_EQ(view[1]["type"], "exception");
  EXPECT_EQ(view[1]["start"]["dateTime"], "2030-01-09T15:00:00.0000000");
}

TEST_F(GraphApiTest, DeltaFromScratchIncrementalWithPagingRemovedAndExpiredToken) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    Answer a = call("POST", events_path(),
                    event(fmt::format("Item {}", i), fmt::format("2030-06-0{}T10:00:00", i + 1),
                          fmt::format("2030-06-0{}T11:00:00", i + 1)));
    ASSERT_EQ(a.status, 201);
    ids.push_back(a.body["id"]);
  }
  const httplib::Headers small_pages = {{"Prefer", "odata.maxpagesize=3"}};
  const std::string start = fmt::format(
      "/v1.0/users/{}/calendarView/"
      "delta?startDateTime=2030-06-01T00:00:00Z&endDateTime=2030-07-01T00:00:00Z",
      kUser);
  Answer first = call("GET", start, nullptr, small_pages);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.body["value"].size(), 3u);
  EXPECT_NE(first.body.value("@odata.nextLink", "").find("$skiptoken="), std::string::npos);
  auto [all, delta_link] = all_pages(start, small_pages);
  EXPECT_EQ(all.size(), 7u);
  ASSERT_NE(delta_link.find("$deltatoken="), std::string::npos);

  auto [none, link2] = all_pages(relative(delta_link));
  EXPECT_TRUE(none.empty()) << "nothing changed";
  ASSERT_EQ(call("PATCH", events_path() + "/" + ids[0], {{"subject", "changed"}}).status, 200);
  ASSERT_EQ(call("DELETE", events_path() + "/" + ids[1]).status, 204);
  auto [changes, link3] = all_pages(relative(link2));
  ASSERT_EQ(changes.size(), 2u);
  std::map<std::string, json> by_id;
  for (const auto& c : changes) by_id[c["id"]] = c;
  EXPECT_EQ(by_id[ids[0]]["subject"], "changed");
  EXPECT_EQ(by_id[ids[1]]["@removed"]["reason"], "deleted");

  Answer expired =
      call("GET", fmt::format("/v1.0/users/{}/calendarView/delta?$deltatoken=unknown", kUser));
  EXPECT_EQ(expired.status, 410);
  EXPECT_EQ(expired.body["error"]["code"], "syncStateNotFound");
  Answer no_window = call("GET", fmt::format("/v1.0/users/{}/calendarView/delta", kUser));
  EXPECT_EQ(no_window.status, 400);
  EXPECT_EQ(no_window.body["error"]["code"], "ErrorInvalidParameter");
}

TEST_F(GraphApiTest, ItemsWrittenOverEwsAdminAreSeenOverGraph) {
  httplib::Headers admin = {{"X-Exsim-Admin-Token", "admin"}};
  auto res = client_->Post(
      fmt::format("/exsim/admin/mailboxes/{}/items", kUser), admin,
      R"({"subject":"From Outlook","start":"2030-08-01T09:00:00Z","end":"2030-08-01T10:00:00Z"})",
      "application/json");
  ASSERT_TRUE(res && res->status < 300) << (res ? res->body : "no answer");
  auto [view, unused] = all_pages(fmt::format(
      "/v1.0/users/{}/"
      "calendarView?startDateTime=2030-08-01T00:00:00Z&endDateTime=2030-08-02T00:00:00Z",
      kUser));
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(view[0]["subject"], "From Outlook");
}

TEST_F(GraphApiTest, EventsWrittenOverGraphAreSeenByTheEwsStore) {
  Answer created = call("POST", events_path(),
                        event("From Graph", "2030-08-02T09:00:00", "2030-08-02T10:00:00"));
  ASSERT_EQ(created.status, 201);
  auto res = client_->Get(fmt::format("/exsim/admin/mailboxes/{}/items", kUser),
                          {{"X-Exsim-Admin-Token", "admin"}});
  ASSERT_TRUE(res && res->status == 200);
  EXPECT_NE(res->body.find("From Graph"), std::string::npos) << res->body;
}

TEST(GraphApiTokens, ExpiredAccessTokenIsRefused) {
  ServerConfig config;
  config.mailboxes = {{kUser, "Alice"}};
  config.graph_apps = {GraphAppConfig{kTenant, "app", "secret", {"Calendars.ReadWrite"}, {}}};
  config.graph_token_lifetime_seconds = 0;  // every token is issued already expired
  Server server(config);
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;
  std::thread thread([&] { server.run(); });
  httplib::Client client("127.0.0.1", server.port());
  auto token = client.Post(fmt::format("/{}/oauth2/v2.0/token", kTenant),
                           "grant_type=client_credentials&client_id=app&client_secret=secret&"
                           "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
                           "application/x-www-form-urlencoded");
  ASSERT_TRUE(token && token->status == 200);
  auto res = client.Get(
      fmt::format("/v1.0/users/{}/events", kUser),
      {{"Authorization", "Bearer " + json::parse(token->body)["access_token"].get<std::string>()}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"]["code"], "InvalidAuthenticationToken");
  server.stop();
  thread.join();
}

TEST_F(GraphApiTest, ExtendedPropertyWrittenFilteredAndExpanded) {
  const std::string prop = "String {6f1c3a52-8d0e-4b7a-9e21-4a5c0d7b9e13} Name AgendaSyncKey";
  json body = event("Keyed", "2030-09-01T10:00:00", "2030-09-01T11:00:00");
  body["singleValueExtendedProperties"] = {{{"id", prop}, {"value", "key-1"}}};
  Answer created = call("POST", events_path(), body);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  ASSERT_EQ(
      call("POST", events_path(), event("Other", "2030-09-02T10:00:00", "2030-09-02T11:00:00"))
          .status,
      201);
  const std::string filter = agendasync::web::percent_encode(fmt::format(
      "singleValueExtendedProperties/Any(ep: ep/id eq '{}' and ep/value eq 'key-1')", prop));
  Answer found = call("GET", events_path() + "?$filter=" + filter + "&$select=id");
  ASSERT_EQ(found.status, 200) << found.body.dump();
  ASSERT_EQ(found.body["value"].size(), 1u);
  EXPECT_EQ(found.body["value"][0]["id"], created.body["id"]);
  Answer expanded =
      call("GET", events_path() + "/" + created.body["id"].get<std::string>() + "?$expand=" +
                      agendasync::web::percent_encode(
                          fmt::format("singleValueExtendedProperties($filter=id eq '{}')", prop)));
  ASSERT_EQ(expanded.body["singleValueExtendedProperties"].size(), 1u);
  EXPECT_EQ(expanded.body["singleValueExtendedProperties"][0]["value"], "key-1");
}

// The same $expand as Graph's documentation writes it: `$` and `=` literal, not encoded. A
// decoder that splits a query value at every `=` (cpp-httplib's req.params) cut it after
// "($filter" and the property did not come back.
TEST_F(GraphApiTest, ExpandWithLiteralDollarAndEqualsReachesTheHandler) {
  const std::string prop = "String {0b5c3f5e-2a7d-4c1e-9f3b-7d2e6a1c4b80} Name X";
  json body = event("Literal", "2030-09-03T10:00:00", "2030-09-03T11:00:00");
  body["singleValueExtendedProperties"] = {{{"id", prop}, {"value", "literal-1"}}};
  Answer created = call("POST", events_path(), body);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  // Only the spaces are escaped (as %20); `$`, `=`, `(`, `{` and `'` go as they are.
  std::string target = events_path() + "/" + created.body["id"].get<std::string>() +
                       "?$expand=singleValueExtendedProperties($filter=id eq '" + prop + "')";
  std::string escaped;
  for (char c : target) escaped += c == ' ' ? std::string("%20") : std::string(1, c);
  ASSERT_NE(escaped.find("$expand=singleValueExtendedProperties($filter=id%20eq%20'String%20{"),
            std::string::npos);
  Answer expanded = call("GET", escaped);
  ASSERT_EQ(expanded.status, 200) << expanded.body.dump();
  ASSERT_EQ(expanded.body["singleValueExtendedProperties"].size(), 1u) << expanded.body.dump();
  EXPECT_EQ(expanded.body["singleValueExtendedProperties"][0]["id"], prop);
  EXPECT_EQ(expanded.body["singleValueExtendedProperties"][0]["value"], "literal-1");
}

// $orderby and $top as the query-parameters page documents them, on /events and calendarView.
TEST_F(GraphApiTest, OrderByAndTopOnEventsAndCalendarView) {
  for (const auto& [subject, day] :
       std::vector<std::pair<std::string, int>>{{"beta", 12}, {"Alpha", 14}, {"gamma", 10}}) {
    ASSERT_EQ(call("POST", events_path(),
                   event(subject, fmt::format("2030-06-{}T10:00:00", day),
                         fmt::format("2030-06-{}T11:00:00", day)))
                  .status,
              201);
  }
  auto subjects = [](const json& page) {
    std::vector<std::string> out;
    for (const auto& e : page["value"]) out.push_back(e["subject"]);
    return out;
  };
  Answer by_start = call("GET", events_path() + "?$orderby=start/dateTime");
  ASSERT_EQ(by_start.status, 200) << by_start.body.dump();
  EXPECT_EQ(subjects(by_start.body), (std::vector<std::string>{"gamma", "beta", "Alpha"}));
  Answer desc = call("GET", events_path() + "?$orderby=start/dateTime%20desc");
  EXPECT_EQ(subjects(desc.body), (std::vector<std::string>{"Alpha", "beta", "gamma"}));
  // Text sorts without case.
  Answer by_subject = call("GET", events_path() + "?$orderby=subject");
  EXPECT_EQ(subjects(by_subject.body), (std::vector<std::string>{"Alpha", "beta", "gamma"}));
  // $top: a page of that size and a nextLink that keeps the order.
  Answer top = call("GET", events_path() + "?$orderby=start/dateTime%20desc&$top=2");
  ASSERT_EQ(subjects(top.body), (std::vector<std::string>{"Alpha", "beta"}));
  ASSERT_TRUE(top.body.contains("@odata.nextLink"));
  Answer rest = call("GET", relative(top.body["@odata.nextLink"]));
  EXPECT_EQ(subjects(rest.body), (std::vector<std::string>{"gamma"}));
  Answer view = call("GET", fmt::format("/v1.0/users/{}/calendarView?startDateTime=2030-06-01T00:"
                                        "00:00Z&endDateTime=2030-07-01T00:00:00Z&$orderby=subject%"
                                        "20desc&$top=1",
                                        kUser));
  ASSERT_EQ(view.status, 200) << view.body.dump();
  EXPECT_EQ(subjects(view.body), (std::vector<std::string>{"gamma"}));
  EXPECT_TRUE(view.body.contains("@odata.nextLink"));
  Answer bad = call("GET", events_path() + "?$orderby=colour");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["code"], "BadRequest");
}

TEST_F(GraphApiTest, BatchWithDependsOnAndLimit) {
  json batch = {{"requests",
                 {{{"id", "1"},
                   {"method", "POST"},
                   {"url", fmt::format("/users/{}/events", kUser)},
                   {"headers", {{"Content-Type", "application/json"}}},
                   {"body", event("Batched", "2030-10-01T10:00:00", "2030-10-01T11:00:00")}},
                  {{"id", "2"},
                   {"method", "GET"},
                   {"url", fmt::format("/users/{}/events/nonexistent", kUser)}},
                  {{"id", "3"},
                   {"method", "GET"},
                   {"url", fmt::format("/users/{}/events?$select=subject", kUser)},
                   {"dependsOn", {"1"}}},
                  {{"id", "4"},
                   {"method", "GET"},
                   {"url", fmt::format("/users/{}/calendar", kUser)},
                   {"dependsOn", {"2"}}}}}};
  Answer a = call("POST", "/v1.0/$batch", batch);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  std::map<std::string, json> by_id;
  for (const auto& r : a.body["responses"]) by_id[r["id"]] = r;
  EXPECT_EQ(by_id["1"]["status"], 201);
  EXPECT_EQ(by_id["2"]["status"], 404);
  EXPECT_EQ(by_id["3"]["status"], 200);
  EXPECT_EQ(by_id["3"]["body"]["value"][0]["subject"], "Batched");
  EXPECT_EQ(by_id["4"]["status"], 424);
  json too_many = {{"requests", json::array()}};
  for (int i = 0; i < 21; ++i) {
    too_many["requests"].push_back({{"id", std::to_string(i)},
                                    {"method", "GET"},
                                    {"url", "/users/" + std::string(kUser) + "/calendar"}});
  }
  EXPECT_EQ(call("POST", "/v1.0/$batch", too_many).status, 400);
}

TEST_F(GraphApiTest, RolesAndTokensAreChecked) {
  Answer denied = call("GET", events_path(), nullptr, {}, token_for("app-none", "secret-none"));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body["error"]["code"], "ErrorAccessDenied");
  Answer forged = call("GET", events_path(), nullptr, {}, "not.a.token");
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.body["error"]["code"], "InvalidAuthenticationToken");
  Answer unknown = call("GET", "/v1.0/users/nobody@example.com/events");
  EXPECT_EQ(unknown.status, 404);
  Answer me = call("GET", "/v1.0/me/events");
  EXPECT_EQ(me.status, 400);
}

TEST_F(GraphApiTest, ThrottlingFromFaultInjectorCarriesRetryAfter) {
  ASSERT_EQ(server_->faults().update({{"server_busy_next", 1}, {"back_off_ms", 2000}}), "");
  Answer throttled = call("GET", events_path());
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.headers.find("Retry-After")->second, "2");
  EXPECT_EQ(throttled.body["error"]["code"], "ApplicationThrottled");
  EXPECT_EQ(call("GET", events_path()).status, 200);
}

TEST_F(GraphApiTest, MailboxConcurrencyLimitOfFour) {
  // Each request holds its mailbox slot for 6 s (generous for a loaded CI machine): six sent at
  // once cannot all fit in four slots.
  ASSERT_EQ(server_->faults().update({{"latency_ms", 6000}}), "");
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<int> statuses;
  std::vector<std::string> bodies;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(60, 0);
      auto res = c.Get(events_path(), {{"Authorization", "Bearer " + token_}});
      std::lock_guard lock(mutex);
      statuses.push_back(res ? res->status : 0);
      bodies.push_back(res ? res->body : "");
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(server_->faults().update({{"latency_ms", 0}}), "");
  int ok = static_cast<int>(std::count(statuses.begin(), statuses.end(), 200));
  int throttled = static_cast<int>(std::count(statuses.begin(), statuses.end(), 429));
  EXPECT_EQ(ok + throttled, 6);
  EXPECT_GE(ok, 4);
  EXPECT_GE(throttled, 1);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i] == 429) {
      EXPECT_NE(bodies[i].find("MailboxConcurrency"), std::string::npos) << bodies[i];
    }
  }
}

TEST_F(GraphApiTest, LifecycleNotificationBeforeExpiry) {
  httplib::Server receiver;
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<json> lifecycle;
  receiver.Post("/lifecycle", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("validationToken")) {
      res.set_content(req.get_param_value("validationToken"), "text/plain");
      return;
    }
    std::lock_guard lock(mutex);
    lifecycle.push_back(json::parse(req.body));
    cv.notify_all();
    res.status = 202;
  });
  int port = receiver.bind_to_any_port("127.0.0.1");
  std::thread rt([&] { receiver.listen_after_bind(); });
  // Five minutes left: inside the ten minutes before expiry when Graph asks to reauthorize.
  auto expiry = std::chrono::system_clock::now() + std::chrono::minutes(5);
  json sub = {
      {"changeType", "created"},
      {"notificationUrl", fmt::format("http://127.0.0.1:{}/lifecycle", port)},
      {"lifecycleNotificationUrl", fmt::format("http://127.0.0.1:{}/lifecycle", port)},
      {"resource", fmt::format("users/{}/events", kUser)},
      {"expirationDateTime", format_graph_utc(std::chrono::floor<std::chrono::seconds>(expiry))}};
  Answer created = call("POST", "/v1.0/subscriptions", sub);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !lifecycle.empty(); }));
    EXPECT_EQ(lifecycle[0]["value"][0]["lifecycleEvent"], "reauthorizationRequired");
    EXPECT_EQ(lifecycle[0]["value"][0]["subscriptionId"], created.body["id"]);
  }
  receiver.stop();
  rt.join();
}

TEST_F(GraphApiTest, SubscriptionValidatesAndDeliversNotifications) {
  httplib::Server receiver;
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<json> notifications;
  receiver.Post("/notify", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("validationToken")) {
      res.set_content(req.get_param_value("validationToken"), "text/plain");
      return;
    }
    std::lock_guard lock(mutex);
    notifications.push_back(json::parse(req.body));
    cv.notify_all();
    res.status = 202;
  });
  receiver.Post("/refuse",
                [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  int port = receiver.bind_to_any_port("127.0.0.1");
  std::thread rt([&] { receiver.listen_after_bind(); });
  auto expiry = std::chrono::system_clock::now() + std::chrono::hours(24);
  std::string expires = format_graph_utc(std::chrono::floor<std::chrono::seconds>(expiry));
  json sub = {{"changeType", "created,updated,deleted"},
              {"notificationUrl", fmt::format("http://127.0.0.1:{}/notify", port)},
              {"resource", fmt::format("users/{}/events", kUser)},
              {"expirationDateTime", expires},
              {"clientState", "secret-state"}};
  Answer created = call("POST", "/v1.0/subscriptions", sub);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  sub["notificationUrl"] = fmt::format("http://127.0.0.1:{}/refuse", port);
  Answer refused = call("POST", "/v1.0/subscriptions", sub);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body["error"]["code"], "ValidationError");

  Answer ev =
      call("POST", events_path(), event("Notify me", "2030-11-01T10:00:00", "2030-11-01T11:00:00"));
  ASSERT_EQ(ev.status, 201);
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return !notifications.empty(); }));
    const json& n = notifications[0]["value"][0];
    EXPECT_EQ(n["changeType"], "created");
    EXPECT_EQ(n["clientState"], "secret-state");
    EXPECT_EQ(n["resourceData"]["id"], ev.body["id"]);
    EXPECT_EQ(n["subscriptionId"], created.body["id"]);
  }
  const std::string sub_path = "/v1.0/subscriptions/" + created.body["id"].get<std::string>();
  Answer renewed = call("PATCH", sub_path, {{"expirationDateTime", expires}});
  EXPECT_EQ(renewed.status, 200);
  EXPECT_EQ(call("DELETE", sub_path).status, 204);
  EXPECT_EQ(call("GET", sub_path).status, 404);
  receiver.stop();
  rt.join();
}

TEST_F(GraphApiTest, InvitationsRecordedOnlyForAttendees) {
  json with = event("Meeting", "2030-12-01T10:00:00", "2030-12-01T11:00:00");
  with["attendees"] = {
      {{"type", "required"}, {"emailAddress", {{"address", "bob@example.com"}, {"name", "Bob"}}}}};
  ASSERT_EQ(
      call("POST", events_path(), event("Alone", "2030-12-02T10:00:00", "2030-12-02T11:00:00"))
          .status,
      201);
  ASSERT_EQ(call("POST", events_path(), with).status, 201);
  auto res = client_->Get("/exsim/admin/outbox", {{"X-Exsim-Admin-Token", "admin"}});
  ASSERT_TRUE(res);
  json outbox = json::parse(res->body);
  const json& messages = outbox.is_array() ? outbox : outbox["messages"];
  ASSERT_EQ(messages.size(), 1u) << outbox.dump();
  EXPECT_EQ(messages[0]["kind"], "MeetingRequest");
}

}  // namespace
}  // namespace exsim

namespace exsim {
namespace {

// Documented Graph examples (../shared/conformance/graph-examples): exsim answers each
// published request with the status and the JSON shape of the published response.
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Members exsim answers with null where the documented example had a value (not modelled).
bool may_be_null(const std::string& key) {
  static const std::set<std::string> kNullable = {"transactionId", "onlineMeetingUrl",
                                                  "onlineMeeting", "recurrence", "seriesMasterId"};
  return kNullable.count(key) > 0;
}

// Every member of `doc` is in `ours` with the same JSON type, recursively; problems go to `out`.
void compare_shape(const json& doc, const json& ours, const std::string& where,
                   std::vector<std::string>& out) {
  if (doc.is_null()) return;
  if (doc.is_object()) {
    if (!ours.is_object()) {
      out.push_back(where + ": not an object");
      return;
    }
    for (const auto& [key, value] : doc.items()) {
      if (key.starts_with("@odata.") && key != "@odata.etag") continue;
      auto it = ours.find(key);
      if (it == ours.end()) {
        out.push_back(where + "." + key + ": missing");
      } else if (!(it->is_null() && may_be_null(key))) {
        compare_shape(value, *it, where + "." + key, out);
      }
    }
    return;
  }
  if (doc.is_array()) {
    if (!ours.is_array()) {
      out.push_back(where + ": not an array");
    } else if (!doc.empty() && !ours.empty()) {
      compare_shape(doc[0], ours[0], where + "[0]", out);
    }
    return;
  }
  if (doc.type() != ours.type() && !(doc.is_number() && ours.is_number())) {
    out.push_back(where + ": type differs (" + doc.dump() + " vs " + ours.dump() + ")");
  }
}

TEST_F(GraphApiTest, DocumentedExamplesAnsweredInTheDocumentedShape) {
  const std::string dir = std::string(AGENDASYNC_CONFORMANCE_DIR) + "/graph-examples/";
  // A daily series since 2019 with an attendee and a location covers every documented window.
  json seed = event("Seed", "2019-01-01T09:00:00", "2019-01-01T09:30:00", "Pacific Standard Time");
  seed["location"] = {{"displayName", "Room"}};
  seed["attendees"] = {
      {{"type", "required"}, {"emailAddress", {{"address", "bob@example.com"}, {"name", "Bob"}}}}};
  seed["recurrence"] = {{"pattern", {{"type", "daily"}, {"interval", 1}}},
                        {"range", {{"type", "noEnd"}, {"startDate", "2019-01-01"}}}};
  Answer master = call("POST", events_path(), seed);
  ASSERT_EQ(master.status, 201) << master.body.dump();
  const std::string id = master.body["id"];
  const std::string calendar_id =
      call("GET", fmt::format("/v1.0/users/{}/calendar", kUser)).body["id"];
  const std::vector<std::pair<std::string, std::string>> examples = {
      {"user-post-events__02__request__create_event_from_user",
       "user-post-events__03__response__create_event_from_user"},
      {"calendar-post-events__04__request__create_event_from_calendar",
       "calendar-post-events__05__response"},
      {"event-get__02__request__get_event", "event-get__03__response"},
      {"user-list-events__02__request__get_events", "user-list-events__03__response"},
      {"user-list-calendarview__04__request__user_get_calendarview",
       "user-list-calendarview__05__response"},
      {"event-list-instances__02__request__get_instances",
       "event-list-instances__03__response__get_instances"},
      {"event-update__02__request__update_event", "event-update__03__response"},
      {"event-delta__02__request__event_delta", "event-delta__03__response"},
  };
  int checked = 0;
  for (const auto& [request_name, response_name] : examples) {
    const std::string request = read_text(dir + request_name + ".http");
    const std::string response = read_text(dir + response_name + ".http");
    ASSERT_FALSE(request.empty()) << request_name;
    ASSERT_FALSE(response.empty()) << response_name;
    std::istringstream lines(request);
    std::string method, url, line;
    lines >> method >> url;
    std::getline(lines, line);
    httplib::Headers headers;
    while (std::getline(lines, line) && !line.empty() && line != "\r") {
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      if (name == "Prefer") headers.emplace(name, line.substr(colon + 2));
    }
    url = url.substr(url.find("/v1.0"));
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"/v1.0/me/", fmt::format("/v1.0/users/{}/", kUser)},
             {"{start_datetime}", "2030-01-01T00:00:00Z"},
             {"{end_datetime}", "2030-01-03T00:00:00Z"},
             {"{id}", id}}) {
      if (auto at = url.find(from); at != std::string::npos) url.replace(at, from.size(), to);
    }
    if (auto at = url.find("/calendars/"); at != std::string::npos) {
      url.replace(at + 11, url.find('/', at + 11) - at - 11, calendar_id);
    }
    if (auto at = url.find("/events/"); at != std::string::npos) {
      auto end = url.find_first_of("/?", at + 8);
      url.replace(at + 8, (end == std::string::npos ? url.size() : end) - at - 8, id);
    }
    json body = nullptr;
    if (std::string text = read_text(dir + request_name + ".body.json"); !text.empty()) {
      body = json::parse(text);
    }
    Answer ours = call(method, url, body, headers);
    const int documented_status = std::stoi(response.substr(response.find(' ') + 1, 3));
    EXPECT_EQ(ours.status, documented_status)
        << request_name << " " << url << ": " << ours.body.dump();
    json documented = json::parse(read_text(dir + response_name + ".body.json"), nullptr, false);
    ASSERT_FALSE(documented.is_discarded()) << response_name;
    std::vector<std::string> problems;
    compare_shape(documented, ours.body, response_name, problems);
    for (const std::string& p : problems) ADD_FAILURE() << p;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(examples.size()));
}

}  // namespace
}  // namespace exsim
