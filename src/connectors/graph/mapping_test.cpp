// Round trips core <-> Graph event JSON: every recurrence pattern and range, exceptions,
// all-day in far zones, Windows and IANA zone names, R39 attendees.
#include <gtest/gtest.h>

#include "connectors/graph/event_json.h"
#include "connectors/graph/recurrence_json.h"
#include "core/time_zone.h"

namespace agendasync {
/// Readable test failures for appointments.
void PrintTo(const Appointment& item, std::ostream* out) {
  *out << "{" << item.subject << " | " << item.body.content << " | " << item.location << " | "
       << item.all_day << " | " << item.start.time_since_epoch().count() << "-"
       << item.end.time_since_epoch().count() << " " << item.time_zone << " | "
       << static_cast<int>(item.sensitivity) << static_cast<int>(item.show_as) << " | "
       << item.categories.size() << " | " << (item.reminder ? item.reminder->count() : -1)
       << " | org " << item.organizer.has_value() << " | att " << item.attendees.size();
  if (item.recurrence) {
    *out << " | " << format_rrule(item.recurrence->rule) << " ex "
         << item.recurrence->exdates.size() << " ov " << item.recurrence->overrides.size();
  }
  *out << "}";
}
}  // namespace agendasync

namespace agendasync::graph {
namespace {

using nlohmann::json;
using namespace std::chrono;

Instant utc(int y, unsigned m, unsigned d, int h = 0, int min = 0) {
  return sys_days{year{y} / m / d} + hours(h) + minutes(min);
}

Instant local(std::string_view zone, int y, unsigned m, unsigned d, int h = 0, int min = 0,
              int s = 0) {
  return *to_utc(local_days{year{y} / m / d} + hours(h) + minutes(min) + seconds(s), zone);
}

/// What Graph gives back for what we wrote: our JSON plus the fields Graph adds.
json as_graph_answer(json written, const std::string& type) {
  written["id"] = "AAMk-1";
  written["@odata.etag"] = "W/\"abc\"";
  written["type"] = type;
  written["originalStartTimeZone"] = written["start"]["timeZone"];
  return written;
}

Appointment round_trip(const Appointment& item) {
  auto written = event_to_json(item, "key-1", WriteOptions{});
  EXPECT_TRUE(written) << written.error().message;
  if (!written) return {};
  auto event =
      parse_event(as_graph_answer(*written, item.recurrence ? "seriesMaster" : "singleInstance"));
  EXPECT_TRUE(event) << event.error().message;
  if (!event) return {};
  EXPECT_EQ(event->idempotency_key, "key-1");
  // Graph knows zones by their Windows name: the IANA id may come back as CLDR's default
  // for it (Asia/Kolkata -> Asia/Calcutta); the core compares zones by Windows id as well.
  if (windows_from_iana(event->item.time_zone).value_or("?") ==
      windows_from_iana(item.time_zone).value_or("!")) {
    event->item.time_zone = item.time_zone;
  }
  return event->item;
}

Appointment timed(std::string zone) {
  Appointment item;
  item.subject = "Planning";
  item.body = {BodyType::kHtml, "<p>Agenda</p>"};
  item.location = "Room 1";
  item.time_zone = zone;
  item.start = local(zone, 2025, 3, 10, 9, 30);
  item.end = local(zone, 2025, 3, 10, 11);
  item.sensitivity = Sensitivity::kPrivate;
  item.show_as = ShowAs::kOutOfOffice;
  item.categories = {"Red category", "Kunde"};
  item.reminder = minutes(15);
  return item;
}

TEST(GraphMapping, TimedItemRoundTripsWithEveryField) {
  for (const std::string zone :
       {"Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"}) {
    const auto item = timed(zone);
    EXPECT_EQ(round_trip(item), item) << zone;
  }
  auto no_reminder = timed("Europe/Berlin");
  no_reminder.reminder.reset();
  no_reminder.body = {BodyType::kText, "plain"};
  EXPECT_EQ(round_trip(no_reminder), no_reminder);
}

TEST(GraphMapping, WritesWindowsZoneNamesAndReadsBothKinds) {
  const auto written = event_to_json(timed("Europe/Berlin"), {}, WriteOptions{});
  ASSERT_TRUE(written);
  EXPECT_EQ((*written)["start"]["timeZone"], "W. Europe Standard Time");
  EXPECT_EQ((*written)["start"]["dateTime"], "2025-03-10T09:30:00");
  for (const std::string name : {"W. Europe Standard Time", "Europe/Berlin"}) {
    const json event = {
        {"start", {{"dateTime", "2025-07-01T10:00:00.0000000"}, {"timeZone", name}}},
        {"end", {{"dateTime", "2025-07-01T11:00:00.0000000"}, {"timeZone", name}}},
        {"originalStartTimeZone", name}};
    auto parsed = parse_event(event);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->item.start, utc(2025, 7, 1, 8)) << name;
    EXPECT_EQ(parsed->item.time_zone, "Europe/Berlin") << name;
  }
}

TEST(GraphMapping, AllDayInFarZonesKeepsTheDate) {
  for (const std::string zone : {"Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Auckland",
                                 "America/Adak", "Europe/Berlin"}) {
    Appointment item;
    item.subject = "Holiday";
    item.all_day = true;
    item.time_zone = zone;
    item.start = utc(2025, 3, 10);
    item.end = utc(2025, 3, 12);
    auto written = event_to_json(item, {}, WriteOptions{});
    ASSERT_TRUE(written);
    EXPECT_EQ((*written)["start"]["dateTime"], "2025-03-10T00:00:00") << zone;
    EXPECT_EQ((*written)["end"]["dateTime"], "2025-03-12T00:00:00") << zone;
    // Graph answers all-day events midnight to midnight in UTC whatever was preferred.
    json answer = as_graph_answer(*written, "singleInstance");
    answer["start"] = {{"dateTime", "2025-03-10T00:00:00.0000000"}, {"timeZone", "UTC"}};
    answer["end"] = {{"dateTime", "2025-03-12T00:00:00.0000000"}, {"timeZone", "UTC"}};
    auto parsed = parse_event(answer);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(windows_from_iana(parsed->item.time_zone).value_or("?"),
              windows_from_iana(zone).value_or("!"));
    parsed->item.time_zone = zone;
    EXPECT_EQ(parsed->item, item) << zone;
  }
}

struct RuleCase {
  const char* rrule;
  bool until = false;
};

TEST(GraphMapping, EveryPatternAndRangeRoundTrips) {
  const RuleCase cases[] = {
      {"FREQ=DAILY;INTERVAL=2;COUNT=10"},
      {"FREQ=DAILY"},
      {"FREQ=WEEKLY;BYDAY=MO,WE,FR;WKST=SU", true},
      {"FREQ=WEEKLY;INTERVAL=3;BYDAY=MO;COUNT=5"},
      {"FREQ=MONTHLY;BYMONTHDAY=10"},
      {"FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1;COUNT=6"},
      {"FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1", true},
      {"FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1"},
      {"FREQ=MONTHLY;BYDAY=2MO;COUNT=3"},
      {"FREQ=MONTHLY;BYDAY=-1FR", true},
      {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"},
      {"FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=1;COUNT=4"},
      {"FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=10"},
      {"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1;COUNT=8"},
      {"FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=-1"},
      {"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", true},
      {"FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=2"},
  };
  for (const std::string zone : {"Europe/Berlin", "America/New_York", "Pacific/Kiritimati"}) {
    for (const auto& test : cases) {
      for (const bool all_day : {false, true}) {
        auto rule = parse_rrule(test.rrule);
        ASSERT_TRUE(rule) << test.rrule;
        Appointment item = timed(zone);
        if (all_day) {
          item.all_day = true;
          item.start = utc(2025, 3, 10);
          item.end = utc(2025, 3, 11);
        }
        if (test.until) {
          rule->until = all_day ? utc(2025, 12, 31) : local(zone, 2025, 12, 31, 23, 59, 59);
        }
        item.recurrence = Recurrence{*rule, {}, {}};
        EXPECT_EQ(round_trip(item), item) << test.rrule << " " << zone << " all-day " << all_day;
      }
    }
  }
}

TEST(GraphMapping, DocumentedPatternShapes) {
  const auto pattern_of = [](const char* rrule) {
    Appointment item = timed("Europe/Berlin");
    item.recurrence = Recurrence{*parse_rrule(rrule), {}, {}};
    return (*event_to_json(item, {}, WriteOptions{}))["recurrence"];
  };
  const auto last_weekday = pattern_of("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1");
  EXPECT_EQ(last_weekday["pattern"]["type"], "relativeMonthly");
  EXPECT_EQ(last_weekday["pattern"]["index"], "last");
  EXPECT_EQ(last_weekday["pattern"]["daysOfWeek"].size(), 5u);
  EXPECT_EQ(pattern_of("FREQ=MONTHLY;BYMONTHDAY=-1")["pattern"]["dayOfMonth"], 31);
  EXPECT_EQ(pattern_of("FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1")["pattern"]["dayOfMonth"],
            30);
  EXPECT_EQ(pattern_of("FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1")["pattern"]["dayOfMonth"], 29);
  const auto counted = pattern_of("FREQ=DAILY;COUNT=7");
  EXPECT_EQ(counted["range"]["type"], "numbered");
  EXPECT_EQ(counted["range"]["numberOfOccurrences"], 7);
  EXPECT_EQ(counted["range"]["startDate"], "2025-03-10");
  EXPECT_EQ(counted["range"]["recurrenceTimeZone"], "W. Europe Standard Time");
  EXPECT_EQ(pattern_of("FREQ=DAILY")["range"]["type"], "noEnd");
  // Weekly without BYDAY takes the weekday of the start (a Monday).
  EXPECT_EQ(pattern_of("FREQ=WEEKLY")["pattern"]["daysOfWeek"], json::array({"monday"}));
}

TEST(GraphMapping, WeekStartIsReadForWeeklyPatternsOnly) {
  // Exchange answers firstDayOfWeek "sunday" on every pattern but keeps it for weekly ones.
  const auto rule_of = [](const char* type) {
    const json recurrence = {{"pattern",
                              {{"type", type},
                               {"interval", 1},
                               {"daysOfWeek", {"friday"}},
                               {"index", "last"},
                               {"firstDayOfWeek", "sunday"}}},
                             {"range", {{"type", "noEnd"}, {"startDate", "2025-03-28"}}}};
    return rule_from_graph(recurrence, "Europe/Berlin", false);
  };
  auto weekly = rule_of("weekly");
  ASSERT_TRUE(weekly) << weekly.error().message;
  EXPECT_EQ(weekly->week_start, std::chrono::Sunday);
  auto monthly = rule_of("relativeMonthly");
  ASSERT_TRUE(monthly) << monthly.error().message;
  EXPECT_EQ(format_rrule(*monthly), "FREQ=MONTHLY;BYDAY=-1FR");
}

TEST(GraphMapping, Exchange29To31ReadAsLastDayOfShortMonths) {
  const auto rule_for = [](int day) {
    return rule_from_graph(
        json{{"pattern", {{"type", "absoluteMonthly"}, {"interval", 1}, {"dayOfMonth", day}}},
             {"range", {{"type", "noEnd"}, {"startDate", "2025-01-31"}}}},
        "UTC", false);
  };
  EXPECT_EQ(rule_for(31)->by_month_day, std::vector<int>{-1});
  EXPECT_EQ(rule_for(30)->by_month_day, (std::vector<int>{28, 29, 30}));
  EXPECT_EQ(rule_for(30)->by_set_pos, std::vector<int>{-1});
  EXPECT_EQ(rule_for(29)->by_month_day, (std::vector<int>{28, 29}));
  EXPECT_EQ(rule_for(15)->by_month_day, std::vector<int>{15});
}

TEST(GraphMapping, RulesGraphCannotExpressAreRefused) {
  for (const char* rrule :
       {"FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=MONTHLY;BYDAY=5MO", "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1", "FREQ=MONTHLY;BYDAY=MO"}) {
    Appointment item = timed("Europe/Berlin");
    item.recurrence = Recurrence{*parse_rrule(rrule), {}, {}};
    auto written = event_to_json(item, {}, WriteOptions{});
    ASSERT_FALSE(written) << rrule;
    EXPECT_EQ(written.error().kind, ErrorKind::kUnsupported) << rrule;
  }
}

TEST(GraphMapping, InstancesBecomeOverridesAndExdates) {
  Appointment master = timed("UTC");
  master.recurrence = Recurrence{*parse_rrule("FREQ=WEEKLY;BYDAY=MO;COUNT=4"), {}, {}};
  std::vector<GraphEvent> instances;
  for (int week = 0; week < 4; ++week) {
    if (week == 2) continue;  // cancelled: Graph does not list it
    GraphEvent instance;
    instance.id = "occ" + std::to_string(week);
    instance.type = week == 1 ? EventType::kException : EventType::kOccurrence;
    instance.original_start = master.start + days(7 * week);
    instance.item = master;
    instance.item.recurrence.reset();
    instance.item.start = *instance.original_start;
    instance.item.end = instance.item.start + minutes(90);
    if (week == 1) {
      instance.item.start += hours(4);
      instance.item.end += hours(4);
      instance.item.subject = "Moved";
    }
    instances.push_back(instance);
  }
  ASSERT_TRUE(merge_instances(master, instances, master.start - days(1), master.start + days(60)));
  ASSERT_EQ(master.recurrence->exdates.size(), 1u);
  EXPECT_EQ(master.recurrence->exdates[0], master.start + days(14));
  ASSERT_EQ(master.recurrence->overrides.size(), 1u);
  EXPECT_EQ(master.recurrence->overrides[0].recurrence_id, master.start + days(7));
  EXPECT_EQ(master.recurrence->overrides[0].subject, "Moved");
  EXPECT_EQ(master.recurrence->overrides[0].start, master.start + days(7) + hours(4));
}

TEST(GraphMapping, AttendeesAreNeverWrittenAsAttendeesUnlessAsked) {
  Appointment item = timed("Europe/Berlin");
  item.body = {BodyType::kText, "Notes"};
  item.attendees = {Attendee{{"Ann", "ann@example.com"}, AttendeeRole::kRequired, {}}};
  auto written = event_to_json(item, {}, WriteOptions{});
  ASSERT_TRUE(written);
  EXPECT_FALSE(written->contains("attendees"));
  const std::string content = (*written)["body"]["content"];
  EXPECT_NE(content.find("Ann <ann@example.com>"), std::string::npos);
  // Reading strips the note again, so the body does not grow on each round trip.
  auto parsed = parse_event(as_graph_answer(*written, "singleInstance"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->item.body.content, "Notes");
  auto meeting = event_to_json(item, {}, WriteOptions{.real_meetings = true});
  ASSERT_TRUE(meeting);
  ASSERT_TRUE(meeting->contains("attendees"));
  EXPECT_EQ((*meeting)["attendees"][0]["emailAddress"]["address"], "ann@example.com");
}

TEST(GraphMapping, PatchCarriesOnlyChangedProperties) {
  const Appointment before = timed("Europe/Berlin");
  Appointment after = before;
  after.subject = "Renamed";
  auto patch = event_patch(before, after, WriteOptions{});
  ASSERT_TRUE(patch);
  EXPECT_EQ(patch->size(), 1u) << patch->dump();
  EXPECT_EQ((*patch)["subject"], "Renamed");
  after.end += minutes(30);
  patch = event_patch(before, after, WriteOptions{});
  ASSERT_TRUE(patch);
  EXPECT_TRUE(patch->contains("start"));  // start and end travel together
  EXPECT_TRUE(patch->contains("end"));
  EXPECT_TRUE(event_patch(before, before, WriteOptions{})->empty());
}

TEST(GraphMapping, UnreadableValuesFailWithInvalidData) {
  auto parsed = parse_event(json{{"start", {{"dateTime", "soon"}, {"timeZone", "UTC"}}}});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidData);
  EXPECT_FALSE(parse_event(json::array()));
  auto rule = rule_from_graph(json{{"pattern", {{"type", "hourly"}}}}, "UTC", false);
  ASSERT_FALSE(rule);
  EXPECT_EQ(rule.error().kind, ErrorKind::kInvalidData);
}

TEST(GraphEventJson, LastModifiedIsRead) {
  auto event =
      parse_event(json{{"id", "e1"},
                       {"subject", "s"},
                       {"lastModifiedDateTime", "2027-01-05T08:30:12.1234567Z"},
                       {"start", {{"dateTime", "2027-01-11T09:00:00"}, {"timeZone", "UTC"}}},
                       {"end", {{"dateTime", "2027-01-11T10:00:00"}, {"timeZone", "UTC"}}}});
  ASSERT_TRUE(event) << event.error().message;
  ASSERT_TRUE(event->last_modified);
  EXPECT_EQ(*event->last_modified, utc(2027, 1, 5, 8, 30) + seconds(12));
  EXPECT_FALSE(parse_event(json{{"id", "e2"}, {"lastModifiedDateTime", "yesterday"}}));
}

TEST(GraphEventJson, StringAtIgnoresNullAndOtherTypes) {
  const json entry = {{"id", "E1"}, {"seriesMasterId", nullptr}, {"n", 3}};
  EXPECT_EQ(string_at(entry, "id"), "E1");
  EXPECT_EQ(string_at(entry, "seriesMasterId"), "");
  EXPECT_EQ(string_at(entry, "n"), "");
  EXPECT_EQ(string_at(entry, "missing"), "");
  EXPECT_EQ(string_at(json(nullptr), "id"), "");
}

}  // namespace
}  // namespace agendasync::graph
