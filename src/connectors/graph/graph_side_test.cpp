// GraphSide against a fake HttpClient: delta paging and rounds, window moves, 410, 429 with
// Retry-After, $batch splitting and per-item results, If-Match, R39.
#include "connectors/graph/graph_side.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "connectors/graph/delta_cursor.h"
#include "net/testing/fake_http.h"

namespace agendasync::graph {
namespace {

using net::testing::FakeHttp;
using nlohmann::json;
using namespace std::chrono;

constexpr const char* kBase = "https://graph.test/v1.0";

net::Response answer(long status, const json& body,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  net::Response response;
  response.status = status;
  response.body = body.is_null() ? "" : body.dump();
  response.headers = std::move(headers);
  return response;
}

json event_json(const std::string& id, const std::string& master = {}) {
  json event = {{"id", id},
                {"@odata.etag", "W/\"" + id + "\""},
                {"subject", "S " + id},
                {"type", master.empty() ? "singleInstance" : "occurrence"},
                {"start", {{"dateTime", "2026-12-01T10:00:00.0000000"}, {"timeZone", "UTC"}}},
                {"end", {{"dateTime", "2026-12-01T11:00:00.0000000"}, {"timeZone", "UTC"}}}};
  // Graph writes null, not nothing, for a single event's seriesMasterId.
  event["seriesMasterId"] = master.empty() ? json(nullptr) : json(master);
  return event;
}

struct SideFixture : ::testing::Test {
  FakeHttp http;
  system_clock::time_point now = sys_days{year{2026} / 11 / 25} + hours(10);
  GraphSideOptions options() {
    GraphSideOptions o;
    o.base_url = kBase;
    o.mailbox = "ann@contoso.com";
    o.clock = [this] { return now; };
    o.batch.max_wait = milliseconds(50);
    return o;
  }
};

TEST_F(SideFixture, EmptyCursorPagesToTheDeltaLinkAndReportsNothing) {
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    if (request.url.find("skiptoken=P2") != std::string::npos) {
      return answer(200, {{"value", json::array({event_json("E2")})},
                          {"@odata.deltaLink", std::string(kBase) + "/delta?$deltatoken=T1"}});
    }
    return answer(200, {{"value", json::array({event_json("E1")})},
                        {"@odata.nextLink", std::string(kBase) + "/delta?$skiptoken=P2"}});
  };
  GraphSide side(http, {}, options());
  auto batch = side.changes_since(Cursor{});
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_TRUE(batch->changed.empty());
  ASSERT_EQ(http.requests.size(), 2u);
  const auto& first = http.requests[0].url;
  EXPECT_EQ(first,
            std::string(kBase) +
                "/users/ann%40contoso.com/calendarView/delta?startDateTime=2026-10-26T00%3A00%"
                "3A00Z&endDateTime=2027-11-25T00%3A00%3A00Z");
  bool prefer_utc = false;
  for (const auto& [name, value] : http.requests[0].headers) {
    if (name == "Prefer" && value.find("outlook.timezone=\"UTC\"") != std::string::npos)
      prefer_utc = true;
  }
  EXPECT_TRUE(prefer_utc);
  const auto cursor = decode_cursor(batch->next);
  ASSERT_TRUE(cursor);
  EXPECT_EQ(cursor->delta_link, std::string(kBase) + "/delta?$deltatoken=T1");
}

TEST_F(SideFixture, DeltaRoundReportsSinglesMastersAndRemovals) {
  int calls = 0;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    ++calls;
    if (request.url.find("deltatoken=T0") != std::string::npos) {
      // The initial round saw occurrence O1 of series M.
      return answer(200, {{"value", json::array({event_json("O1", "M")})},
                          {"@odata.deltaLink", std::string(kBase) + "/delta?$deltatoken=T1"}});
    }
    return answer(
        200, {{"value", json::array({event_json("E1"), event_json("O2", "M"),
                                     json{{"id", "X"}, {"@removed", {{"reason", "deleted"}}}},
                                     json{{"id", "O1"}, {"@removed", {{"reason", "deleted"}}}}})},
              {"@odata.deltaLink", std::string(kBase) + "/delta?$deltatoken=T2"}});
  };
  GraphSide side(http, {}, options());
  const auto [from, to] = side.current_window();
  auto learn =
      side.changes_since(encode_cursor({from, to, std::string(kBase) + "/delta?$deltatoken=T0"}));
  ASSERT_TRUE(learn) << learn.error().message;
  EXPECT_EQ(learn->changed, std::vector<ItemRef>{ItemRef("M")});
  auto batch = side.changes_since(learn->next);
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(batch->changed, (std::vector<ItemRef>{ItemRef("E1"), ItemRef("M")}));
  // X is unknown: deleted; O1 is a known occurrence: its series changed instead.
  EXPECT_EQ(batch->deleted, std::vector<ItemRef>{ItemRef("X")});
  EXPECT_EQ(decode_cursor(batch->next)->delta_link, std::string(kBase) + "/delta?$deltatoken=T2");
}

TEST_F(SideFixture, ExpiredDeltaTokenIsCursorInvalid) {
  http.handler = [&](const net::Request&) -> Result<net::Response> {
    return answer(410, {{"error", {{"code", "SyncStateNotFound"}, {"message", "expired"}}}});
  };
  GraphSide side(http, {}, options());
  const auto [from, to] = side.current_window();
  auto batch =
      side.changes_since(encode_cursor({from, to, std::string(kBase) + "/delta?$deltatoken=T"}));
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kCursorInvalid);
  auto garbage = side.changes_since(Cursor("not a cursor"));
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().kind, ErrorKind::kCursorInvalid);
}

TEST_F(SideFixture, ThrottlingCarriesRetryAfter) {
  http.handler = [&](const net::Request&) -> Result<net::Response> {
    return answer(429, {{"error", {{"code", "ApplicationThrottled"}}}}, {{"retry-after", "7"}});
  };
  GraphSide side(http, {}, options());
  auto batch = side.changes_since(Cursor{});
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().kind, ErrorKind::kThrottled);
  EXPECT_EQ(batch.error().retry_after, milliseconds(7000));
  EXPECT_EQ(http.requests.size(), 1u);  // nothing retried forever
}

TEST_F(SideFixture, WindowMoveStartsANewRoundAndReportsOnlyEnteringItems) {
  GraphSide side(http, {}, options());
  const auto [old_from, old_to] = side.current_window();
  now += days(10);
  const auto [new_from, new_to] = side.current_window();
  ASSERT_GT(new_from, old_from);
  std::vector<std::string> order;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    if (request.url.find("startDateTime") != std::string::npos) {
      order.push_back("new");
      json inside = event_json("OLD");  // 2026-12-01: was in the old window already
      json entering = event_json("NEW");
      entering["start"]["dateTime"] = "2027-11-30T10:00:00.0000000";
      entering["end"]["dateTime"] = "2027-11-30T11:00:00.0000000";
      return answer(200, {{"value", json::array({inside, entering})},
                          {"@odata.deltaLink", std::string(kBase) + "/delta?$deltatoken=N1"}});
    }
    order.push_back("old");
    return answer(200, {{"value", json::array()},
                        {"@odata.deltaLink", std::string(kBase) + "/delta?$deltatoken=O2"}});
  };
  auto batch = side.changes_since(
      encode_cursor({old_from, old_to, std::string(kBase) + "/delta?$deltatoken=O1"}));
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(order, (std::vector<std::string>{"new", "old"}));
  EXPECT_EQ(batch->changed, std::vector<ItemRef>{ItemRef("NEW")});
  EXPECT_TRUE(batch->deleted.empty());
  const auto cursor = decode_cursor(batch->next);
  EXPECT_EQ(cursor->from, new_from);
  EXPECT_EQ(cursor->delta_link, std::string(kBase) + "/delta?$deltatoken=N1");
}

TEST_F(SideFixture, WritesAreBatchedTwentyAtATimeWithPerItemResults) {
  std::vector<std::size_t> batch_sizes;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    EXPECT_EQ(request.url, std::string(kBase) + "/$batch");
    const auto body = json::parse(request.body);
    batch_sizes.push_back(body["requests"].size());
    json responses = json::array();
    for (const auto& sub : body["requests"]) {
      EXPECT_EQ(sub["method"], "DELETE");
      EXPECT_EQ(sub["headers"]["If-Match"], "W/\"v\"");
      const bool conflict = sub["url"].get<std::string>().ends_with("/events/id7");
      responses.push_back(json{{"id", sub["id"]}, {"status", conflict ? 412 : 204}});
    }
    std::reverse(responses.begin(), responses.end());  // Graph answers in any order
    return answer(200, {{"responses", responses}});
  };
  GraphSide side(http, {}, options());
  std::vector<Write> writes;
  for (int i = 0; i < 45; ++i) {
    Write write;
    write.op = WriteOp::kDelete;
    write.ref = ItemRef("id" + std::to_string(i));
    write.expected = VersionTag("W/\"v\"");
    writes.push_back(write);
  }
  const auto results = side.apply(writes);
  EXPECT_EQ(batch_sizes, (std::vector<std::size_t>{20, 20, 5}));
  ASSERT_EQ(results.size(), 45u);
  for (int i = 0; i < 45; ++i) {
    if (i == 7) {
      ASSERT_FALSE(results[i].outcome);
      EXPECT_EQ(results[i].outcome.error().kind, ErrorKind::kConflict);
    } else {
      ASSERT_TRUE(results[i].outcome) << i;
      EXPECT_EQ(results[i].outcome->ref.str(), "id" + std::to_string(i));
    }
  }
}

TEST_F(SideFixture, ThrottledBatchMembersAreSentAgainBounded) {
  int posts = 0;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    ++posts;
    const auto body = json::parse(request.body);
    json responses = json::array();
    for (const auto& sub : body["requests"]) {
      // The first POST throttles everything; later ones let it through.
      if (posts == 1) {
        responses.push_back(json{{"id", sub["id"]},
                                 {"status", 429},
                                 {"headers", {{"Retry-After", "0"}}},
                                 {"body", {{"error", {{"code", "MailboxConcurrency"}}}}}});
      } else {
        responses.push_back(json{{"id", sub["id"]}, {"status", 204}});
      }
    }
    return answer(200, {{"responses", responses}});
  };
  GraphSide side(http, {}, options());
  Write write;
  write.op = WriteOp::kDelete;
  write.ref = ItemRef("a");
  const auto results = side.apply(std::span(&write, 1));
  ASSERT_TRUE(results[0].outcome) << results[0].outcome.error().message;
  EXPECT_EQ(posts, 2);

  posts = 0;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    ++posts;
    const auto body = json::parse(request.body);
    return answer(200, {{"responses", json::array({json{{"id", body["requests"][0]["id"]},
                                                        {"status", 429},
                                                        {"headers", {{"Retry-After", "0"}}}}})}});
  };
  const auto throttled = side.apply(std::span(&write, 1));
  ASSERT_FALSE(throttled[0].outcome);
  EXPECT_EQ(throttled[0].outcome.error().kind, ErrorKind::kThrottled);
  EXPECT_EQ(posts, 4);  // first try + 3 bounded rounds
}

TEST_F(SideFixture, CreateStampsTheKeyAndNeverInvites) {
  json sent;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    const auto body = json::parse(request.body);
    sent = body["requests"][0];
    json created = event_json("NEWID");
    return answer(
        200, {{"responses", json::array({json{{"id", "0"}, {"status", 201}, {"body", created}}})}});
  };
  GraphSide side(http, {}, options());
  Write write;
  write.op = WriteOp::kCreate;
  write.key = IdempotencyKey("k-42");
  write.item.subject = "Visit";
  write.item.start = sys_days{year{2026} / 12 / 1} + hours(10);
  write.item.end = write.item.start + hours(1);
  write.item.attendees = {Attendee{{"Bob", "bob@example.com"}, AttendeeRole::kRequired, {}}};
  const auto results = side.apply(std::span(&write, 1));
  ASSERT_TRUE(results[0].outcome) << results[0].outcome.error().message;
  EXPECT_EQ(results[0].outcome->ref.str(), "NEWID");
  EXPECT_EQ(results[0].outcome->version.str(), "W/\"NEWID\"");
  EXPECT_EQ(results[0].outcome->idempotency_key, IdempotencyKey("k-42"));
  EXPECT_EQ(sent["method"], "POST");
  EXPECT_EQ(sent["url"], "/users/ann%40contoso.com/events");
  EXPECT_FALSE(sent["body"].contains("attendees"));
  EXPECT_EQ(sent["body"]["singleValueExtendedProperties"][0]["value"], "k-42");
  EXPECT_EQ(sent["body"]["singleValueExtendedProperties"][0]["id"], kKeyPropertyId);

  // Only a write that asks for invitations (a real-meetings setting) gets real attendees.
  write.send_invitations = true;
  ASSERT_TRUE(side.apply(std::span(&write, 1))[0].outcome);
  ASSERT_TRUE(sent["body"].contains("attendees"));
  EXPECT_EQ(sent["body"]["attendees"][0]["emailAddress"]["address"], "bob@example.com");
}

TEST(GraphBudgetKey, OneBudgetPerAppAndMailbox) {
  // Outlook's limits count per app and mailbox: another tenant's app, or another mailbox, is
  // another budget on the same host; the address compares without case.
  const std::string key = mailbox_budget_key("app-a", "Ann@Contoso.com");
  EXPECT_EQ(key, mailbox_budget_key("app-a", "ann@contoso.com"));
  EXPECT_NE(key, mailbox_budget_key("app-b", "ann@contoso.com"));
  EXPECT_NE(key, mailbox_budget_key("app-a", "bob@contoso.com"));
}

TEST_F(SideFixture, ReadsAndBatchesSpendTheMailboxBudgetOfTheApp) {
  std::vector<net::Request> seen;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    seen.push_back(request);
    if (request.method == "GET") {
      return answer(200, {{"value", json::array()},
                          {"@odata.deltaLink", std::string(kBase) + "/delta?$deltatoken=T1"}});
    }
    return answer(200, {{"responses", json::array({json{{"id", "0"}, {"status", 204}}})}});
  };
  GraphSideOptions o = options();
  o.app_id = "app-a";
  GraphSide side(http, {}, o);
  ASSERT_TRUE(side.changes_since(Cursor{}));
  Write write;
  write.op = WriteOp::kDelete;
  write.ref = ItemRef("E1");
  side.apply(std::span(&write, 1));
  ASSERT_GE(seen.size(), 2u);
  for (const auto& request : seen) {
    EXPECT_EQ(request.budget_key, mailbox_budget_key("app-a", "ann@contoso.com")) << request.url;
    EXPECT_EQ(request.budget_limit, 4) << request.url;
  }
  EXPECT_EQ(seen.back().method, "POST") << "the $batch carries it too";
}

TEST_F(SideFixture, UpdatePatchesOnlyChangedFieldsWithIfMatch) {
  json sent;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    sent = json::parse(request.body)["requests"][0];
    return answer(200,
                  {{"responses",
                    json::array({json{{"id", "0"}, {"status", 200}, {"body", event_json("E")}}})}});
  };
  GraphSide side(http, {}, options());
  Write write;
  write.op = WriteOp::kUpdate;
  write.ref = ItemRef("E");
  write.expected = VersionTag("W/\"E0\"");
  write.item.subject = "New";
  write.item.start = sys_days{year{2026} / 12 / 1} + hours(10);
  write.item.end = write.item.start + hours(1);
  write.previous = write.item;
  write.previous->subject = "Old";
  const auto results = side.apply(std::span(&write, 1));
  ASSERT_TRUE(results[0].outcome) << results[0].outcome.error().message;
  EXPECT_EQ(sent["method"], "PATCH");
  EXPECT_EQ(sent["headers"]["If-Match"], "W/\"E0\"");
  EXPECT_EQ(sent["body"], json({{"subject", "New"}}));
}

TEST_F(SideFixture, R41_AStampPatchesOnlyTheKeyWithIfMatch) {
  std::vector<json> sent;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    sent.push_back(json::parse(request.body)["requests"][0]);
    return answer(200,
                  {{"responses",
                    json::array({json{{"id", "0"}, {"status", 200}, {"body", event_json("E")}}})}});
  };
  GraphSide side(http, {}, options());
  Write write;
  write.op = WriteOp::kStampKey;
  write.ref = ItemRef("E");
  write.expected = VersionTag("W/\"E0\"");
  write.key = IdempotencyKey("as1-stamp");
  write.item.subject = "Made in Outlook";
  write.item.start = sys_days{year{2026} / 12 / 1} + hours(10);
  write.item.end = write.item.start + hours(1);
  // A series: its exceptions must not be written again by a stamp.
  write.item.recurrence = Recurrence{};
  write.item.recurrence->rule.freq = Frequency::kDaily;
  write.item.recurrence->rule.count = 3;
  write.item.recurrence->exdates = {write.item.start + std::chrono::days{1}};
  write.previous = write.item;
  const auto results = side.apply(std::span(&write, 1));
  ASSERT_TRUE(results[0].outcome) << results[0].outcome.error().message;
  ASSERT_EQ(sent.size(), 1u) << "one PATCH, no exception writes";
  EXPECT_EQ(sent[0]["method"], "PATCH");
  EXPECT_EQ(sent[0]["headers"]["If-Match"], "W/\"E0\"");
  EXPECT_EQ(sent[0]["body"],
            json({{"singleValueExtendedProperties",
                   json::array({json{{"id", kKeyPropertyId}, {"value", "as1-stamp"}}})}}));
  EXPECT_EQ(results[0].outcome->idempotency_key, IdempotencyKey("as1-stamp"));
}

TEST_F(SideFixture, R41_AnUpdateCarryingTheKeyPatchesItWithTheChange) {
  json sent;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    sent = json::parse(request.body)["requests"][0];
    return answer(200,
                  {{"responses",
                    json::array({json{{"id", "0"}, {"status", 200}, {"body", event_json("E")}}})}});
  };
  GraphSide side(http, {}, options());
  Write write;
  write.op = WriteOp::kUpdate;
  write.ref = ItemRef("E");
  write.key = IdempotencyKey("as1-carried");
  write.item.subject = "New";
  write.item.start = sys_days{year{2026} / 12 / 1} + hours(10);
  write.item.end = write.item.start + hours(1);
  write.previous = write.item;
  write.previous->subject = "Old";
  ASSERT_TRUE(side.apply(std::span(&write, 1))[0].outcome);
  EXPECT_EQ(sent["body"]["subject"], "New");
  EXPECT_EQ(sent["body"]["singleValueExtendedProperties"][0]["value"], "as1-carried");
}

TEST_F(SideFixture, FetchReadsEventsAndSkipsMissingOnes) {
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    const auto body = json::parse(request.body);
    EXPECT_NE(body["requests"][0]["url"].get<std::string>().find("singleValueExtendedProperties"),
              std::string::npos);
    json found = event_json("A");
    found["singleValueExtendedProperties"] =
        json::array({json{{"id", kKeyPropertyId}, {"value", "key-A"}}});
    return answer(200,
                  {{"responses",
                    json::array({json{{"id", "0"}, {"status", 200}, {"body", found}},
                                 json{{"id", "1"},
                                      {"status", 404},
                                      {"body", {{"error", {{"code", "ErrorItemNotFound"}}}}}}})}});
  };
  GraphSide side(http, {}, options());
  const std::vector<ItemRef> refs = {ItemRef("A"), ItemRef("B")};
  auto items = side.fetch(refs);
  ASSERT_TRUE(items) << items.error().message;
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].ref.str(), "A");
  EXPECT_EQ((*items)[0].idempotency_key, IdempotencyKey("key-A"));
  EXPECT_EQ((*items)[0].item.subject, "S A");
}

TEST_F(SideFixture, FindByKeyFiltersOnTheExtendedProperty) {
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    if (request.method == "GET") {
      EXPECT_NE(
          request.url.find("%24filter=") == std::string::npos ? request.url.find("$filter=") : 0,
          std::string::npos);
      EXPECT_NE(request.url.find("AgendaSyncKey"), std::string::npos);
      return answer(200, {{"value", json::array()}});
    }
    return answer(500, {});
  };
  GraphSide side(http, {}, options());
  auto found = side.find_by_key(IdempotencyKey("it's"));
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->has_value());
}

TEST_F(SideFixture, ListReadsSeriesWithExceptionsFromInstances) {
  json master = event_json("M");
  master["type"] = "seriesMaster";
  master["start"]["dateTime"] = "2026-12-07T10:00:00.0000000";
  master["end"]["dateTime"] = "2026-12-07T11:00:00.0000000";
  master["originalStartTimeZone"] = "UTC";
  master["recurrence"] = {
      {"pattern", {{"type", "weekly"}, {"interval", 1}, {"daysOfWeek", {"monday"}}}},
      {"range", {{"type", "numbered"}, {"startDate", "2026-12-07"}, {"numberOfOccurrences", 3}}}};
  const auto instance = [](const std::string& id, const std::string& type, const std::string& day,
                           const std::string& start) {
    json event = event_json(id, "M");
    event["type"] = type;
    event["originalStart"] = day + "T10:00:00Z";
    event["start"]["dateTime"] = day + "T" + start + ".0000000";
    event["end"]["dateTime"] = day + "T23:00:00.0000000";
    return event;
  };
  std::vector<std::string> urls;
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    urls.push_back(request.url);
    if (request.url.find("/calendarView/delta") != std::string::npos) {
      return answer(200, {{"value", json::array()},
                          {"@odata.deltaLink", std::string(kBase) + "/delta?$deltatoken=L"}});
    }
    if (request.url.find("/calendarView?") != std::string::npos) {
      return answer(200, {{"value", json::array({event_json("O1", "M"), event_json("S")})}});
    }
    if (request.url.ends_with("/$batch")) {
      const auto body = json::parse(request.body);
      json responses = json::array();
      for (const auto& sub : body["requests"]) {
        const bool is_master =
            sub["url"].get<std::string>().find("/events/M?") != std::string::npos;
        responses.push_back(json{
            {"id", sub["id"]}, {"status", 200}, {"body", is_master ? master : event_json("S")}});
      }
      return answer(200, {{"responses", responses}});
    }
    if (request.url.find("/events/M/instances?") != std::string::npos) {
      // Week 2 moved to 14:00, week 3 cancelled (absent).
      return answer(
          200, {{"value", json::array({instance("I1", "occurrence", "2026-12-07", "10:00:00"),
                                       instance("I2", "exception", "2026-12-14", "14:00:00")})}});
    }
    return answer(404, {{"error", {{"code", "ResourceNotFound"}}}});
  };
  GraphSide side(http, {}, options());
  const TimeWindow window{sys_days{year{2026} / 12 / 1}, sys_days{year{2027} / 1 / 1}};
  auto listed = side.list(window);
  ASSERT_TRUE(listed) << listed.error().message;
  auto& [items, cursor] = *listed;
  ASSERT_EQ(items.size(), 2u);
  const SideItem& series = items[0].ref.str() == "M" ? items[0] : items[1];
  ASSERT_TRUE(series.item.recurrence);
  EXPECT_EQ(series.item.recurrence->rule.count, 3);
  ASSERT_EQ(series.item.recurrence->exdates.size(), 1u);
  EXPECT_EQ(series.item.recurrence->exdates[0], sys_days{year{2026} / 12 / 21} + hours(10));
  ASSERT_EQ(series.item.recurrence->overrides.size(), 1u);
  EXPECT_EQ(series.item.recurrence->overrides[0].start, sys_days{year{2026} / 12 / 14} + hours(14));
  EXPECT_EQ(decode_cursor(cursor)->delta_link, std::string(kBase) + "/delta?$deltatoken=L");
  EXPECT_NE(urls[0].find("/calendarView/delta"), std::string::npos);  // cursor first
}

TEST(MailboxGate, NeverMoreThanTheLimitInFlight) {
  MailboxGate gate(4);
  std::atomic<int> current{0};
  std::atomic<int> peak{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      MailboxGate::Slot slot(gate);
      const int now_in = ++current;
      int seen = peak.load();
      while (now_in > seen && !peak.compare_exchange_weak(seen, now_in)) {
      }
      std::this_thread::sleep_for(milliseconds(20));
      --current;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(peak.load(), 4);
  EXPECT_GE(peak.load(), 2);
}

}  // namespace
}  // namespace agendasync::graph
