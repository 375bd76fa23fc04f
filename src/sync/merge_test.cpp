// Three-way merge, as a table: base, what the host did, what the remote did, the expected
// result and conflicts (R24; changes to one occurrence stay changes to that occurrence).
#include "sync/merge.h"

#include <gtest/gtest.h>

#include <functional>

#include "sync/test_items.h"

namespace agendasync::sync {
namespace {

using testing::appointment;
using testing::at;
using testing::daily_series;
using Edit = std::function<void(Appointment&)>;

const Edit kNothing = [](Appointment&) {};
Edit subject(std::string value) {
  return [value](Appointment& item) { item.subject = value; };
}
Edit location(std::string value) {
  return [value](Appointment& item) { item.location = value; };
}
Edit moved_by(int hours) {
  return [hours](Appointment& item) {
    item.start += std::chrono::hours(hours);
    item.end += std::chrono::hours(hours);
  };
}

struct MergeCase {
  const char* name;
  Edit host;
  Edit remote;
  Side winner;
  Edit expected;  ///< applied to the base
  std::vector<std::string> conflicts;
};

TEST(Merge, FieldLevelTable) {
  const Appointment base = appointment("Standup", at(2, 9));
  const std::vector<MergeCase> cases{
      {"nothing changed", kNothing, kNothing, Side::kHost, kNothing, {}},
      {"host changed subject", subject("H"), kNothing, Side::kRemote, subject("H"), {}},
      {"remote changed subject", kNothing, subject("R"), Side::kHost, subject("R"), {}},
      {"different fields merge",
       subject("H"),
       location("Room 2"),
       Side::kHost,
       [](Appointment& item) {
         item.subject = "H";
         item.location = "Room 2";
       },
       {}},
      {"same field, same value: no conflict",
       subject("X"),
       subject("X"),
       Side::kRemote,
       subject("X"),
       {}},
      {"same field, host wins", subject("H"), subject("R"), Side::kHost, subject("H"), {"subject"}},
      {"same field, remote wins",
       subject("H"),
       subject("R"),
       Side::kRemote,
       subject("R"),
       {"subject"}},
      {"time is one field", moved_by(1), moved_by(2), Side::kRemote, moved_by(2), {"time"}},
      {"time on one side, subject on the other",
       moved_by(1),
       subject("R"),
       Side::kHost,
       [](Appointment& item) {
         item.start += std::chrono::hours(1);
         item.end += std::chrono::hours(1);
         item.subject = "R";
       },
       {}},
  };
  for (const auto& c : cases) {
    Appointment host = base, remote = base, expected = base;
    c.host(host);
    c.remote(remote);
    c.expected(expected);
    const MergeResult result = merge3(base, host, remote, c.winner);
    EXPECT_EQ(result.merged, expected) << c.name;
    EXPECT_EQ(result.conflicts, c.conflicts) << c.name;
  }
}

TEST(Merge, HostOnlyFieldsAlwaysComeFromTheHost) {
  Appointment base = appointment("A", at(2, 9));
  base.activity_type = "Meeting";
  Appointment host = base;
  host.activity_type = "Visit";
  Appointment remote = base;
  remote.activity_type.clear();  // Exchange has no activity types
  remote.subject = "B";
  const MergeResult result = merge3(base, host, remote, Side::kRemote);
  EXPECT_EQ(result.merged.activity_type, "Visit");
  EXPECT_EQ(result.merged.subject, "B");
  EXPECT_TRUE(result.conflicts.empty());
}

TEST(Merge, WithoutBaseEveryDifferenceIsSettledByTheWinner) {
  Appointment host = appointment("Same", at(2, 9));
  host.body.content = "host notes";
  Appointment remote = host;
  remote.body.content = "outlook notes";
  remote.location = "Room 1";
  const MergeResult result = merge3(std::nullopt, host, remote, Side::kHost);
  EXPECT_EQ(result.merged.body.content, "host notes");
  EXPECT_EQ(result.merged.location, "");
  EXPECT_EQ(result.conflicts, (std::vector<std::string>{"body", "location"}));
}

OccurrenceOverride moved_occurrence(Instant id, int hours, std::string subject) {
  OccurrenceOverride over;
  over.recurrence_id = id;
  over.start = id + std::chrono::hours(hours);
  over.end = over.start + std::chrono::hours(1);
  over.subject = std::move(subject);
  return over;
}

TEST(Merge, OccurrenceEditsOnBothSidesStayPerOccurrence) {
  const Appointment base = daily_series("Daily", at(2, 9), 10);
  Appointment host = base, remote = base;
  host.recurrence->overrides.push_back(moved_occurrence(at(3, 9), 1, "moved by host"));
  remote.recurrence->overrides.push_back(moved_occurrence(at(5, 9), 2, "moved in Outlook"));
  remote.recurrence->exdates.push_back(at(7, 9));
  const MergeResult result = merge3(base, host, remote, Side::kHost);
  ASSERT_TRUE(result.merged.recurrence);
  EXPECT_TRUE(result.conflicts.empty());
  ASSERT_EQ(result.merged.recurrence->overrides.size(), 2u);
  EXPECT_EQ(result.merged.recurrence->overrides[0].subject, "moved by host");
  EXPECT_EQ(result.merged.recurrence->overrides[1].subject, "moved in Outlook");
  EXPECT_EQ(result.merged.recurrence->exdates, std::vector<Instant>{at(7, 9)});
}

TEST(Merge, SameOccurrenceEditedOnBothSidesIsAConflictOfThatOccurrenceOnly) {
  const Appointment base = daily_series("Daily", at(2, 9), 10);
  Appointment host = base, remote = base;
  host.recurrence->overrides.push_back(moved_occurrence(at(3, 9), 1, "host"));
  remote.recurrence->overrides.push_back(moved_occurrence(at(3, 9), 2, "remote"));
  remote.recurrence->exdates.push_back(at(8, 9));
  const MergeResult result = merge3(base, host, remote, Side::kRemote);
  ASSERT_EQ(result.conflicts.size(), 1u);
  EXPECT_EQ(result.conflicts[0], "occurrence 2026-03-03T09:00:00Z");
  ASSERT_EQ(result.merged.recurrence->overrides.size(), 1u);
  EXPECT_EQ(result.merged.recurrence->overrides[0].subject, "remote");
  EXPECT_EQ(result.merged.recurrence->exdates, std::vector<Instant>{at(8, 9)});
}

TEST(Merge, AMissingOverrideIsNotADeletedOccurrence) {
  // R38: one side lost an occurrence's modification (could not read it): the merge may
  // take that as "modification undone" but never as "occurrence deleted".
  Appointment base = daily_series("Daily", at(2, 9), 10);
  base.recurrence->overrides.push_back(moved_occurrence(at(4, 9), 1, "moved"));
  Appointment remote = base;
  remote.recurrence->overrides.clear();
  const MergeResult result = merge3(base, base, remote, Side::kHost);
  EXPECT_TRUE(result.merged.recurrence->exdates.empty());
}

TEST(Merge, PatternChangeOnOneSideTakesThatSidesSeries) {
  const Appointment base = daily_series("Daily", at(2, 9), 10);
  Appointment host = base, remote = base;
  host.recurrence->rule.count = 5;
  remote.subject = "Renamed";
  const MergeResult result = merge3(base, host, remote, Side::kRemote);
  EXPECT_EQ(result.merged.recurrence->rule.count, 5);
  EXPECT_EQ(result.merged.subject, "Renamed");
  EXPECT_TRUE(result.conflicts.empty());
}

TEST(Merge, OccurrenceDeletedOnOneSideAndRestoredNowhereStaysDeleted) {
  const Appointment base = daily_series("Daily", at(2, 9), 10);
  Appointment host = base;
  host.recurrence->exdates.push_back(at(6, 9));
  const MergeResult result = merge3(base, host, base, Side::kRemote);
  EXPECT_EQ(result.merged.recurrence->exdates, std::vector<Instant>{at(6, 9)});
}

}  // namespace
}  // namespace agendasync::sync
