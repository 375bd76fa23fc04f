// Customised time zones placed by their own rules, and the Windows zone set GetServerTimeZones
// lists, checked against ICU's offsets.
#include "exsim/calendar/zone_rules.h"

#include <gtest/gtest.h>

#include "core/time_zone.h"
#include "exsim/calendar/windows_zones.h"
#include "exsim/store/ews_time.h"

namespace exsim {
namespace {

using namespace std::chrono;

/// A "Customized Time Zone" as Outlook sends it for a zone unknown to Exchange: UTC+3 standard,
/// UTC+4 from the last Sunday of March 02:00 to the last Sunday of October 03:00 — not any
/// real zone's rules, so only the definition can place the times.
constexpr const char* kCustomised = R"(
<t:StartTimeZone xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
    Id="Customized Time Zone" Name="Customized Time Zone">
  <t:Periods>
    <t:Period Bias="-PT3H" Name="Standard" Id="Std"/>
    <t:Period Bias="-PT4H" Name="Daylight" Id="Dlt"/>
  </t:Periods>
  <t:TransitionsGroups>
    <t:TransitionsGroup Id="0">
      <t:RecurringDayTransition><t:To Kind="Period">Dlt</t:To><t:TimeOffset>PT2H</t:TimeOffset>
        <t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence>
      </t:RecurringDayTransition>
      <t:RecurringDayTransition><t:To Kind="Period">Std</t:To><t:TimeOffset>PT3H</t:TimeOffset>
        <t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence>
      </t:RecurringDayTransition>
    </t:TransitionsGroup>
  </t:TransitionsGroups>
  <t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions>
</t:StartTimeZone>)";

local_seconds wall(int y, unsigned m, unsigned d, int h, int min = 0) {
  return local_days{year{y} / m / d} + hours{h} + minutes{min};
}

sys_seconds utc(int y, unsigned m, unsigned d, int h, int min = 0) {
  return sys_days{year{y} / m / d} + hours{h} + minutes{min};
}

TEST(ZoneRules, CustomisedDefinitionAppliesItsOwnDaylightTime) {
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(kCustomised));
  Zone zone = Zone::from_element(doc.document_element());
  EXPECT_TRUE(zone.iana().empty());
  // Winter: UTC+3; summer: UTC+4 (2030: last Sundays are 31 March and 27 October).
  EXPECT_EQ(zone.to_utc(wall(2030, 1, 15, 10)), utc(2030, 1, 15, 7));
  EXPECT_EQ(zone.to_utc(wall(2030, 7, 15, 10)), utc(2030, 7, 15, 6));
  EXPECT_EQ(zone.to_utc(wall(2030, 3, 30, 10)), utc(2030, 3, 30, 7));
  EXPECT_EQ(zone.to_utc(wall(2030, 4, 1, 10)), utc(2030, 4, 1, 6));
  EXPECT_EQ(zone.to_utc(wall(2030, 10, 26, 10)), utc(2030, 10, 26, 6));
  EXPECT_EQ(zone.to_utc(wall(2030, 10, 28, 10)), utc(2030, 10, 28, 7));
  // The gap (02:30 does not exist on 31 March) moves forward; the overlap takes the earlier.
  EXPECT_EQ(zone.to_utc(wall(2030, 3, 31, 2, 30)), utc(2030, 3, 30, 23, 30));
  EXPECT_EQ(zone.to_utc(wall(2030, 10, 27, 2, 30)), utc(2030, 10, 26, 22, 30));
  EXPECT_EQ(zone.to_local(utc(2030, 7, 15, 6)), wall(2030, 7, 15, 10));
  EXPECT_EQ(zone.to_local(utc(2030, 12, 15, 7)), wall(2030, 12, 15, 10));
}

TEST(ZoneRules, SouthernHemisphereAndYearGroups) {
  // Daylight time across the new year (UTC-3 / UTC-2), and from 2031 on no DST at all.
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(R"(
<TimeZoneDefinition Id="Customized Time Zone">
  <Periods><Period Bias="PT3H" Name="Standard" Id="S"/><Period Bias="PT2H" Name="Daylight" Id="D"/>
    <Period Bias="PT3H" Name="Standard" Id="S2031"/></Periods>
  <TransitionsGroups>
    <TransitionsGroup Id="0">
      <RecurringDayTransition><To Kind="Period">D</To><TimeOffset>PT0H</TimeOffset><Month>11</Month>
        <DayOfWeek>Sunday</DayOfWeek><Occurrence>1</Occurrence></RecurringDayTransition>
      <RecurringDayTransition><To Kind="Period">S</To><TimeOffset>PT0H</TimeOffset><Month>2</Month>
        <DayOfWeek>Sunday</DayOfWeek><Occurrence>3</Occurrence></RecurringDayTransition>
    </TransitionsGroup>
    <TransitionsGroup Id="1"><Transition><To Kind="Period">S2031</To></Transition></TransitionsGroup>
  </TransitionsGroups>
  <Transitions><Transition><To Kind="Group">0</To></Transition>
    <AbsoluteDateTransition><To Kind="Group">1</To><DateTime>2031-01-01T00:00:00</DateTime>
    </AbsoluteDateTransition></Transitions>
</TimeZoneDefinition>)"));
  Zone zone = Zone::from_element(doc.document_element());
  EXPECT_EQ(zone.to_utc(wall(2030, 1, 10, 12)), utc(2030, 1, 10, 14));  // daylight, UTC-2
  EXPECT_EQ(zone.to_utc(wall(2030, 6, 10, 12)), utc(2030, 6, 10, 15));  // standard, UTC-3
  EXPECT_EQ(zone.to_utc(wall(2030, 12, 10, 12)), utc(2030, 12, 10, 14));
  EXPECT_EQ(zone.to_utc(wall(2031, 1, 10, 12)), utc(2031, 1, 10, 15));  // group 1: no DST
}

TEST(ZoneRules, LegacyMeetingTimeZoneWithDaylightTime) {
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(R"(
<MeetingTimeZone TimeZoneName="Our Own Pacific">
  <BaseOffset>PT8H</BaseOffset>
  <Standard><Offset>PT0H</Offset><RelativeYearlyRecurrence><DaysOfWeek>Sunday</DaysOfWeek>
    <DayOfWeekIndex>First</DayOfWeekIndex><Month>November</Month></RelativeYearlyRecurrence>
    <Time>02:00:00</Time></Standard>
  <Daylight><Offset>-PT1H</Offset><RelativeYearlyRecurrence><DaysOfWeek>Sunday</DaysOfWeek>
    <DayOfWeekIndex>Second</DayOfWeekIndex><Month>March</Month></RelativeYearlyRecurrence>
    <Time>02:00:00</Time></Daylight>
</MeetingTimeZone>)"));
  Zone zone = Zone::from_element(doc.document_element());
  EXPECT_EQ(zone.to_utc(wall(2030, 1, 10, 9)), utc(2030, 1, 10, 17));
  EXPECT_EQ(zone.to_utc(wall(2030, 7, 10, 9)), utc(2030, 7, 10, 16));
}

TEST(ZoneRules, WrittenDefinitionReadsBackWithTheSameOffsets) {
  const WindowsZone* pacific = find_windows_zone("Pacific Standard Time");
  ASSERT_NE(pacific, nullptr);
  pugi::xml_document doc;
  write_time_zone_definition(doc, "t:TimeZoneDefinition", "Customized Time Zone", "x",
                             {pacific->current});
  auto rules = RuleBasedZone::from_element(doc.document_element());
  ASSERT_TRUE(rules);
  // The current year's rules against ICU over the whole current year, hour by hour.
  int y = pacific->current.from_year;
  for (sys_seconds t = utc(y, 1, 1, 0); t < utc(y + 1, 1, 1, 0); t += hours{1}) {
    auto expected = agendasync::utc_offset(t, "America/Los_Angeles");
    ASSERT_TRUE(expected);
    ASSERT_EQ(rules->offset_at(t), *expected) << format_utc(t);
  }
}

TEST(WindowsZones, TheFullSetWithCurrentRules) {
  const auto& zones = windows_zones();
  EXPECT_GE(zones.size(), 130u);
  for (const char* id : {"UTC", "Romance Standard Time", "Russian Standard Time",
                         "China Standard Time", "E. South America Standard Time",
                         "New Zealand Standard Time", "Dateline Standard Time", "UTC-11"}) {
    EXPECT_NE(find_windows_zone(id), nullptr) << id;
  }
  // Every zone's rules agree with ICU at two instants of the current year (winter, summer).
  for (const WindowsZone& z : zones) {
    RuleBasedZone rules({z.current});
    int y = z.current.from_year;
    for (sys_seconds t : {utc(y, 1, 20, 12), utc(y, 7, 20, 12)}) {
      auto expected = agendasync::utc_offset(t, z.iana);
      ASSERT_TRUE(expected) << z.id;
      EXPECT_EQ(rules.offset_at(t), *expected) << z.id << " at " << format_utc(t);
    }
  }
  const WindowsZone* europe = find_windows_zone("W. Europe Standard Time");
  ASSERT_TRUE(europe->current.daylight);
  EXPECT_EQ(europe->current.daylight->start.month, March);
  EXPECT_EQ(europe->current.daylight->start.occurrence, -1);
  EXPECT_EQ(europe->current.daylight->start.time_of_day, hours{2});
  EXPECT_EQ(europe->current.daylight->end.time_of_day, hours{3});
  EXPECT_EQ(find_windows_zone("New Zealand Standard Time")->name.substr(0, 11), "(UTC+12:00)");
}

}  // namespace
}  // namespace exsim
