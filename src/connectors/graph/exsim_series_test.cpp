// Recurring series through exsim: exceptions and deleted occurrences through /instances, a
// series created with exceptions, Outlook's occurrence edits through delta, an occurrence
// update that patches only that instance, a new pattern, patterned recurrences.
#include <gtest/gtest.h>

#include "connectors/graph/testing/graph_exsim_fixture.h"

namespace agendasync::graph::exsim_testing {
namespace {

TEST_F(GraphExsimTest, SeriesWithAnExceptionAndADeletedOccurrenceThroughInstances) {
  auto graph = side("jdoe@example.com");
  Appointment series = timed("Weekly sync", day(14, 10));
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kWeekly;
  series.recurrence->rule.count = 6;
  series.recurrence->rule.by_day = {WeekdayNum{0, weekday{floor<days>(series.start)}}};
  auto created = apply_all(graph, {create(series, "key-series")});
  ASSERT_EQ(created.size(), 1u);

  // Outlook-like edits through the side's occurrence writes: move the 2nd, delete the 4th.
  const Instant second = series.start + days{7};
  const Instant fourth = series.start + days{21};
  Appointment changed = created[0].item;
  OccurrenceOverride moved;
  moved.recurrence_id = second;
  moved.start = second + 2h;
  moved.end = second + 3h;
  moved.subject = "Weekly sync (later)";
  changed.recurrence->overrides.push_back(moved);
  Write move;
  move.op = WriteOp::kUpdate;
  move.ref = created[0].ref;
  move.expected = created[0].version;
  move.item = changed;
  move.previous = created[0].item;
  move.occurrence = second;
  Write drop;
  drop.op = WriteOp::kDelete;
  drop.ref = created[0].ref;
  drop.occurrence = fourth;
  apply_all(graph, {move});
  apply_all(graph, {drop});

  const int instance_reads_before = http_->instance_reads;
  auto fetched = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 1u);
  const auto& read = fetched->front().item;
  EXPECT_GT(http_->instance_reads - instance_reads_before, 0);
  ASSERT_TRUE(read.recurrence);
  EXPECT_EQ(read.recurrence->rule.count, 6);
  ASSERT_EQ(read.recurrence->overrides.size(), 1u);
  EXPECT_EQ(read.recurrence->overrides[0].recurrence_id, second);
  EXPECT_EQ(read.recurrence->overrides[0].start, second + 2h);
  EXPECT_EQ(read.recurrence->overrides[0].subject, "Weekly sync (later)");
  EXPECT_EQ(read.recurrence->exdates, std::vector<Instant>{fourth});
  // Written as "W. Europe Standard Time": read back as that Windows zone's CLDR primary.
  EXPECT_EQ(read.time_zone, "Europe/Berlin");
  // Outlook's view (the store): one exception, one deleted occurrence, the master as it was.
  const json master = stored("jdoe@example.com", created[0].ref.str());
  ASSERT_TRUE(master.is_object());
  EXPECT_EQ(master["subject"], "Weekly sync");
  EXPECT_EQ(master["start"], format_utc(series.start));
  EXPECT_EQ(master["modified_occurrences"], json::array({format_utc(second)}));
  EXPECT_EQ(master["deleted_occurrences"], json::array({format_utc(fourth)}));
}

TEST_F(GraphExsimTest, SeriesCreatedWithExceptionsRoundTrips) {
  // The engine's create of a series that already has a deleted and a modified occurrence.
  auto graph = side("jdoe@example.com");
  Appointment series = daily(timed("Monthly review", day(60, 13)), 4, 2);
  const Instant dropped = series.start + days{2};
  const Instant changed_at = series.start + days{4};
  series.recurrence->exdates = {dropped};
  OccurrenceOverride change;
  change.recurrence_id = changed_at;
  change.start = changed_at - 1h;
  change.end = changed_at + 30min;
  change.subject = "Monthly review (longer)";
  change.location = "Board room";
  change.show_as = ShowAs::kTentative;
  change.sensitivity = Sensitivity::kPrivate;
  series.recurrence->overrides = {change};
  auto created = apply_all(graph, {create(series, "key-review")});
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].idempotency_key, IdempotencyKey("key-review"));
  ASSERT_TRUE(created[0].item.recurrence);
  EXPECT_EQ(created[0].item.recurrence->exdates, std::vector<Instant>{dropped});
  EXPECT_EQ(created[0].item.recurrence->overrides, std::vector<OccurrenceOverride>{change});

  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  const auto found = std::ranges::find(listed->first, created[0].ref, &SideItem::ref);
  ASSERT_NE(found, listed->first.end()) << "the series is listed once, by its master";
  EXPECT_EQ(std::ranges::count(listed->first, created[0].ref, &SideItem::ref), 1);
  ASSERT_TRUE(found->item.recurrence);
  EXPECT_EQ(found->item.recurrence->rule.interval, 2);
  EXPECT_EQ(found->item.recurrence->exdates, std::vector<Instant>{dropped});
  EXPECT_EQ(found->item.recurrence->overrides, std::vector<OccurrenceOverride>{change});
}

TEST_F(GraphExsimTest, OutlookEditsOfOneOccurrenceReachTheSeriesThroughDelta) {
  auto graph = side("other@example.com");
  const Appointment series = daily(timed("Gym", day(70, 17)), 3);
  auto created = apply_all(graph, {create(series, "key-gym")});
  ASSERT_EQ(created.size(), 1u);
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  Cursor cursor = listed->second;

  // Outlook on the web: the instances, then one moved and one deleted.
  const std::string master = created[0].ref.str();
  const json instances =
      graph_call("GET", fmt::format("/users/other@example.com/events/{}/instances?startDateTime={}&"
                                    "endDateTime={}",
                                    master, format_utc(series.start - days{1}),
                                    format_utc(series.start + days{4})));
  ASSERT_EQ(instances.value("value", json::array()).size(), 3u) << instances.dump();
  const std::string first = instances["value"][0]["id"];
  const std::string third = instances["value"][2]["id"];
  graph_call(
      "PATCH", "/users/other@example.com/events/" + first,
      {{"subject", "Gym (short)"},
       {"end",
        {{"dateTime", format_date_time(LocalTime{(series.start + 30min).time_since_epoch()})},
         {"timeZone", "UTC"}}}});
  graph_call("DELETE", "/users/other@example.com/events/" + third);

  auto changes = drain(graph, cursor);
  EXPECT_TRUE(contains(changes.changed, created[0].ref))
      << "an occurrence's change or removal is a change of its series";
  EXPECT_FALSE(contains(changes.deleted, created[0].ref));
  auto fetched = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(fetched && fetched->size() == 1u);
  const auto& read = fetched->front().item;
  ASSERT_TRUE(read.recurrence);
  EXPECT_EQ(read.subject, "Gym");
  EXPECT_EQ(read.recurrence->exdates, std::vector<Instant>{series.start + days{2}});
  ASSERT_EQ(read.recurrence->overrides.size(), 1u);
  EXPECT_EQ(read.recurrence->overrides[0].recurrence_id, series.start);
  EXPECT_EQ(read.recurrence->overrides[0].subject, "Gym (short)");
  EXPECT_EQ(read.recurrence->overrides[0].end, series.start + 30min);
}

/// The members of `batch` with `method` whose URL addresses event `id`.
int addressed(const std::vector<std::string>& batch, const std::string& method,
              const std::string& id) {
  return static_cast<int>(std::ranges::count_if(batch, [&](const std::string& member) {
    return member.starts_with(method + " ") &&
           (member.ends_with("/events/" + id) ||
            member.find("/events/" + id + "?") != std::string::npos);
  }));
}

int patches(const std::vector<std::string>& batch) {
  return static_cast<int>(
      std::ranges::count_if(batch, [](const auto& m) { return m.starts_with("PATCH "); }));
}

/// One standup occurrence changed: another start and subject, the rest as the series has it.
OccurrenceOverride standup_change(Instant original, Instant start, std::string subject) {
  OccurrenceOverride change;
  change.recurrence_id = original;
  change.start = start;
  change.end = start + 1h;
  change.subject = std::move(subject);
  change.location = "Room 1";
  change.reminder = 10min;
  return change;
}

/// An update of `current` adding `change`: for that one occurrence, or (nullopt) the whole
/// series as the engine writes it.
Write with_change(const SideItem& current, const OccurrenceOverride& change,
                  std::optional<Instant> occurrence) {
  Write write;
  write.op = WriteOp::kUpdate;
  write.ref = current.ref;
  write.expected = current.version;
  write.previous = current.item;
  write.item = current.item;
  write.item.recurrence->overrides.push_back(change);
  write.occurrence = occurrence;
  return write;
}

TEST_F(GraphExsimTest, OccurrenceUpdatePatchesOnlyThatInstanceNeverTheMaster) {
  auto graph = side("jdoe@example.com");
  Appointment series = timed("Standup", day(50, 8));
  series.location = "Room 1";
  series.reminder = 10min;
  series = daily(series, 5);
  auto created = apply_all(graph, {create(series, "key-standup")});
  ASSERT_EQ(created.size(), 1u);
  const std::string master_id = created[0].ref.str();
  auto before = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(before && before->size() == 1u);
  http_->take_batch_members();

  // Outlook-like edit of the third day through an occurrence write.
  const Instant third = series.start + days{2};
  const OccurrenceOverride moved = standup_change(third, third + 1h, "Standup (late)");
  const Write move = with_change(before->front(), moved, third);
  auto moved_result = apply_all(graph, {move});
  ASSERT_EQ(moved_result.size(), 1u);
  const auto sent = http_->take_batch_members();
  EXPECT_EQ(addressed(sent, "PATCH", master_id), 0) << fmt::format("{}", fmt::join(sent, "\n"));
  EXPECT_EQ(patches(sent), 1) << fmt::format("{}", fmt::join(sent, "\n"));
  // The result is the series (its ref, its new version), not the instance.
  EXPECT_EQ(moved_result[0].ref, created[0].ref);
  EXPECT_FALSE(moved_result[0].version.empty());

  auto after = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(after && after->size() == 1u);
  const Appointment& read = after->front().item;
  EXPECT_EQ(read.subject, "Standup") << "the master keeps its subject";
  EXPECT_EQ(read.start, series.start) << "the master keeps its time";
  EXPECT_EQ(read.location, "Room 1");
  EXPECT_EQ(read.reminder, 10min);
  ASSERT_TRUE(read.recurrence);
  EXPECT_EQ(read.recurrence->rule, before->front().item.recurrence->rule);
  EXPECT_TRUE(read.recurrence->exdates.empty());
  ASSERT_EQ(read.recurrence->overrides.size(), 1u) << "the other four stay occurrences";
  EXPECT_EQ(read.recurrence->overrides[0], moved);
  EXPECT_EQ(moved_result[0].version, after->front().version);

  // The engine's form: the whole series with one more override, no `occurrence`. Only that
  // instance is patched; the master gets no PATCH and the moved occurrence is not rewritten.
  const Instant fifth = series.start + days{4};
  const OccurrenceOverride renamed = standup_change(fifth, fifth, "Standup (retro)");
  auto updated = apply_all(graph, {with_change(after->front(), renamed, std::nullopt)});
  ASSERT_EQ(updated.size(), 1u);
  const auto sent_again = http_->take_batch_members();
  EXPECT_EQ(addressed(sent_again, "PATCH", master_id), 0)
      << fmt::format("{}", fmt::join(sent_again, "\n"));
  EXPECT_EQ(patches(sent_again), 1) << fmt::format("{}", fmt::join(sent_again, "\n"));
  ASSERT_TRUE(updated[0].item.recurrence);
  EXPECT_EQ(updated[0].item.subject, "Standup");
  EXPECT_EQ(updated[0].item.recurrence->overrides,
            (std::vector<OccurrenceOverride>{moved, renamed}));

  // An occurrence update without its override is refused, and nothing is sent.
  Write without = move;
  without.item = series;
  without.occurrence = series.start + days{1};
  auto refused = graph.apply(std::vector<Write>{without});
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_FALSE(refused[0].outcome);
  EXPECT_EQ(refused[0].outcome.error().kind, ErrorKind::kInvalidData);
  EXPECT_TRUE(http_->take_batch_members().empty());
}

TEST_F(GraphExsimTest, NewPatternKeepsTheSeriesExceptions) {
  // Exchange drops a series' exceptions when its pattern changes: the side writes them again.
  auto graph = side("other@example.com");
  Appointment series = timed("Standup", day(120, 8));
  series.location = "Room 1";
  series.reminder = 10min;
  series = daily(series, 4);
  const Instant second = series.start + days{1};
  const OccurrenceOverride moved = standup_change(second, second + 3h, "Standup (afternoon)");
  series.recurrence->overrides = {moved};
  auto created = apply_all(graph, {create(series, "key-longer")});
  ASSERT_EQ(created.size(), 1u);
  ASSERT_EQ(created[0].item.recurrence->overrides, std::vector<OccurrenceOverride>{moved});

  Write longer;
  longer.op = WriteOp::kUpdate;
  longer.ref = created[0].ref;
  longer.expected = created[0].version;
  longer.previous = created[0].item;
  longer.item = created[0].item;
  longer.item.recurrence->rule.count = 6;
  auto updated = apply_all(graph, {longer});
  ASSERT_EQ(updated.size(), 1u);
  auto read = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(read && read->size() == 1u);
  ASSERT_TRUE(read->front().item.recurrence);
  EXPECT_EQ(read->front().item.recurrence->rule.count, 6);
  EXPECT_EQ(read->front().item.recurrence->overrides, std::vector<OccurrenceOverride>{moved});
  EXPECT_EQ(updated[0].version, read->front().version);
}

TEST_F(GraphExsimTest, PatternedRecurrencesRoundTripThroughExsim) {
  auto graph = side("other@example.com");
  struct Case {
    const char* rrule;
    bool all_day;
  };
  const Case cases[] = {
      {"FREQ=DAILY;INTERVAL=2;COUNT=5", true},
      {"FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6", false},
      {"FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4", false},
      {"FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", false},
      {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3", false},
      {"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=2", true},
  };
  std::vector<Write> writes;
  for (const auto& test : cases) {
    auto rule = parse_rrule(test.rrule);
    ASSERT_TRUE(rule) << test.rrule;
    Appointment item = timed(test.rrule, day(100, 7));
    if (test.all_day) {
      item.all_day = true;
      item.start = floor<days>(item.start);
      item.end = item.start + days{1};
    }
    item.recurrence = Recurrence{*rule, {}, {}};
    // The first occurrence is the series' start, as Exchange requires.
    auto first = expand(item, item.start - days{1}, item.start + days{400});
    ASSERT_TRUE(first && !first->empty()) << test.rrule;
    const auto length = item.end - item.start;
    item.start = first->front().start;
    item.end = item.start + length;
    writes.push_back(create(item, std::string("key-rule-") + test.rrule));
  }
  auto created = apply_all(graph, writes);
  ASSERT_EQ(created.size(), writes.size());
  std::vector<ItemRef> refs;
  for (const auto& item : created) refs.push_back(item.ref);
  auto fetched = graph.fetch(refs);
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), writes.size());
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const Appointment& read = (*fetched)[i].item;
    ASSERT_TRUE(read.recurrence) << cases[i].rrule;
    EXPECT_EQ(format_rrule(read.recurrence->rule), format_rrule(writes[i].item.recurrence->rule))
        << cases[i].rrule;
    EXPECT_EQ(read.start, writes[i].item.start) << cases[i].rrule;
    EXPECT_EQ(read.all_day, cases[i].all_day) << cases[i].rrule;
    EXPECT_TRUE(read.recurrence->exdates.empty()) << cases[i].rrule;
    EXPECT_TRUE(read.recurrence->overrides.empty()) << cases[i].rrule;
  }
}

}  // namespace
}  // namespace agendasync::graph::exsim_testing
