#include "core/canonical.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

namespace agendasync {
namespace {

using namespace std::chrono;

Instant utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return sys_days(year(y) / month(m) / day(d)) + hours(hh) + minutes(mm);
}

Appointment fixed_item() {
  Appointment item;
  item.subject = "Quarterly review";
  item.body = Body{BodyType::kHtml, "<p>Agenda</p>\r\n<p>Numbers</p>  \r\n"};
  item.location = "Room 4.12";
  item.start = utc(2024, 3, 4, 8);
  item.end = utc(2024, 3, 4, 9, 30);
  item.time_zone = "Europe/Amsterdam";
  item.recurrence =
      Recurrence{parse_rrule("FREQ=WEEKLY;BYDAY=MO;COUNT=10").value(), {utc(2024, 3, 18, 8)}, {}};
  OccurrenceOverride moved{};
  moved.recurrence_id = utc(2024, 3, 11, 8);
  moved.start = utc(2024, 3, 12, 8);
  moved.end = utc(2024, 3, 12, 9);
  moved.subject = "Quarterly review (moved)";
  item.recurrence->overrides = {moved};
  item.sensitivity = Sensitivity::kPrivate;
  item.show_as = ShowAs::kTentative;
  item.categories = {"Blue", "Finance"};
  item.reminder = minutes(15);
  item.organizer = Person{"Dana Martina", "DMARTINA@afas.nl"};
  item.attendees = {Attendee{Person{"Jo Doe", "jo@example.com"}, AttendeeRole::kRequired,
                             ResponseStatus::kAccepted},
                    Attendee{Person{"Room 1", "room1@example.com"}, AttendeeRole::kResource,
                             ResponseStatus::kNone}};
  item.online_meeting_url = "https://teams.example.com/l/meetup/1";
  item.activity_type = "Meeting";
  item.owner = "DMARTINA";
  item.participants = {"JDOE"};
  return item;
}

TEST(Canonical, GoldenHashIsStable) {
  // Checked in on purpose: a change here changes every stored hash (bump the format line).
  EXPECT_EQ(content_hash(fixed_item()),
            "ddba4f7b3156407b08ce71c14b2862b8007a397b1a7c1e4c67be4e41b3fe5ede");
}

TEST(Canonical, HashIsLowercaseHexSha256) {
  const std::string hash = content_hash(fixed_item());
  ASSERT_EQ(hash.size(), 64u);
  for (char c : hash) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << hash;
}

TEST(Canonical, OrderOfCategoriesAttendeesExdatesOverridesDoesNotMatter) {
  Appointment a = fixed_item();
  Appointment b = fixed_item();
  std::reverse(b.categories.begin(), b.categories.end());
  std::reverse(b.attendees.begin(), b.attendees.end());
  OccurrenceOverride other{};
  other.recurrence_id = utc(2024, 3, 25, 8);
  other.start = utc(2024, 3, 25, 10);
  other.end = utc(2024, 3, 25, 11);
  a.recurrence->overrides.push_back(other);
  b.recurrence->overrides.insert(b.recurrence->overrides.begin(), other);
  a.recurrence->exdates.push_back(utc(2024, 4, 1, 7));
  b.recurrence->exdates.insert(b.recurrence->exdates.begin(), utc(2024, 4, 1, 7));
  EXPECT_EQ(canonical_form(a), canonical_form(b));
  EXPECT_EQ(content_hash(a), content_hash(b));
}

TEST(Canonical, BodyLineEndingsAndTrailingSpaceDoNotMatter) {
  Appointment a = fixed_item();
  Appointment b = fixed_item();
  b.body.content = "<p>Agenda</p>\n<p>Numbers</p>";
  EXPECT_EQ(content_hash(a), content_hash(b));
  b.organizer->email = "dmartina@AFAS.nl";
  EXPECT_EQ(content_hash(a), content_hash(b));
}

TEST(Canonical, HostOnlyFieldsAreExcluded) {
  Appointment b = fixed_item();
  b.activity_type = "Personal";
  b.project_task = true;
  b.owner = "SOMEONE";
  b.participants = {"A", "B"};
  EXPECT_EQ(content_hash(fixed_item()), content_hash(b));
}

TEST(Canonical, EverySyncedFieldChangesTheHash) {
  const std::vector<std::pair<const char*, std::function<void(Appointment&)>>> edits = {
      {"subject", [](Appointment& a) { a.subject += "!"; }},
      {"body type", [](Appointment& a) { a.body.type = BodyType::kText; }},
      {"body", [](Appointment& a) { a.body.content = "<p>Other</p>"; }},
      {"location", [](Appointment& a) { a.location = "Room 5"; }},
      {"all-day", [](Appointment& a) { a.all_day = true; }},
      {"start", [](Appointment& a) { a.start -= minutes(30); }},
      {"end", [](Appointment& a) { a.end += minutes(30); }},
      {"zone", [](Appointment& a) { a.time_zone = "America/New_York"; }},
      {"recurrence", [](Appointment& a) { a.recurrence.reset(); }},
      {"rule", [](Appointment& a) { a.recurrence->rule.count = 11; }},
      {"exdate", [](Appointment& a) { a.recurrence->exdates.push_back(utc(2024, 4, 8, 7)); }},
      {"override start", [](Appointment& a) { a.recurrence->overrides[0].start += minutes(5); }},
      {"override end", [](Appointment& a) { a.recurrence->overrides[0].end += minutes(5); }},
      {"override subject", [](Appointment& a) { a.recurrence->overrides[0].subject = "x"; }},
      {"override body", [](Appointment& a) { a.recurrence->overrides[0].body.content = "x"; }},
      {"override location", [](Appointment& a) { a.recurrence->overrides[0].location = "x"; }},
      {"override show-as",
       [](Appointment& a) { a.recurrence->overrides[0].show_as = ShowAs::kFree; }},
      {"override sensitivity",
       [](Appointment& a) { a.recurrence->overrides[0].sensitivity = Sensitivity::kPrivate; }},
      {"override reminder",
       [](Appointment& a) { a.recurrence->overrides[0].reminder = minutes(5); }},
      {"sensitivity", [](Appointment& a) { a.sensitivity = Sensitivity::kNormal; }},
      {"show-as", [](Appointment& a) { a.show_as = ShowAs::kBusy; }},
      {"category added", [](Appointment& a) { a.categories.push_back("Red"); }},
      {"category renamed", [](Appointment& a) { a.categories[0] = "Green"; }},
      {"reminder", [](Appointment& a) { a.reminder = minutes(10); }},
      {"reminder off", [](Appointment& a) { a.reminder.reset(); }},
      {"organizer", [](Appointment& a) { a.organizer->email = "other@afas.nl"; }},
      {"organizer name", [](Appointment& a) { a.organizer->name = "D. Martina"; }},
      {"organizer removed", [](Appointment& a) { a.organizer.reset(); }},
      {"attendee added",
       [](Appointment& a) {
         a.attendees.push_back(Attendee{Person{"X", "x@example.com"}});
       }},
      {"attendee role", [](Appointment& a) { a.attendees[0].role = AttendeeRole::kOptional; }},
      {"attendee response",
       [](Appointment& a) { a.attendees[0].response = ResponseStatus::kDeclined; }},
      {"online meeting", [](Appointment& a) { a.online_meeting_url.clear(); }},
  };
  const std::string base = content_hash(fixed_item());
  std::set<std::string> seen{base};
  for (const auto& [name, edit] : edits) {
    Appointment changed = fixed_item();
    edit(changed);
    const std::string hash = content_hash(changed);
    EXPECT_NE(hash, base) << name;
    EXPECT_TRUE(seen.insert(hash).second) << name << " collides with another edit";
  }
}

TEST(Canonical, ValuesCannotForgeOtherFields) {
  Appointment a = fixed_item();
  a.subject = "x\nlocation: y";
  Appointment b = fixed_item();
  b.subject = "x";
  b.location = "y";
  EXPECT_NE(canonical_form(a), canonical_form(b));
}

TEST(Canonical, ZonesAreComparedAsExchangeKnowsThem) {
  // Amsterdam and Berlin are both "W. Europe Standard Time": an Exchange round trip may turn
  // one into the other, which is no change. London is another zone.
  Appointment a = fixed_item();
  Appointment b = fixed_item();
  b.time_zone = "Europe/Berlin";
  EXPECT_EQ(content_hash(a), content_hash(b));
  b.time_zone = "Europe/London";
  EXPECT_NE(content_hash(a), content_hash(b));
}

TEST(Canonical, AllDayZoneDoesNotMatter) {
  Appointment a;
  a.all_day = true;
  a.start = utc(2024, 3, 4);
  a.end = utc(2024, 3, 5);
  a.time_zone = "Pacific/Honolulu";
  Appointment b = a;
  b.time_zone = "Asia/Tokyo";
  EXPECT_EQ(content_hash(a), content_hash(b));
}

TEST(MatchKey, SubjectTrimmedCaseFoldedTimesAndPattern) {
  Appointment a = fixed_item();
  Appointment b = fixed_item();
  b.subject = "  QUARTERLY   Review ";
  b.body.content = "different";
  b.categories.clear();
  EXPECT_EQ(match_key(a), match_key(b));
  b.subject = "Überleg";
  a.subject = "ÜBERLEG";
  EXPECT_EQ(match_key(a), match_key(b));
  b.start += minutes(1);
  EXPECT_NE(match_key(a), match_key(b));
  b = a;
  b.recurrence->rule.count = 12;
  EXPECT_NE(match_key(a), match_key(b));
  b.recurrence.reset();
  EXPECT_NE(match_key(a), match_key(b));
}

TEST(MatchKey, UntilComparedAsADate) {
  Appointment a = fixed_item();
  a.recurrence->rule.count.reset();
  a.recurrence->rule.until = utc(2024, 6, 30);
  Appointment b = a;
  b.recurrence->rule.until = utc(2024, 6, 30, 8);
  EXPECT_EQ(match_key(a), match_key(b));
}

}  // namespace
}  // namespace agendasync
