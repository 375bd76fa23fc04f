#include "exsim/calendar/recurrence.h"

#include <gtest/gtest.h>

#include "exsim/store/ews_time.h"

namespace exsim {
namespace {

using namespace std::chrono;

std::vector<std::string> expand(const char* xml, size_t max = 10) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(xml));
  std::string error;
  auto rule = parse_recurrence(doc.document_element(), error);
  EXPECT_TRUE(rule) << error;
  std::vector<std::string> out;
  if (!rule) return out;
  for (auto d : expand_dates(*rule, year{2030} / 1 / 1, max)) out.push_back(format_date(d));
  return out;
}

TEST(Recurrence, WeeklyNumberedOnTwoDays) {
  auto got = expand(
      "<t:Recurrence><t:WeeklyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Monday Thursday"
      "</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2024-01-04</"
      "t:StartDate>"
      "<t:NumberOfOccurrences>4</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>");
  EXPECT_EQ(got,
            (std::vector<std::string>{"2024-01-04", "2024-01-15", "2024-01-18", "2024-01-29"}));
}

TEST(Recurrence, RelativeMonthlyLastFriday) {
  auto got = expand(
      "<Recurrence><RelativeMonthlyRecurrence><Interval>1</Interval><DaysOfWeek>Friday</DaysOfWeek>"
      "<DayOfWeekIndex>Last</DayOfWeekIndex></RelativeMonthlyRecurrence><EndDateRecurrence>"
      "<StartDate>2024-01-01Z</StartDate><EndDate>2024-03-31Z</EndDate></EndDateRecurrence></"
      "Recurrence>");
  EXPECT_EQ(got, (std::vector<std::string>{"2024-01-26", "2024-02-23", "2024-03-29"}));
}

TEST(Recurrence, AbsoluteMonthlyClampsToMonthEnd) {
  auto got = expand(
      "<Recurrence><AbsoluteMonthlyRecurrence><Interval>1</Interval><DayOfMonth>31</DayOfMonth>"
      "</AbsoluteMonthlyRecurrence><NumberedRecurrence><StartDate>2024-01-31</StartDate>"
      "<NumberOfOccurrences>3</NumberOfOccurrences></NumberedRecurrence></Recurrence>");
  EXPECT_EQ(got, (std::vector<std::string>{"2024-01-31", "2024-02-29", "2024-03-31"}));
}

TEST(Recurrence, RelativeYearlyFirstWeekdayOfSeptember) {
  auto got = expand(
      "<Recurrence><RelativeYearlyRecurrence><DaysOfWeek>Weekday</DaysOfWeek><DayOfWeekIndex>First"
      "</DayOfWeekIndex><Month>September</Month></RelativeYearlyRecurrence><NoEndRecurrence>"
      "<StartDate>2024-01-01</StartDate></NoEndRecurrence></Recurrence>",
      2);
  EXPECT_EQ(got, (std::vector<std::string>{"2024-09-02", "2025-09-01"}));
}

TEST(Recurrence, AbsoluteYearlyAndDaily) {
  EXPECT_EQ(
      expand("<R><AbsoluteYearlyRecurrence><DayOfMonth>29</DayOfMonth><Month>February</Month>"
             "</AbsoluteYearlyRecurrence><NumberedRecurrence><StartDate>2024-01-01</StartDate>"
             "<NumberOfOccurrences>2</NumberOfOccurrences></NumberedRecurrence></R>"),
      (std::vector<std::string>{"2024-02-29", "2025-02-28"}));
  EXPECT_EQ(
      expand("<R><DailyRecurrence><Interval>3</Interval></DailyRecurrence><NumberedRecurrence>"
             "<StartDate>2024-02-27</StartDate><NumberOfOccurrences>3</NumberOfOccurrences>"
             "</NumberedRecurrence></R>"),
      (std::vector<std::string>{"2024-02-27", "2024-03-01", "2024-03-04"}));
}

TEST(Recurrence, RejectsMissingRange) {
  pugi::xml_document doc;
  doc.load_string("<R><DailyRecurrence><Interval>1</Interval></DailyRecurrence></R>");
  std::string error;
  EXPECT_FALSE(parse_recurrence(doc.document_element(), error));
  EXPECT_NE(error.find("range"), std::string::npos);
}

TEST(Zone, WindowsIdFollowsDaylightSaving) {
  Zone z = Zone::from_windows_id("W. Europe Standard Time");
  ASSERT_EQ(z.iana(), "Europe/Berlin");
  auto winter = parse_date_time("2024-01-15T09:00:00")->wall;
  auto summer = parse_date_time("2024-07-15T09:00:00")->wall;
  EXPECT_EQ(format_utc(z.to_utc(winter)), "2024-01-15T08:00:00Z");
  EXPECT_EQ(format_utc(z.to_utc(summer)), "2024-07-15T07:00:00Z");
}

TEST(Zone, CustomisedDefinitionUsesStandardBias) {
  pugi::xml_document doc;
  doc.load_string(
      "<t:StartTimeZone Id=\"Customized Time Zone\"><t:Periods><t:Period Bias=\"-PT330M\" "
      "Name=\"Standard\" Id=\"x\"/></t:Periods></t:StartTimeZone>");
  Zone z = Zone::from_element(doc.document_element());
  EXPECT_EQ(format_utc(z.to_utc(parse_date_time("2024-01-15T09:00:00")->wall)),
            "2024-01-15T03:30:00Z");
}

}  // namespace
}  // namespace exsim
