#include "core/validate.h"

#include <gtest/gtest.h>

namespace agendasync {
namespace {

using namespace std::chrono;

Instant utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return sys_days(year(y) / month(m) / day(d)) + hours(hh) + minutes(mm);
}

Appointment good_series() {
  Appointment item;
  item.subject = "Planning";
  item.start = utc(2024, 3, 4, 8);  // Monday 09:00 Amsterdam
  item.end = utc(2024, 3, 4, 9);
  item.time_zone = "Europe/Amsterdam";
  item.recurrence = Recurrence{parse_rrule("FREQ=WEEKLY;BYDAY=MO;COUNT=10").value(), {}, {}};
  return item;
}

void expect_invalid(const Appointment& item, const std::string& named) {
  auto result = validate(item);
  ASSERT_FALSE(result) << "expected a complaint about " << named;
  EXPECT_EQ(result.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(result.error().message.find(named), std::string::npos) << result.error().message;
}

TEST(Validate, AcceptsGoodItems) {
  EXPECT_TRUE(validate(good_series()));
  Appointment single;
  single.start = utc(2024, 3, 4, 8);
  single.end = utc(2024, 3, 4, 8);  // zero length is allowed (a reminder-like item)
  EXPECT_TRUE(validate(single));
  Appointment all_day;
  all_day.all_day = true;
  all_day.time_zone = "Pacific/Kiritimati";
  all_day.start = utc(2024, 3, 4);
  all_day.end = utc(2024, 3, 6);
  EXPECT_TRUE(validate(all_day));
}

TEST(Validate, UnknownZone) {
  auto item = good_series();
  item.time_zone = "Europe/Amsterdamm";
  expect_invalid(item, "Europe/Amsterdamm");
}

TEST(Validate, EndBeforeStart) {
  auto item = good_series();
  item.end = item.start - minutes(1);
  expect_invalid(item, "before it starts");
}

TEST(Validate, AllDayNotOnMidnight) {
  Appointment item;
  item.all_day = true;
  item.start = utc(2024, 3, 4, 1);
  item.end = utc(2024, 3, 5);
  expect_invalid(item, "whole dates");
  item.start = utc(2024, 3, 4);
  item.end = utc(2024, 3, 4);
  expect_invalid(item, "at least one day");
}

TEST(Validate, NegativeReminder) {
  auto item = good_series();
  item.reminder = minutes(-5);
  expect_invalid(item, "-5 minutes");
  item.reminder = minutes(0);
  EXPECT_TRUE(validate(item));
  OccurrenceOverride change{};
  change.recurrence_id = utc(2024, 3, 18, 8);
  change.start = utc(2024, 3, 18, 8);
  change.end = utc(2024, 3, 18, 9);
  change.reminder = minutes(-1);
  item.recurrence->overrides = {change};
  expect_invalid(item, "occurrence 2024-03-18T08:00:00Z");
}

TEST(Validate, ImpossibleRules) {
  auto item = good_series();
  item.recurrence->rule = RecurrenceRule{};
  item.recurrence->rule.freq = Frequency::kYearly;
  item.recurrence->rule.by_month = {2};
  item.recurrence->rule.by_month_day = {30};
  expect_invalid(item, "BYMONTHDAY=30");

  item.recurrence->rule = RecurrenceRule{};
  item.recurrence->rule.interval = 0;
  expect_invalid(item, "INTERVAL");

  item.recurrence->rule = RecurrenceRule{};
  item.recurrence->rule.count = 3;
  item.recurrence->rule.until = utc(2025, 1, 1);
  expect_invalid(item, "COUNT and UNTIL");

  item.recurrence->rule = RecurrenceRule{};
  item.recurrence->rule.count = 0;
  expect_invalid(item, "COUNT");

  item.recurrence->rule = RecurrenceRule{};
  item.recurrence->rule.freq = Frequency::kMonthly;
  item.recurrence->rule.by_day = {WeekdayNum{6, Friday}};
  expect_invalid(item, "BYDAY=6FR");
}

TEST(Validate, ExdateThatIsNotAnOccurrence) {
  auto item = good_series();
  item.recurrence->exdates = {utc(2024, 3, 11, 8)};
  EXPECT_TRUE(validate(item));
  item.recurrence->exdates = {utc(2024, 3, 12, 8)};  // a Tuesday
  expect_invalid(item, "deleted occurrence 2024-03-12T08:00:00Z");
  // The wall-clock time after the DST change: 09:00 CEST is 07:00 UTC, not 08:00.
  item.recurrence->exdates = {utc(2024, 4, 1, 8)};
  expect_invalid(item, "is not an occurrence");
  item.recurrence->exdates = {utc(2024, 4, 1, 7)};
  EXPECT_TRUE(validate(item));
}

TEST(Validate, OverrideThatIsNotAnOccurrence) {
  auto item = good_series();
  OccurrenceOverride change{};
  change.recurrence_id = utc(2024, 3, 18, 8);
  change.start = utc(2024, 3, 19, 8);
  change.end = utc(2024, 3, 19, 9);
  item.recurrence->overrides = {change};
  EXPECT_TRUE(validate(item));
  item.recurrence->overrides[0].recurrence_id = utc(2024, 3, 18, 9);
  expect_invalid(item, "modified occurrence 2024-03-18T09:00:00Z");
  // Past the COUNT: not an occurrence either.
  item.recurrence->overrides[0].recurrence_id = utc(2024, 5, 13, 7);
  expect_invalid(item, "modified occurrence");
}

TEST(Validate, OverrideEndingBeforeItStartsAndDuplicates) {
  auto item = good_series();
  OccurrenceOverride change{};
  change.recurrence_id = utc(2024, 3, 18, 8);
  change.start = utc(2024, 3, 19, 8);
  change.end = utc(2024, 3, 19, 7);
  item.recurrence->overrides = {change};
  expect_invalid(item, "ends before it starts");
  change.end = utc(2024, 3, 19, 9);
  item.recurrence->overrides = {change, change};
  expect_invalid(item, "two overrides");
}

}  // namespace
}  // namespace agendasync
