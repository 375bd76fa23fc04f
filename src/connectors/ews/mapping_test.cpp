// core -> EWS XML -> core round trips for every recurrence pattern and range, with modified
// and deleted occurrences; custom time zones mapped by their rules; all-day items east and
// west of UTC never shift.
#include "connectors/ews/mapping.h"

#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "connectors/ews/calendar_schema.h"
#include "connectors/ews/responses.h"
#include "connectors/ews/testing/recurrence_cases.h"
#include "connectors/ews/testing/xsd_validator.h"
#include "connectors/ews/timezone_match.h"
#include "connectors/ews/timezone_xml.h"
#include "connectors/ews/xml.h"
#include "core/canonical.h"
#include "core/expand.h"
#include "core/time_zone.h"

namespace agendasync::ews {
namespace {

using testing::add_exceptions;
using testing::pattern_cases;
using testing::PatternCase;
using testing::rule;
using testing::timed_base;

using namespace std::chrono_literals;
using std::chrono::Friday;
using std::chrono::Monday;
using std::chrono::Saturday;
using std::chrono::Sunday;
using std::chrono::sys_days;
using std::chrono::Thursday;
using std::chrono::Tuesday;
using std::chrono::Wednesday;

void append_item(pugi::xml_node& items, const CalendarItem& item, const std::string& id) {
  write_calendar_item(items, item, ServerVersion::kExchange2016);
  pugi::xml_node written = items.last_child();
  pugi::xml_node item_id = written.prepend_child("t:ItemId");
  item_id.append_attribute("Id").set_value(id.c_str());
  item_id.append_attribute("ChangeKey").set_value("CK");
}

/// Plays Exchange: stores `appointment` as CreateItem would send it, then answers a GetItem
/// for the master (with ModifiedOccurrences/DeletedOccurrences) and for the modified
/// occurrences, as XML; parses that and maps it back.
Result<Appointment> through_exchange(const Appointment& appointment) {
  auto master = to_ews(appointment);
  if (!master) return std::unexpected(master.error());
  std::vector<CalendarItem> details;
  if (appointment.recurrence) {
    int n = 0;
    for (const OccurrenceOverride& o : appointment.recurrence->overrides) {
      const std::string id = "occ" + std::to_string(n++);
      CalendarItem detail;
      detail.item_id.id = id;
      detail.subject = o.subject;
      detail.body = o.body;
      detail.location = o.location;
      detail.free_busy = o.show_as;
      detail.sensitivity = o.sensitivity;
      detail.reminder_is_set = o.reminder.has_value();
      detail.reminder_minutes = o.reminder ? static_cast<int>(o.reminder->count()) : 15;
      detail.is_all_day = appointment.all_day;
      detail.start = *ews_instant(o.start, appointment.all_day, appointment.time_zone);
      detail.end = *ews_instant(o.end, appointment.all_day, appointment.time_zone);
      master->modified_occurrences.push_back(OccurrenceInfo{
          ItemId{id, "CK"}, detail.start, detail.end,
          *ews_instant(o.recurrence_id, appointment.all_day, appointment.time_zone)});
      details.push_back(detail);
    }
    for (const Instant exdate : appointment.recurrence->exdates)
      master->deleted_occurrences.push_back(
          *ews_instant(exdate, appointment.all_day, appointment.time_zone));
  }
  pugi::xml_document doc;
  pugi::xml_node envelope = doc.append_child("s:Envelope");
  envelope.append_attribute("xmlns:s").set_value(kSoapNs);
  envelope.append_attribute("xmlns:t").set_value(kTypesNs);
  envelope.append_attribute("xmlns:m").set_value(kMessagesNs);
  pugi::xml_node message = envelope.append_child("s:Body")
                               .append_child("m:GetItemResponse")
                               .append_child("m:ResponseMessages")
                               .append_child("m:GetItemResponseMessage");
  message.append_attribute("ResponseClass").set_value("Success");
  message.append_child("m:ResponseCode").text().set("NoError");
  pugi::xml_node items = message.append_child("m:Items");
  append_item(items, *master, "master");
  // The writer skips read-only fields; Exchange reports them, so add them as it would.
  pugi::xml_node master_node = items.last_child();
  if (!master->modified_occurrences.empty()) {
    pugi::xml_node list = master_node.append_child("t:ModifiedOccurrences");
    for (const OccurrenceInfo& info : master->modified_occurrences) {
      pugi::xml_node o = list.append_child("t:Occurrence");
      o.append_child("t:ItemId").append_attribute("Id").set_value(info.item_id.id.c_str());
      o.append_child("t:Start").text().set(format_date_time(info.start).c_str());
      o.append_child("t:End").text().set(format_date_time(info.end).c_str());
      o.append_child("t:OriginalStart").text().set(format_date_time(info.original_start).c_str());
    }
  }
  if (!master->deleted_occurrences.empty()) {
    pugi::xml_node list = master_node.append_child("t:DeletedOccurrences");
    for (const Instant start : master->deleted_occurrences)
      list.append_child("t:DeletedOccurrence")
          .append_child("t:Start")
          .text()
          .set(format_date_time(start).c_str());
  }
  for (const CalendarItem& detail : details) append_item(items, detail, detail.item_id.id);
  std::ostringstream text;
  doc.save(text, "", pugi::format_raw);
  auto parsed = parse_response(text.str());
  if (!parsed) return std::unexpected(parsed.error());
  const auto& read = parsed->messages.at(0).items;
  return from_ews(read.at(0), std::span<const CalendarItem>(read).subspan(1));
}

class PatternRoundTrip : public ::testing::TestWithParam<PatternCase> {};

TEST_P(PatternRoundTrip, CoreToEwsXmlToCoreIsEqual) {
  const PatternCase& c = GetParam();
  Appointment a = timed_base();
  ASSERT_TRUE(testing::apply_case(c, a)) << c.name;
  const auto back = through_exchange(a);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->recurrence->rule, a.recurrence->rule)
      << format_rrule(back->recurrence->rule) << " vs " << format_rrule(a.recurrence->rule);
  EXPECT_EQ(back->recurrence->exdates, a.recurrence->exdates);
  EXPECT_EQ(back->recurrence->overrides, a.recurrence->overrides);
  // What the engine compares: the canonical form (zones by their Windows id).
  EXPECT_EQ(content_hash(*back), content_hash(a)) << testing::differences(*back, a);
}

INSTANTIATE_TEST_SUITE_P(EveryPatternAndRange, PatternRoundTrip,
                         ::testing::ValuesIn(pattern_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// EWS carries Windows zone ids; they come back as CLDR's default zone of the id (Amsterdam
// becomes Berlin). Same rules, so the engine sees no change: the content hash is equal.
class ZoneRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(ZoneRoundTrip, SeriesComesBackWithTheSameContentHash) {
  Appointment a = timed_base(GetParam());
  a.recurrence = Recurrence{};
  a.recurrence->rule = rule(Frequency::kWeekly);
  a.recurrence->rule.by_day = {{0, std::chrono::Tuesday}};
  a.recurrence->rule.count = 8;
  ASSERT_TRUE(add_exceptions(a));
  const auto back = through_exchange(a);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(content_hash(*back), content_hash(a))
      << back->time_zone << " vs " << a.time_zone << ": " << testing::differences(*back, a);
  EXPECT_EQ(back->start, a.start);
  EXPECT_EQ(back->recurrence->overrides, a.recurrence->overrides);
}

INSTANTIATE_TEST_SUITE_P(NonDefaultZonesOfAWindowsId, ZoneRoundTrip,
                         ::testing::Values("Europe/Amsterdam", "Europe/Vienna", "America/Detroit",
                                           "Asia/Kolkata", "Europe/Berlin"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '/', '_');
                           return name;
                         });

TEST(Mapping, EwsPatternsForCanonicalRules) {
  Appointment a = timed_base();
  a.recurrence = Recurrence{};
  a.recurrence->rule = rule(Frequency::kMonthly);
  a.recurrence->rule.by_day = {{0, Saturday}, {0, Sunday}};
  a.recurrence->rule.by_set_pos = {-1};
  auto ews = to_ews(a);
  ASSERT_TRUE(ews);
  EXPECT_EQ(ews->recurrence->pattern.kind, PatternKind::kRelativeMonthly);
  EXPECT_EQ(ews->recurrence->pattern.days_of_week, std::vector<DayClass>{DayClass::kWeekendDay});
  EXPECT_EQ(ews->recurrence->pattern.day_of_week_index, -1);
  EXPECT_EQ(ews->recurrence->range.kind, RangeKind::kNoEnd);
  EXPECT_EQ(ews->recurrence->range.start_date, 2024y / 3 / 5);
  EXPECT_EQ(ews->start_time_zone->id, "W. Europe Standard Time");
}

TEST(Mapping, RulesExchangeCannotStoreAreUnsupported) {
  Appointment a = timed_base();
  a.recurrence = Recurrence{};
  a.recurrence->rule = rule(Frequency::kMonthly);
  a.recurrence->rule.by_month_day = {1, 15};
  const auto ews = to_ews(a);
  ASSERT_FALSE(ews);
  EXPECT_EQ(ews.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(ews.error().message.find("several days of the month"), std::string::npos);
}

// ---- all-day items east and west of UTC ----

class AllDay : public ::testing::TestWithParam<const char*> {};

TEST_P(AllDay, DatesNeverShift) {
  Appointment a;
  a.subject = "Holiday";
  a.all_day = true;
  a.time_zone = GetParam();
  a.start = sys_days{2024y / 1 / 10};
  a.end = sys_days{2024y / 1 / 12};
  a.show_as = ShowAs::kFree;
  const auto ews = to_ews(a);
  ASSERT_TRUE(ews);
  EXPECT_TRUE(ews->is_all_day);
  // Exchange stores all-day items as local midnight in their zone.
  EXPECT_EQ(ews->start, *to_utc(std::chrono::local_days{2024y / 1 / 10}, GetParam()));
  EXPECT_EQ(ews->end, *to_utc(std::chrono::local_days{2024y / 1 / 12}, GetParam()));
  const auto back = through_exchange(a);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, a);
}

INSTANTIATE_TEST_SUITE_P(EastAndWest, AllDay,
                         ::testing::Values("Pacific/Auckland", "Asia/Tokyo", "UTC",
                                           "America/Los_Angeles", "Pacific/Honolulu"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '/') c = '_';
                           return name;
                         });

// ---- custom time zones (R18) ----

TimeZoneDefinition definition_from(const std::string& xml) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(xml.c_str()));
  const auto zone = read_time_zone(doc.document_element());
  EXPECT_TRUE(zone);
  return zone.value_or(TimeZoneDefinition{});
}

TEST(CustomTimeZone, PacificRulesFromTheDocumentationMatchLosAngeles) {
  // The TimeZoneDefinition of Microsoft's "create a recurring series" example, renamed so
  // only its rules can identify it.
  const std::string file = testing::read_file(
      testing::conformance_dir() + "/ews-examples/create-a-recurring-series__01__CreateItem.xml");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(file.c_str()));
  pugi::xml_node node = descendant(doc, "TimeZoneDefinition");
  ASSERT_TRUE(node);
  auto zone = read_time_zone(node);
  ASSERT_TRUE(zone);
  zone->id = "Customized Time Zone";
  EXPECT_EQ(iana_for_definition(*zone, sys_days{2024y / 6 / 1}).value(), "America/Los_Angeles");
  // Before 2007 the US rules differed (April to October): the old group is used then.
  EXPECT_EQ(definition_offset(*zone, sys_days{2006y / 3 / 20} + 12h), -8h);
  EXPECT_EQ(definition_offset(*zone, sys_days{2024y / 3 / 20} + 12h), -7h);
}

TEST(CustomTimeZone, CentralEuropeanRulesMatchBerlin) {
  const auto zone = definition_from(R"(
    <t:StartTimeZone xmlns:t="x" Id="tzone://Microsoft/Custom" Name="Custom">
      <t:Periods>
        <t:Period Bias="-PT1H" Name="Standard" Id="Std"/>
        <t:Period Bias="-PT2H" Name="Daylight" Id="Dlt"/>
      </t:Periods>
      <t:TransitionsGroups><t:TransitionsGroup Id="0">
        <t:RecurringDayTransition><t:To Kind="Period">Dlt</t:To><t:TimeOffset>PT2H</t:TimeOffset>
          <t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence>
        </t:RecurringDayTransition>
        <t:RecurringDayTransition><t:To Kind="Period">Std</t:To><t:TimeOffset>PT3H</t:TimeOffset>
          <t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence>
        </t:RecurringDayTransition>
      </t:TransitionsGroup></t:TransitionsGroups>
      <t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions>
    </t:StartTimeZone>)");
  EXPECT_EQ(iana_for_definition(zone, sys_days{2024y / 1 / 1}).value(), "Europe/Berlin");
}

TEST(CustomTimeZone, FixedOffsetWithoutDaylightTime) {
  const auto zone = definition_from(R"(
    <t:StartTimeZone xmlns:t="x" Id="Customized Time Zone">
      <t:Periods><t:Period Bias="-PT330M" Name="Standard" Id="Std"/></t:Periods>
      <t:Transitions><t:Transition><t:To Kind="Period">Std</t:To></t:Transition></t:Transitions>
    </t:StartTimeZone>)");
  EXPECT_EQ(iana_for_definition(zone, sys_days{2024y / 1 / 1}).value(),
            iana_from_windows("India Standard Time").value());
}

TEST(CustomTimeZone, RulesNoZoneFollowsAreAClearError) {
  const auto zone = definition_from(R"(
    <t:StartTimeZone xmlns:t="x" Id="Customized Time Zone" Name="Mars Base">
      <t:Periods><t:Period Bias="-PT817M" Name="Standard" Id="Std"/></t:Periods>
    </t:StartTimeZone>)");
  const auto iana = iana_for_definition(zone, sys_days{2024y / 1 / 1});
  ASSERT_FALSE(iana);
  EXPECT_EQ(iana.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(iana.error().message.find("Mars Base"), std::string::npos);
}

TEST(CustomTimeZone, ItemInACustomZoneReadsInTheMatchingZone) {
  CalendarItem item;
  item.subject = "Custom";
  item.start = sys_days{2024y / 7 / 1} + 16h;  // 09:00 in Los Angeles (PDT)
  item.end = item.start + 1h;
  const std::string file = testing::read_file(
      testing::conformance_dir() + "/ews-examples/create-a-recurring-series__01__CreateItem.xml");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(file.c_str()));
  item.start_time_zone = read_time_zone(descendant(doc, "TimeZoneDefinition"));
  item.start_time_zone->id = "Customized Time Zone";
  const auto a = from_ews(item);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->time_zone, "America/Los_Angeles");
  EXPECT_EQ(a->start, item.start);
}

}  // namespace
}  // namespace agendasync::ews
