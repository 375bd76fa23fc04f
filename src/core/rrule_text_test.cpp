#include <gtest/gtest.h>

#include "core/recurrence.h"

namespace agendasync {
namespace {

using namespace std::chrono;

TEST(RruleText, ParsesEveryPart) {
  auto rule = parse_rrule(
      "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR,2MO,TU;BYMONTHDAY=1,-3;BYMONTH=1,12;BYSETPOS=-1,2;"
      "WKST=SU;COUNT=7");
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->freq, Frequency::kMonthly);
  EXPECT_EQ(rule->interval, 2);
  ASSERT_EQ(rule->by_day.size(), 3u);
  EXPECT_EQ(rule->by_day[0], (WeekdayNum{-1, Friday}));
  EXPECT_EQ(rule->by_day[1], (WeekdayNum{2, Monday}));
  EXPECT_EQ(rule->by_day[2], (WeekdayNum{0, Tuesday}));
  EXPECT_EQ(rule->by_month_day, (std::vector<int>{1, -3}));
  EXPECT_EQ(rule->by_month, (std::vector<int>{1, 12}));
  EXPECT_EQ(rule->by_set_pos, (std::vector<int>{-1, 2}));
  EXPECT_EQ(rule->week_start, Sunday);
  EXPECT_EQ(rule->count, 7);
  EXPECT_FALSE(rule->until);
}

TEST(RruleText, UntilAsDateOrUtcDateTime) {
  auto by_date = parse_rrule("FREQ=DAILY;UNTIL=20241231");
  ASSERT_TRUE(by_date);
  EXPECT_EQ(by_date->until, sys_seconds(sys_days(2024y / 12 / 31)));
  auto by_time = parse_rrule("FREQ=DAILY;UNTIL=20241231T235959Z");
  ASSERT_TRUE(by_time);
  EXPECT_EQ(by_time->until, sys_days(2024y / 12 / 31) + hours(23) + minutes(59) + seconds(59));
}

TEST(RruleText, CaseInsensitiveAndTrailingSemicolon) {
  auto rule = parse_rrule("freq=weekly;byday=mo,we;");
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->freq, Frequency::kWeekly);
  EXPECT_EQ(rule->by_day.size(), 2u);
}

TEST(RruleText, FormatIsCanonicalAndRoundTrips) {
  auto rule = parse_rrule("COUNT=5;BYDAY=-1FR;FREQ=MONTHLY");
  ASSERT_TRUE(rule);
  EXPECT_EQ(format_rrule(*rule), "FREQ=MONTHLY;BYDAY=-1FR;COUNT=5");
  for (const char* text :
       {"FREQ=DAILY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU;UNTIL=20250101T100000Z",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=3"}) {
    auto parsed = parse_rrule(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().message;
    EXPECT_EQ(format_rrule(*parsed), text);
    EXPECT_EQ(parse_rrule(format_rrule(*parsed)).value(), *parsed);
  }
}

TEST(RruleText, UntilAsDateForAllDaySeries) {
  auto rule = parse_rrule("FREQ=DAILY;UNTIL=20241231");
  ASSERT_TRUE(rule);
  EXPECT_EQ(format_rrule(*rule, UntilForm::kDate), "FREQ=DAILY;UNTIL=20241231");
  EXPECT_EQ(format_rrule(*rule), "FREQ=DAILY;UNTIL=20241231T000000Z");
}

/// Each bad input fails with kInvalidData and a message naming the offending part.
struct BadRule {
  const char* text;
  const char* named;
};

class RruleTextErrors : public testing::TestWithParam<BadRule> {};

TEST_P(RruleTextErrors, NameTheOffendingPart) {
  auto rule = parse_rrule(GetParam().text);
  ASSERT_FALSE(rule) << GetParam().text;
  EXPECT_EQ(rule.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(rule.error().message.find(GetParam().named), std::string::npos) << rule.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RruleTextErrors,
    testing::Values(
        BadRule{"", "FREQ is missing"}, BadRule{"INTERVAL=2", "FREQ is missing"},
        BadRule{"FREQ=FORTNIGHTLY", "FREQ=FORTNIGHTLY"}, BadRule{"FREQ=HOURLY", "FREQ=HOURLY"},
        BadRule{"FREQ=DAILY;INTERVAL=0", "INTERVAL=0"},
        BadRule{"FREQ=DAILY;INTERVAL=-2", "INTERVAL=-2"},
        BadRule{"FREQ=DAILY;INTERVAL=x", "INTERVAL=x"}, BadRule{"FREQ=DAILY;COUNT=0", "COUNT=0"},
        BadRule{"FREQ=DAILY;COUNT=99999999999", "COUNT=99999999999"},
        BadRule{"FREQ=DAILY;COUNT=2;UNTIL=20240101", "COUNT and UNTIL"},
        BadRule{"FREQ=DAILY;UNTIL=20240101T000000", "floating"},
        BadRule{"FREQ=DAILY;UNTIL=20240230", "UNTIL=20240230"},
        BadRule{"FREQ=DAILY;UNTIL=2024", "UNTIL=2024"},
        BadRule{"FREQ=DAILY;UNTIL=20240101T250000Z", "UNTIL=20240101T250000Z"},
        BadRule{"FREQ=WEEKLY;BYDAY=XX", "BYDAY=XX"}, BadRule{"FREQ=MONTHLY;BYDAY=0MO", "BYDAY=0MO"},
        BadRule{"FREQ=WEEKLY;BYDAY=1MO", "BYDAY=1MO"},
        BadRule{"FREQ=MONTHLY;BYDAY=6MO", "BYDAY=6MO"},
        BadRule{"FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY=32"},
        BadRule{"FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0"},
        BadRule{"FREQ=YEARLY;BYMONTH=13", "BYMONTH=13"},
        BadRule{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "BYMONTHDAY=30"},
        BadRule{"FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31", "BYMONTH=4,6"},
        BadRule{"FREQ=WEEKLY;BYMONTHDAY=3", "WEEKLY"},
        BadRule{"FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS"}, BadRule{"FREQ=WEEKLY;WKST=XX", "WKST=XX"},
        BadRule{"FREQ=DAILY;FREQ=WEEKLY", "more than once"},
        BadRule{"FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO"},
        BadRule{"FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY"}, BadRule{"FREQ=DAILY;BYHOUR=9", "BYHOUR"},
        BadRule{"FREQ=DAILY;COLOR=red", "COLOR"}, BadRule{"FREQ=DAILY;COUNT", "NAME=VALUE"},
        BadRule{"FREQ=DAILY;COUNT=", "empty"}));

TEST(RruleText, CheckRuleCatchesStructsParsingNeverBuilds) {
  RecurrenceRule rule;
  rule.interval = 0;
  EXPECT_FALSE(check_rule(rule));
  rule.interval = 1;
  rule.count = 3;
  rule.until = sys_days(2024y / 1 / 1);
  EXPECT_FALSE(check_rule(rule));
  rule.until.reset();
  EXPECT_TRUE(check_rule(rule));
}

}  // namespace
}  // namespace agendasync
