// Every EWS recurrence pattern (and so every Graph patternedRecurrence: the same six types)
// written as the model's RRULE and expanded in Europe/Amsterdam, in the three-line style of
// libical's corpus: pattern, DTSTART, expected wall-clock instances. Expected lists were
// produced with python-dateutil and checked against a calendar by hand.
//
// EWS/Graph -> RRULE, as the connectors map them:
//   Daily(Interval)                       FREQ=DAILY;INTERVAL=n
//   Weekly(Interval, DaysOfWeek, FirstDayOfWeek)  FREQ=WEEKLY;INTERVAL=n;BYDAY=..;WKST=..
//   AbsoluteMonthly(Interval, DayOfMonth) FREQ=MONTHLY;BYMONTHDAY=d
//   RelativeMonthly(DayOfWeekIndex, DaysOfWeek)  FREQ=MONTHLY;BYDAY=<i><day>, or for
//       Day / Weekday / WeekendDay:       BYDAY=<those days>;BYSETPOS=<i> (Last = -1)
//   AbsoluteYearly(Month, DayOfMonth)     FREQ=YEARLY;BYMONTH=m;BYMONTHDAY=d
//   RelativeYearly(Month, index, days)    FREQ=YEARLY;BYMONTH=m;BYDAY=.. as RelativeMonthly
//   NumberedRecurrence -> COUNT, EndDateRecurrence -> UNTIL, NoEndRecurrence -> neither.
// Outlook/Exchange put DayOfMonth 29-31 on the last day of shorter months (MS-OXCICAL
// 2.1.3.2.2.3; CDO DayOfMonth: "Outlook and CDO generate recurrences on February 28"),
// where RFC 5545 BYMONTHDAY skips those months. The RFC spelling of Exchange's behaviour:
//   DayOfMonth 31 -> BYMONTHDAY=-1;  30 -> BYMONTHDAY=28,29,30;BYSETPOS=-1;
//   29 -> BYMONTHDAY=28,29;BYSETPOS=-1 (and so AbsoluteYearly 29 February).
#include <gtest/gtest.h>

#include "calendar_text.h"
#include "core/expand.h"
#include "core/time_zone.h"

namespace agendasync {
namespace {

using namespace std::chrono;

struct PatternCase {
  const char* pattern;
  const char* rrule;
  const char* dtstart;  ///< wall-clock in Europe/Amsterdam
  std::vector<const char*> instances;
};

const std::vector<PatternCase> kCases = {
    {"Daily, interval 2, across the March DST change",
     "FREQ=DAILY;INTERVAL=2;COUNT=4",
     "20240325T090000",
     {"20240325T090000", "20240327T090000", "20240329T090000", "20240331T090000"}},
    {"Weekly Mon+Wed, interval 2, first day of week Sunday",
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=SU;COUNT=4",
     "20240324T090000",
     {"20240325T090000", "20240327T090000", "20240408T090000", "20240410T090000"}},
    {"AbsoluteMonthly day 15",
     "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=3",
     "20240115T090000",
     {"20240115T090000", "20240215T090000", "20240315T090000"}},
    {"AbsoluteMonthly day 31 (last day of each month in Exchange)",
     "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3",
     "20240131T090000",
     {"20240131T090000", "20240229T090000", "20240331T090000"}},
    {"AbsoluteMonthly day 30 (the 30th, or the last day of February)",
     "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1;COUNT=3",
     "20240130T090000",
     {"20240130T090000", "20240229T090000", "20240330T090000"}},
    {"AbsoluteYearly 29 February (28 February in other years, as Outlook does)",
     "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1;COUNT=3",
     "20240229T090000",
     {"20240229T090000", "20250228T090000", "20260228T090000"}},
    {"RelativeMonthly First Monday",
     "FREQ=MONTHLY;BYDAY=1MO;COUNT=3",
     "20240101T090000",
     {"20240101T090000", "20240205T090000", "20240304T090000"}},
    {"RelativeMonthly Last Friday",
     "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
     "20240126T090000",
     {"20240126T090000", "20240223T090000", "20240329T090000"}},
    {"RelativeMonthly Second Weekday",
     "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=2;COUNT=3",
     "20240102T090000",
     {"20240102T090000", "20240202T090000", "20240304T090000"}},
    {"RelativeMonthly Last Day",
     "FREQ=MONTHLY;BYDAY=SU,MO,TU,WE,TH,FR,SA;BYSETPOS=-1;COUNT=3",
     "20240131T090000",
     {"20240131T090000", "20240229T090000", "20240331T090000"}},
    {"RelativeMonthly First WeekendDay",
     "FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=1;COUNT=3",
     "20240106T090000",
     {"20240106T090000", "20240203T090000", "20240302T090000"}},
    {"AbsoluteYearly March 15",
     "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15;COUNT=3",
     "20240315T090000",
     {"20240315T090000", "20250315T090000", "20260315T090000"}},
    {"RelativeYearly Last Sunday of October",
     "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU;COUNT=3",
     "20241027T090000",
     {"20241027T090000", "20251026T090000", "20261025T090000"}},
    {"RelativeYearly Third Weekday of January",
     "FREQ=YEARLY;BYMONTH=1;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=3;COUNT=3",
     "20240103T090000",
     {"20240103T090000", "20250103T090000", "20260105T090000"}},
    {"EndDateRecurrence (UNTIL = end of 15 April, local)",
     "FREQ=WEEKLY;BYDAY=MO;UNTIL=20240415T215959Z",
     "20240325T090000",
     {"20240325T090000", "20240401T090000", "20240408T090000", "20240415T090000"}},
};

TEST(ExchangePatterns, EachPatternExpandsAsExchangeShowsIt) {
  const char* zone = "Europe/Amsterdam";
  for (const auto& c : kCases) {
    auto rule = parse_rrule(c.rrule);
    ASSERT_TRUE(rule) << c.pattern << ": " << rule.error().message;
    auto start = model_test::parse_calendar_time(c.dtstart);
    ASSERT_TRUE(start) << c.pattern;
    Appointment item;
    item.time_zone = zone;
    item.start = to_utc(start->local, zone).value();
    item.end = item.start + minutes(30);
    item.recurrence = Recurrence{*rule, {}, {}};
    auto occurrences = expand(item, item.start, item.start + days(5 * 366));
    ASSERT_TRUE(occurrences) << c.pattern << ": " << occurrences.error().message;
    std::vector<std::string> got;
    for (const auto& o : *occurrences) {
      got.push_back(model_test::format_floating(to_local(o.start, zone).value()));
    }
    EXPECT_EQ(got, std::vector<std::string>(c.instances.begin(), c.instances.end())) << c.pattern;
  }
}

TEST(ExchangePatterns, NoEndRecurrenceIsEndless) {
  Appointment item;
  item.time_zone = "Europe/Amsterdam";
  item.start = to_utc(local_days(2024y / 1 / 26) + hours(9), item.time_zone).value();
  item.end = item.start + hours(1);
  item.recurrence = Recurrence{parse_rrule("FREQ=MONTHLY;BYDAY=-1FR").value(), {}, {}};
  EXPECT_EQ(last_occurrence_start(item).value(), std::nullopt);
  auto far = expand(item, sys_days(2090y / 1 / 1), sys_days(2090y / 2 / 1));
  ASSERT_TRUE(far);
  ASSERT_EQ(far->size(), 1u);
  EXPECT_EQ(model_test::format_floating(to_local((*far)[0].start, item.time_zone).value()),
            "20900127T090000");
}

}  // namespace
}  // namespace agendasync
