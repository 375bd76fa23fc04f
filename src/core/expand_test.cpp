#include "core/expand.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/time_zone.h"

namespace agendasync {
namespace {

using namespace std::chrono;

Instant utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return sys_days(year(y) / month(m) / day(d)) + hours(hh) + minutes(mm);
}

/// A timed series starting at `start` (UTC) for an hour in `zone`.
Appointment series(const char* rrule, Instant start, const char* zone) {
  Appointment item;
  item.subject = "Stand-up";
  item.start = start;
  item.end = start + hours(1);
  item.time_zone = zone;
  item.recurrence = Recurrence{parse_rrule(rrule).value(), {}, {}};
  return item;
}

/// An all-day series on `first` (one day long).
Appointment all_day_series(const char* rrule, Instant first, const char* zone) {
  Appointment item = series(rrule, first, zone);
  item.all_day = true;
  item.end = first + days(1);
  return item;
}

std::vector<Instant> starts(const Result<std::vector<Occurrence>>& occurrences) {
  std::vector<Instant> out;
  if (!occurrences) {
    ADD_FAILURE() << occurrences.error().message;
    return out;
  }
  for (const auto& occurrence : *occurrences) out.push_back(occurrence.start);
  return out;
}

const Instant kFar = utc(2100, 1, 1);

TEST(Expand, AmsterdamWallClockStaysAcrossBothDstChanges) {
  // Weekly on Friday 09:00 Amsterdam, around the March and October 2024 changes.
  auto item = series("FREQ=WEEKLY;COUNT=3", utc(2024, 3, 22, 8), "Europe/Amsterdam");
  EXPECT_EQ(starts(expand(item, utc(2024, 1, 1), kFar)),
            (std::vector<Instant>{utc(2024, 3, 22, 8), utc(2024, 3, 29, 8), utc(2024, 4, 5, 7)}));
  auto autumn = series("FREQ=DAILY;COUNT=3", utc(2024, 10, 26, 7), "Europe/Amsterdam");
  EXPECT_EQ(
      starts(expand(autumn, utc(2024, 1, 1), kFar)),
      (std::vector<Instant>{utc(2024, 10, 26, 7), utc(2024, 10, 27, 8), utc(2024, 10, 28, 8)}));
}

TEST(Expand, NewYorkWallClockStaysAcrossBothDstChanges) {
  auto spring = series("FREQ=DAILY;COUNT=3", utc(2024, 3, 9, 14), "America/New_York");
  EXPECT_EQ(
      starts(expand(spring, utc(2024, 1, 1), kFar)),
      (std::vector<Instant>{utc(2024, 3, 9, 14), utc(2024, 3, 10, 13), utc(2024, 3, 11, 13)}));
  auto autumn = series("FREQ=DAILY;COUNT=3", utc(2024, 11, 2, 13), "America/New_York");
  EXPECT_EQ(
      starts(expand(autumn, utc(2024, 1, 1), kFar)),
      (std::vector<Instant>{utc(2024, 11, 2, 13), utc(2024, 11, 3, 14), utc(2024, 11, 4, 14)}));
  const auto occurrences = expand(autumn, utc(2024, 1, 1), kFar).value();
  for (const auto& occurrence : occurrences) {
    EXPECT_EQ(occurrence.end - occurrence.start, hours(1));
    EXPECT_EQ(to_local(occurrence.start, "America/New_York").value() -
                  floor<days>(to_local(occurrence.start, "America/New_York").value()),
              hours(9));
  }
}

TEST(Expand, OccurrenceInTheSpringGapMovesForward) {
  // 02:30 Amsterdam daily: on 2024-03-31 02:30 does not exist and becomes 03:30 CEST.
  auto item = series("FREQ=DAILY;COUNT=3", utc(2024, 3, 30, 1, 30), "Europe/Amsterdam");
  EXPECT_EQ(starts(expand(item, utc(2024, 1, 1), kFar)),
            (std::vector<Instant>{utc(2024, 3, 30, 1, 30), utc(2024, 3, 31, 1, 30),
                                  utc(2024, 4, 1, 0, 30)}));
}

TEST(Expand, MonthlyLastFriday) {
  auto item = series("FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", utc(2024, 1, 26, 8), "Europe/Amsterdam");
  EXPECT_EQ(starts(expand(item, utc(2024, 1, 1), kFar)),
            (std::vector<Instant>{utc(2024, 1, 26, 8), utc(2024, 2, 23, 8), utc(2024, 3, 29, 8),
                                  utc(2024, 4, 26, 7)}));
}

TEST(Expand, YearlyLeapDayOnlyInLeapYears) {
  auto item = series("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3", utc(2024, 2, 29, 11), "UTC");
  EXPECT_EQ(
      starts(expand(item, utc(2024, 1, 1), kFar)),
      (std::vector<Instant>{utc(2024, 2, 29, 11), utc(2028, 2, 29, 11), utc(2032, 2, 29, 11)}));
  auto no_month = series("FREQ=YEARLY;UNTIL=20330101T000000Z", utc(2024, 2, 29, 11), "UTC");
  EXPECT_EQ(
      starts(expand(no_month, utc(2024, 1, 1), kFar)),
      (std::vector<Instant>{utc(2024, 2, 29, 11), utc(2028, 2, 29, 11), utc(2032, 2, 29, 11)}));
}

TEST(Expand, UntilIsInclusiveAndCountCountsFromTheStart) {
  auto until = series("FREQ=DAILY;UNTIL=20240103T080000Z", utc(2024, 1, 1, 8), "Europe/Amsterdam");
  EXPECT_EQ(starts(expand(until, utc(2023, 1, 1), kFar)).size(), 3u);
  auto count = series("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5", utc(2024, 1, 1, 8), "Europe/Amsterdam");
  auto all = starts(expand(count, utc(2023, 1, 1), kFar));
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.back(), utc(2024, 1, 15, 8));
  // A window after the start still respects COUNT.
  EXPECT_EQ(starts(expand(count, utc(2024, 1, 9), kFar)),
            (std::vector<Instant>{utc(2024, 1, 10, 8), utc(2024, 1, 15, 8)}));
}

TEST(Expand, ExdatesAreRemoved) {
  auto item = series("FREQ=DAILY;COUNT=5", utc(2024, 5, 1, 7), "Europe/Amsterdam");
  item.recurrence->exdates = {utc(2024, 5, 2, 7), utc(2024, 5, 4, 7)};
  EXPECT_EQ(starts(expand(item, utc(2024, 1, 1), kFar)),
            (std::vector<Instant>{utc(2024, 5, 1, 7), utc(2024, 5, 3, 7), utc(2024, 5, 5, 7)}));
}

TEST(Expand, OverridesMoveOccurrencesInAndOutOfTheWindow) {
  auto item = series("FREQ=DAILY;COUNT=10", utc(2024, 5, 1, 7), "Europe/Amsterdam");
  OccurrenceOverride into{};
  into.recurrence_id = utc(2024, 5, 9, 7);  // outside the window, moved into it
  into.start = utc(2024, 5, 2, 12);
  into.end = utc(2024, 5, 2, 13);
  into.subject = "moved";
  OccurrenceOverride out_of{};
  out_of.recurrence_id = utc(2024, 5, 3, 7);  // inside the window, moved out of it
  out_of.start = utc(2024, 6, 1, 7);
  out_of.end = utc(2024, 6, 1, 8);
  item.recurrence->overrides = {into, out_of};
  auto occurrences = expand(item, utc(2024, 5, 1), utc(2024, 5, 5));
  ASSERT_TRUE(occurrences);
  EXPECT_EQ(starts(occurrences), (std::vector<Instant>{utc(2024, 5, 1, 7), utc(2024, 5, 2, 7),
                                                       utc(2024, 5, 2, 12), utc(2024, 5, 4, 7)}));
  const Occurrence& moved = (*occurrences)[2];
  EXPECT_TRUE(moved.overridden);
  EXPECT_EQ(moved.recurrence_id, utc(2024, 5, 9, 7));
  EXPECT_EQ(moved.end, utc(2024, 5, 2, 13));
  // An exdate wins over an override of the same occurrence.
  item.recurrence->exdates = {utc(2024, 5, 9, 7)};
  EXPECT_EQ(starts(expand(item, utc(2024, 5, 1), utc(2024, 5, 5))).size(), 3u);
}

TEST(Expand, OldOccurrenceMovedIntoAFarWindowIsFound) {
  // An endless series is skipped ahead to the window; an override of an occurrence long
  // before the window, moved into it, must still show, and one of a non-occurrence not.
  auto item = series("FREQ=WEEKLY;BYDAY=MO", utc(2020, 1, 6, 8), "Europe/Amsterdam");
  OccurrenceOverride moved{};
  moved.recurrence_id = utc(2020, 2, 3, 8);
  moved.start = utc(2030, 3, 5, 12);
  moved.end = utc(2030, 3, 5, 13);
  OccurrenceOverride stray = moved;
  stray.recurrence_id = utc(2020, 2, 4, 8);  // a Tuesday: not an occurrence
  stray.start = utc(2030, 3, 6, 12);
  stray.end = utc(2030, 3, 6, 13);
  item.recurrence->overrides = {moved, stray};
  auto occurrences = expand(item, utc(2030, 3, 4), utc(2030, 3, 11));
  EXPECT_EQ(starts(occurrences), (std::vector<Instant>{utc(2030, 3, 4, 8), utc(2030, 3, 5, 12)}));
  ASSERT_TRUE(occurrences);
  EXPECT_EQ((*occurrences)[1].recurrence_id, utc(2020, 2, 3, 8));
  // Deleted after being moved: gone.
  item.recurrence->exdates = {utc(2020, 2, 3, 8)};
  EXPECT_EQ(starts(expand(item, utc(2030, 3, 4), utc(2030, 3, 11))),
            (std::vector<Instant>{utc(2030, 3, 4, 8)}));
}

TEST(Expand, WindowIsHalfOpenOverlap) {
  auto item = series("FREQ=DAILY", utc(2024, 5, 1, 7), "UTC");
  // [08:00 on day 2, 07:00 on day 3): day 2's 07:00-08:00 ends at the window start: out;
  // day 3 starts at the window end: out.
  EXPECT_TRUE(starts(expand(item, utc(2024, 5, 2, 8), utc(2024, 5, 3, 7))).empty());
  EXPECT_EQ(starts(expand(item, utc(2024, 5, 2, 7, 59), utc(2024, 5, 3, 7))),
            (std::vector<Instant>{utc(2024, 5, 2, 7)}));
}

TEST(Expand, LimitKeepsTheEarliest) {
  auto item = series("FREQ=DAILY", utc(2024, 5, 1, 7), "Europe/Amsterdam");
  EXPECT_EQ(starts(expand(item, utc(2024, 1, 1), kFar, 3)),
            (std::vector<Instant>{utc(2024, 5, 1, 7), utc(2024, 5, 2, 7), utc(2024, 5, 3, 7)}));
}

TEST(Expand, FarWindowOfAnEndlessSeriesMatchesAFullWalk) {
  // expand() skips ahead for windows far from the start; it must give what walking gives.
  const char* rules[] = {"FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR",
                         "FREQ=DAILY;INTERVAL=7",
                         "FREQ=MONTHLY;INTERVAL=5;BYDAY=-1FR",
                         "FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
                         "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29",
                         "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,TU"};
  for (const char* rule : rules) {
    auto item = series(rule, utc(2024, 2, 29, 8), "America/New_York");
    auto all = expand(item, utc(2000, 1, 1), utc(2060, 1, 1), 100000).value();
    auto window = expand(item, utc(2041, 3, 1), utc(2043, 3, 1)).value();
    std::vector<Occurrence> expected;
    for (const auto& o : all) {
      if (o.start < utc(2043, 3, 1) && o.end > utc(2041, 3, 1)) expected.push_back(o);
    }
    ASSERT_EQ(window.size(), expected.size()) << rule;
    for (std::size_t i = 0; i < window.size(); ++i) {
      EXPECT_EQ(window[i].start, expected[i].start) << rule;
    }
  }
}

TEST(Expand, WeeklyIntervalsCountWeeksFromWkst) {
  // Friday start, every 3rd week on Sunday: that Sunday is in DTSTART's (Monday) week.
  auto sunday = series("FREQ=WEEKLY;INTERVAL=3;BYDAY=SU;COUNT=2", utc(1998, 9, 18, 9), "UTC");
  EXPECT_EQ(starts(expand(sunday, utc(1998, 1, 1), kFar)),
            (std::vector<Instant>{utc(1998, 9, 20, 9), utc(1998, 10, 11, 9)}));
  // Weeks starting Thursday: Tuesday the 12th is in the week of Friday the 8th.
  auto thursday =
      series("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=TH;COUNT=2", utc(2016, 4, 8, 9), "UTC");
  EXPECT_EQ(starts(expand(thursday, utc(2016, 1, 1), kFar)),
            (std::vector<Instant>{utc(2016, 4, 12, 9), utc(2016, 4, 26, 9)}));
}

TEST(Expand, WeeklySetPositionsCountTheWholeWeek) {
  // Thursday 30 Nov 1995; the week (from Monday) holds We 29, Fr 1, Sa 2, Su 3. Position 2
  // is Friday and -1 Sunday; Wednesday is before DTSTART and so not an occurrence.
  auto item =
      series("FREQ=WEEKLY;BYDAY=SU,WE,SA,FR;BYSETPOS=-1,2;COUNT=3", utc(1995, 11, 30, 9), "UTC");
  EXPECT_EQ(starts(expand(item, utc(1995, 1, 1), kFar)),
            (std::vector<Instant>{utc(1995, 12, 1, 9), utc(1995, 12, 3, 9), utc(1995, 12, 8, 9)}));
}

TEST(Expand, AllDaySeriesNeverShiftInAnyZone) {
  for (const char* zone : {"Pacific/Kiritimati", "Asia/Tokyo", "Pacific/Honolulu", "UTC"}) {
    auto item = all_day_series("FREQ=WEEKLY;COUNT=3", utc(2024, 3, 29), zone);
    auto occurrences = expand(item, utc(2024, 1, 1), kFar);
    ASSERT_TRUE(occurrences) << zone;
    EXPECT_EQ(starts(occurrences),
              (std::vector<Instant>{utc(2024, 3, 29), utc(2024, 4, 5), utc(2024, 4, 12)}))
        << zone;
    for (const auto& o : *occurrences) EXPECT_EQ(o.end - o.start, days(1)) << zone;
  }
}

TEST(Expand, AllDayUntilIsADate) {
  auto item = all_day_series("FREQ=DAILY;UNTIL=20241231", utc(2024, 12, 29), "Pacific/Kiritimati");
  EXPECT_EQ(starts(expand(item, utc(2024, 1, 1), kFar)),
            (std::vector<Instant>{utc(2024, 12, 29), utc(2024, 12, 30), utc(2024, 12, 31)}));
}

TEST(Expand, SingleItemYieldsItselfWhenOverlapping) {
  Appointment item;
  item.start = utc(2024, 5, 1, 7);
  item.end = utc(2024, 5, 1, 8);
  EXPECT_EQ(starts(expand(item, utc(2024, 5, 1), utc(2024, 5, 2))),
            (std::vector<Instant>{utc(2024, 5, 1, 7)}));
  EXPECT_TRUE(starts(expand(item, utc(2024, 5, 2), utc(2024, 5, 3))).empty());
}

TEST(Expand, ImpossibleRuleAndUnknownZoneAreInvalidData) {
  auto item = series("FREQ=DAILY", utc(2024, 5, 1, 7), "Europe/Atlantis");
  auto result = expand(item, utc(2024, 1, 1), kFar);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::kInvalidData);
  item.time_zone = "UTC";
  item.recurrence->rule.interval = 0;
  ASSERT_FALSE(expand(item, utc(2024, 1, 1), kFar));
}

TEST(Expand, RuleThatNeverMatchesIsInvalidDataAtOnce) {
  // The first Monday is never the 31st. libical would search for seconds; the rule's shape
  // gives it away first.
  auto item = series("FREQ=MONTHLY", utc(2024, 5, 1, 7), "UTC");
  item.recurrence->rule.by_month_day = {31};
  item.recurrence->rule.by_day = {WeekdayNum{1, Monday}};
  auto result = expand(item, utc(2024, 1, 1), utc(2030, 1, 1));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::kInvalidData);
  // The shape check's wording, not libical's: refused before libical was asked.
  EXPECT_NE(result.error().message.find("no day satisfies"), std::string::npos)
      << result.error().message;
}

TEST(Expand, ConcurrentExpansionsAgree) {
  // The engine expands series of many mailboxes at once: results must not depend on threads.
  auto item = series("FREQ=MONTHLY;BYDAY=-1FR", utc(2024, 1, 26, 8), "America/New_York");
  const auto expected = starts(expand(item, utc(2024, 1, 1), utc(2034, 1, 1)));
  ASSERT_EQ(expected.size(), 120u);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (starts(expand(item, utc(2024, 1, 1), utc(2034, 1, 1))) != expected) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int count : mismatches) EXPECT_EQ(count, 0);
}

TEST(LastOccurrence, CountUntilAndEndless) {
  auto counted = series("FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", utc(2024, 1, 26, 8), "Europe/Amsterdam");
  EXPECT_EQ(last_occurrence_start(counted).value(), utc(2024, 4, 26, 7));
  auto until = series("FREQ=DAILY;UNTIL=20240110T120000Z", utc(2024, 1, 1, 8), "UTC");
  EXPECT_EQ(last_occurrence_start(until).value(), utc(2024, 1, 10, 8));
  auto endless = series("FREQ=DAILY", utc(2024, 1, 1, 8), "UTC");
  EXPECT_EQ(last_occurrence_start(endless).value(), std::nullopt);
  // The last occurrence deleted: the one before it is the last.
  until.recurrence->exdates = {utc(2024, 1, 10, 8)};
  EXPECT_EQ(last_occurrence_start(until).value(), utc(2024, 1, 9, 8));
  // An earlier occurrence moved past the end counts at its new time.
  OccurrenceOverride moved{};
  moved.recurrence_id = utc(2024, 1, 2, 8);
  moved.start = utc(2024, 2, 1, 8);
  moved.end = utc(2024, 2, 1, 9);
  until.recurrence->overrides = {moved};
  EXPECT_EQ(last_occurrence_start(until).value(), utc(2024, 2, 1, 8));
  Appointment single;
  single.start = utc(2024, 1, 1, 8);
  single.end = utc(2024, 1, 1, 9);
  EXPECT_EQ(last_occurrence_start(single).value(), utc(2024, 1, 1, 8));
}

}  // namespace
}  // namespace agendasync
