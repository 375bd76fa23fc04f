#include "core/rule_shape.h"

#include <gtest/gtest.h>

namespace agendasync {
namespace {

int most(const char* text) {
  RecurrenceRule rule;
  // Parsed without check_rule's shape test so impossible rules can be measured too.
  auto parsed = parse_rrule(text);
  if (parsed) return detail::max_candidates_per_period(*parsed);
  return -1;
}

TEST(RuleShape, CountsTheFullestPeriod) {
  // Weekdays of a month: at most 23 (a 31-day month starting on a Monday... to Wednesday).
  RecurrenceRule weekdays;
  weekdays.freq = Frequency::kMonthly;
  for (auto day : {std::chrono::Monday, std::chrono::Tuesday, std::chrono::Wednesday,
                   std::chrono::Thursday, std::chrono::Friday}) {
    weekdays.by_day.push_back(WeekdayNum{0, day});
  }
  EXPECT_EQ(detail::max_candidates_per_period(weekdays), 23);
  weekdays.by_month = {2};
  EXPECT_EQ(detail::max_candidates_per_period(weekdays), 21);  // a leap February
  EXPECT_EQ(most("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1"), 5);
  EXPECT_EQ(most("FREQ=YEARLY;BYDAY=SU;BYSETPOS=1"), 53);
  EXPECT_EQ(most("FREQ=YEARLY;BYMONTH=1,2;BYDAY=MO;BYSETPOS=1"), 9);
  EXPECT_EQ(most("FREQ=WEEKLY;BYDAY=MO,MO,TU;BYSETPOS=1"), 2);
  EXPECT_EQ(most("FREQ=MONTHLY;BYMONTHDAY=1,15,-1;BYSETPOS=1"), 3);
}

TEST(RuleShape, ZeroForRulesThatCanNeverOccur) {
  RecurrenceRule rule;
  rule.freq = Frequency::kMonthly;
  rule.by_month_day = {31};
  rule.by_day = {WeekdayNum{1, std::chrono::Monday}};  // the first Monday is day 1..7
  EXPECT_EQ(detail::max_candidates_per_period(rule), 0);
  rule.by_month_day = {-25};  // day 7 of a 31-day month, day 4 of February: can be 1MO
  EXPECT_GT(detail::max_candidates_per_period(rule), 0);
}

TEST(RuleShape, CheckRuleRefusesUnreachablePositions) {
  for (const char* text :
       {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-131",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=24",
        "FREQ=YEARLY;BYMONTH=1,2;BYDAY=MO;BYSETPOS=10", "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3",
        "FREQ=DAILY;BYDAY=MO;BYSETPOS=2", "FREQ=MONTHLY;BYMONTHDAY=31;BYDAY=1MO"}) {
    auto rule = parse_rrule(text);
    ASSERT_FALSE(rule) << text;
    EXPECT_EQ(rule.error().kind, ErrorKind::kInvalidData);
    EXPECT_NE(rule.error().message.find("can never occur"), std::string::npos)
        << rule.error().message;
  }
  EXPECT_TRUE(parse_rrule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=23"));
  EXPECT_TRUE(parse_rrule("FREQ=YEARLY;BYMONTH=1,2;BYDAY=MO;BYSETPOS=9"));
  EXPECT_TRUE(parse_rrule("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5,-6"));
}

}  // namespace
}  // namespace agendasync
