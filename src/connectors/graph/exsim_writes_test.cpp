// The Graph connector writes through exsim's $batch: create/update/delete with the idempotency
// key, all-day without a shift, a throttled batch written exactly once, every mapped field and
// other clients' IANA zones and online meetings.
#include <gtest/gtest.h>

#include "connectors/graph/testing/graph_exsim_fixture.h"

namespace agendasync::graph::exsim_testing {
namespace {

TEST_F(GraphExsimTest, CreateUpdateDeleteThroughBatchWithTheIdempotencyKey) {
  auto graph = side("jdoe@example.com");
  std::vector<Write> writes;
  for (int i = 0; i < 25; ++i) {
    auto item = timed(fmt::format("Batch {:02}", i), day(10 + i / 8, 8 + i % 8));
    // R39: attendees of a synced item never become a meeting request.
    if (i == 0) item.attendees.push_back({{"Ann", "ann@example.org"}, AttendeeRole::kRequired, {}});
    writes.push_back(create(std::move(item), fmt::format("key-batch-{}", i)));
  }
  const int batches_before = http_->batches;
  auto created = apply_all(graph, writes);
  ASSERT_EQ(created.size(), 25u);
  EXPECT_EQ(http_->batches - batches_before, 2) << "25 writes: two $batch POSTs of at most 20";
  int with_key = 0;
  for (const auto& item : calendar("jdoe@example.com")) {
    if (item.value("subject", "").starts_with("Batch ")) {
      with_key += item.dump().find("key-batch-") != std::string::npos;
    }
  }
  EXPECT_EQ(with_key, 25);

  auto found = graph.find_by_key(IdempotencyKey("key-batch-7"));
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->ref, created[7].ref);
  EXPECT_EQ((*found)->item.subject, "Batch 07");

  Write update;
  update.op = WriteOp::kUpdate;
  update.ref = created[7].ref;
  update.expected = created[7].version;
  update.previous = created[7].item;
  update.item = created[7].item;
  update.item.subject = "Batch 07 (moved)";
  update.item.location = "Room 4";
  auto updated = apply_all(graph, {update});
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_NE(updated[0].version, created[7].version);
  EXPECT_EQ(updated[0].item.start, created[7].item.start) << "a subject edit moves nothing";

  // The old version no longer matches: If-Match refuses it (no lost update).
  Write stale = update;
  stale.item.subject = "Stale";
  auto refused = graph.apply(std::vector<Write>{stale});
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_FALSE(refused[0].outcome);
  EXPECT_EQ(refused[0].outcome.error().kind, ErrorKind::kConflict);

  Write remove;
  remove.op = WriteOp::kDelete;
  remove.ref = created[8].ref;
  remove.expected = created[8].version;
  apply_all(graph, {remove});
  std::set<std::string> subjects;
  for (const auto& item : calendar("jdoe@example.com")) subjects.insert(item.value("subject", ""));
  EXPECT_TRUE(subjects.contains("Batch 07 (moved)"));
  EXPECT_FALSE(subjects.contains("Batch 08"));
  EXPECT_FALSE(subjects.contains("Stale"));
}

TEST_F(GraphExsimTest, AllDayComesBackOnTheSameDatesWhateverTheZone) {
  auto graph = side("jdoe@example.com");
  std::vector<Write> writes;
  int n = 0;
  for (const char* zone : {"Pacific/Auckland", "America/Los_Angeles", "UTC"}) {
    Appointment item;
    item.subject = fmt::format("Holiday {}", zone);
    item.all_day = true;
    item.start = floor<days>(day(20 + n));
    item.end = item.start + days{2};
    item.time_zone = zone;
    writes.push_back(create(item, fmt::format("key-all-day-{}", n++)));
  }
  auto created = apply_all(graph, writes);
  ASSERT_EQ(created.size(), 3u);
  std::vector<ItemRef> refs;
  for (const auto& item : created) refs.push_back(item.ref);
  auto fetched = graph.fetch(refs);
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 3u);
  for (std::size_t i = 0; i < fetched->size(); ++i) {
    const auto& read = (*fetched)[i].item;
    EXPECT_TRUE(read.all_day) << read.subject;
    EXPECT_EQ(read.start, writes[i].item.start) << read.subject;
    EXPECT_EQ(read.end, writes[i].item.end) << read.subject;
  }
}

TEST_F(GraphExsimTest, ThrottledBatchWaitsForRetryAfterAndWritesExactlyOnce) {
  auto graph = side("throttle@example.com");
  const auto before = calendar("throttle@example.com").size();
  // 429 on the $batch POST: Exchange did nothing, so sending it again after Retry-After is
  // safe; the item must land once.
  admin("POST", "/exsim/admin/faults", {{"server_busy_next", 1}, {"back_off_ms", 2000}});
  const std::vector<Write> writes{create(timed("Throttled once", day(40)), "key-throttled")};
  const auto started = steady_clock::now();
  auto written = apply_all(graph, writes);
  const auto waited = steady_clock::now() - started;
  admin("POST", "/exsim/admin/faults", {{"server_busy_next", 0}});
  ASSERT_EQ(written.size(), 1u);
  EXPECT_GE(waited, 1900ms) << "Retry-After: 2 must be waited out";
  EXPECT_EQ(calendar("throttle@example.com").size(), before + 1);
}

TEST_F(GraphExsimTest, EveryMappedFieldRoundTripsThroughExsim) {
  auto graph = side("other@example.com");
  Appointment html = timed("Planning", day(90, 8));
  html.time_zone = "Europe/Berlin";
  html.body = {BodyType::kHtml, "<p>Agenda</p>"};
  html.location = "Room 1";
  html.sensitivity = Sensitivity::kPrivate;
  html.show_as = ShowAs::kOutOfOffice;
  html.categories = {"Red category", "Kunde"};
  html.reminder = 15min;
  Appointment text = timed("Call", day(91, 15));
  text.time_zone = "America/New_York";
  text.body = {BodyType::kText, "plain\nsecond line"};
  text.sensitivity = Sensitivity::kConfidential;
  text.show_as = ShowAs::kTentative;
  text.reminder.reset();
  auto created =
      apply_all(graph, {create(html, "key-fields-html"), create(text, "key-fields-text")});
  ASSERT_EQ(created.size(), 2u);
  auto fetched = graph.fetch(std::vector<ItemRef>{created[0].ref, created[1].ref});
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const Appointment& want = i == 0 ? html : text;
    const Appointment& read = (*fetched)[i].item;
    EXPECT_EQ(read.subject, want.subject);
    EXPECT_EQ(read.body, want.body) << read.subject;
    EXPECT_EQ(read.location, want.location) << read.subject;
    EXPECT_EQ(read.start, want.start) << read.subject;
    EXPECT_EQ(read.end, want.end) << read.subject;
    EXPECT_EQ(read.time_zone, want.time_zone) << read.subject;
    EXPECT_EQ(read.sensitivity, want.sensitivity) << read.subject;
    EXPECT_EQ(read.show_as, want.show_as) << read.subject;
    EXPECT_EQ(read.categories, want.categories) << read.subject;
    EXPECT_EQ(read.reminder, want.reminder) << read.subject;
    EXPECT_TRUE(read.online_meeting_url.empty()) << read.subject;
  }
}

TEST_F(GraphExsimTest, IanaZonesAndOnlineMeetingsFromOtherClientsAreRead) {
  // Outlook on the web and Teams: an IANA zone name and an online meeting.
  auto graph = side("other@example.com");
  const Instant at = day(95, 14);
  const auto chicago = to_local(at, "America/Chicago");
  ASSERT_TRUE(chicago);
  const json made = graph_call(
      "POST", "/users/other@example.com/events",
      {{"subject", "Teams call"},
       {"start", {{"dateTime", format_date_time(*chicago)}, {"timeZone", "America/Chicago"}}},
       {"end", {{"dateTime", format_date_time(*chicago + 1h)}, {"timeZone", "America/Chicago"}}},
       {"isOnlineMeeting", true}});
  ASSERT_TRUE(made.is_object() && made.contains("id")) << made.dump();
  const ItemRef ref(made["id"].get<std::string>());
  auto fetched = graph.fetch(std::vector<ItemRef>{ref});
  ASSERT_TRUE(fetched && fetched->size() == 1u);
  const Appointment& read = fetched->front().item;
  EXPECT_EQ(read.start, at);
  EXPECT_EQ(read.end, at + 1h);
  EXPECT_EQ(read.time_zone, "America/Chicago");
  EXPECT_TRUE(read.online_meeting_url.starts_with("https://teams.microsoft.com/"))
      << read.online_meeting_url;
}

}  // namespace
}  // namespace agendasync::graph::exsim_testing
