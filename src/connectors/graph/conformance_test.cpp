// Every documented Graph example (graph-examples/index.json, json ok) that carries events,
// collections, $batch answers or errors is read by our parsers.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "connectors/graph/batch.h"
#include "connectors/graph/errors.h"
#include "connectors/graph/event_json.h"
#include "connectors/graph/recurrence_json.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

std::string examples_dir() { return std::string(AGENDASYNC_CONFORMANCE_DIR) + "/graph-examples/"; }

json load(const std::string& name) {
  std::ifstream in(examples_dir() + name);
  if (!in) return json();
  return json::parse(in, nullptr, false);
}

/// Objects that are events (a start with a dateTime), anywhere in `value`.
void collect_events(const json& value, std::vector<const json*>& out) {
  if (value.is_object()) {
    const auto start = value.find("start");
    if (start != value.end() && start->is_object() && start->contains("dateTime")) {
      out.push_back(&value);
    }
    for (const auto& [key, child] : value.items()) collect_events(child, out);
  } else if (value.is_array()) {
    for (const auto& child : value) collect_events(child, out);
  }
}

TEST(GraphConformance, EveryDocumentedEventParses) {
  const json index = load("index.json");
  ASSERT_TRUE(index.is_array()) << "missing " << examples_dir() << "index.json";
  int events = 0;
  int files = 0;
  for (const auto& entry : index) {
    if (!entry["json_ok"].is_boolean() || !entry["json_ok"].get<bool>()) continue;
    const std::string file = entry["body_file"].is_string() ? entry["body_file"].get<std::string>()
                                                            : entry["file"].get<std::string>();
    if (!file.ends_with(".json")) continue;
    const json body = load(file);
    ASSERT_FALSE(body.is_discarded()) << file;
    std::vector<const json*> found;
    collect_events(body, found);
    if (!found.empty()) ++files;
    for (const json* event : found) {
      auto parsed = parse_event(*event);
      ASSERT_TRUE(parsed) << file << ": " << parsed.error().message;
      EXPECT_GT(parsed->item.end, parsed->item.start - std::chrono::seconds(1)) << file;
      ++events;
    }
  }
  EXPECT_GE(files, 20);
  EXPECT_GE(events, 30);
}

TEST(GraphConformance, CreatedEventMapsEveryField) {
  const json body = load("user-post-events__03__response__create_event_from_user.body.json");
  auto event = parse_event(body);
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_FALSE(event->id.empty());
  EXPECT_FALSE(event->etag.empty());
  EXPECT_EQ(event->item.subject, body["subject"]);
  EXPECT_EQ(event->item.time_zone, "America/Los_Angeles");
  // 2017-04-15T11:00 Pacific (PDT, UTC-7) is 18:00 UTC.
  EXPECT_EQ(event->item.start,
            std::chrono::sys_days{std::chrono::year{2017} / 4 / 15} + std::chrono::hours(18));
  EXPECT_EQ(event->item.body.type, BodyType::kHtml);
  EXPECT_EQ(event->item.location, body["location"]["displayName"]);
  EXPECT_EQ(event->item.attendees.size(), body["attendees"].size());
  ASSERT_TRUE(event->item.organizer);
  EXPECT_EQ(event->item.organizer->email, body["organizer"]["emailAddress"]["address"]);
}

TEST(GraphConformance, OnlineMeetingJoinUrlIsRead) {
  const json body =
      load("user-post-events__09__response__create_event_from_user_with_online_meeting.body.json");
  auto event = parse_event(body);
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(event->item.online_meeting_url, body["onlineMeeting"]["joinUrl"]);
  EXPECT_FALSE(event->item.online_meeting_url.empty());
}

TEST(GraphConformance, InstancesCarryTheirTypes) {
  const json body = load("event-list-instances__03__response__get_instances.body.json");
  ASSERT_TRUE(body.contains("value"));
  int exceptions = 0;
  for (const auto& entry : body["value"]) {
    auto event = parse_event(entry);
    ASSERT_TRUE(event) << event.error().message;
    if (event->type == EventType::kException) ++exceptions;
    EXPECT_TRUE(event->type == EventType::kOccurrence || event->type == EventType::kException);
  }
  EXPECT_EQ(exceptions, 1);
}

TEST(GraphConformance, DeltaPagesCarryLinks) {
  int next = 0;
  int delta = 0;
  for (const char* file :
       {"delta-query-events__03__response.body.json", "delta-query-events__05__response.body.json",
        "delta-query-events__07__response.body.json", "delta-query-events__09__response.body.json",
        "event-delta__03__response.body.json"}) {
    const json body = load(file);
    ASSERT_TRUE(body.is_object()) << file;
    if (body.contains("@odata.nextLink")) ++next;
    if (body.contains("@odata.deltaLink")) ++delta;
    for (const auto& entry : body["value"]) EXPECT_TRUE(parse_event(entry)) << file;
  }
  EXPECT_GE(next, 1);
  EXPECT_GE(delta, 1);
}

TEST(GraphConformance, DocumentedRecurrencesRead) {
  int read = 0;
  for (int i = 1; i <= 15; ++i) {
    const std::string file = fmt::format("outlook-schedule-recurring-events__{:02}__json.json", i);
    json body = load(file);
    ASSERT_TRUE(body.is_object()) << file;
    if (body.contains("recurrence")) body = body["recurrence"];
    if (!body.contains("pattern")) continue;  // range-only snippets
    auto rule = rule_from_graph(body, "America/Los_Angeles", false);
    ASSERT_TRUE(rule) << file << ": " << rule.error().message;
    ++read;
  }
  EXPECT_GE(read, 8);
  json patterned = load("user-post-events__06__request__create_event_recurring.body.json");
  auto rule = rule_from_graph(patterned["recurrence"], "America/Los_Angeles", false);
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->freq, Frequency::kWeekly);
  ASSERT_TRUE(rule->until);
}

TEST(GraphConformance, BatchAnswerMapsBackById) {
  const json body = load("json-batching__03__json.json");
  ASSERT_TRUE(body.is_object());
  auto parsed = parse_batch_response(body.dump(), 5);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_TRUE((*parsed)[1]);
  EXPECT_EQ((*parsed)[1]->status, 302);
  ASSERT_TRUE((*parsed)[3]);
  EXPECT_EQ((*parsed)[3]->status, 401);
  EXPECT_EQ((*parsed)[4]->status, 204);
  EXPECT_FALSE((*parsed)[0]);  // no answer for id 0 in the example
}

TEST(GraphConformance, ErrorBodiesMapToKinds) {
  const json body = load("errors__01__json__example-error-response.json");
  ASSERT_TRUE(body.is_object());
  const Error error = graph_error(416, body.dump(), "uploading");
  EXPECT_EQ(error.kind, ErrorKind::kInvalidData);
  EXPECT_EQ(error.protocol_code, "invalidRange");
  EXPECT_NE(error.message.find("Uploaded fragment overlaps"), std::string::npos);
  const json throttled = load("throttling__01__response.body.json");
  ASSERT_TRUE(throttled.is_object());
  const Error busy = graph_error(429, throttled.dump(), "reading", std::chrono::seconds(7));
  EXPECT_EQ(busy.kind, ErrorKind::kThrottled);
  EXPECT_EQ(busy.retry_after, std::chrono::milliseconds(7000));
  EXPECT_EQ(graph_error(410, R"({"error":{"code":"syncStateNotFound"}})", "delta").kind,
            ErrorKind::kCursorInvalid);
  EXPECT_EQ(graph_error(400, R"({"error":{"code":"resyncRequired"}})", "delta").kind,
            ErrorKind::kCursorInvalid);
  EXPECT_EQ(graph_error(412, R"({"error":{"code":"ErrorIrresolvableConflict"}})", "x").kind,
            ErrorKind::kConflict);
  EXPECT_EQ(graph_error(403, R"({"error":{"code":"ErrorAccessDenied"}})", "x").kind,
            ErrorKind::kPermission);
  EXPECT_EQ(graph_error(404, "", "x").kind, ErrorKind::kNotFound);
  EXPECT_EQ(graph_error(502, "<html>", "x").kind, ErrorKind::kTransient);
}

}  // namespace
}  // namespace agendasync::graph
