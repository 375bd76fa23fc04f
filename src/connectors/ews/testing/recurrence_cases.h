#pragma once
/// Test-only: one case per EWS recurrence pattern and range, in the model's canonical form,
/// shared by the XML round-trip tests and the exsim integration tests.
#include <optional>
#include <string>
#include <vector>

#include "core/appointment.h"
#include "core/expand.h"
#include "core/time_zone.h"

namespace agendasync::ews::testing {

using namespace std::chrono_literals;
using std::chrono::Friday;
using std::chrono::Monday;
using std::chrono::Saturday;
using std::chrono::Sunday;
using std::chrono::sys_days;
using std::chrono::Thursday;
using std::chrono::Tuesday;
using std::chrono::Wednesday;

inline Appointment timed_base(const std::string& zone = "Europe/Berlin") {
  Appointment a;
  a.subject = "Team meeting";
  a.body = Body{BodyType::kHtml, "<b>weekly</b>"};
  a.location = "Room 4";
  a.time_zone = zone;
  a.start = *to_utc(std::chrono::local_days{2024y / 3 / 5} + 9h, zone);  // a Tuesday
  a.end = a.start + 45min;
  a.sensitivity = Sensitivity::kPrivate;
  a.show_as = ShowAs::kTentative;
  a.categories = {"Green", "Sales"};
  a.reminder = 10min;
  return a;
}

/// Adds a deleted second occurrence and a moved, renamed third occurrence.
inline bool add_exceptions(Appointment& a) {
  auto occurrences = expand(a, a.start, a.start + std::chrono::days{10 * 366}, 4);
  if (!occurrences || occurrences->size() < 3) return false;
  a.recurrence->exdates = {(*occurrences)[1].recurrence_id};
  OccurrenceOverride o;
  o.recurrence_id = (*occurrences)[2].recurrence_id;
  o.start = o.recurrence_id + (a.all_day ? std::chrono::days{1} : 2h);
  o.end = o.start + (a.end - a.start);
  o.subject = "Moved";
  o.body = Body{BodyType::kText, "moved"};
  o.location = "Elsewhere";
  o.show_as = ShowAs::kOutOfOffice;
  o.sensitivity = Sensitivity::kNormal;
  o.reminder = std::nullopt;
  a.recurrence->overrides = {o};
  return true;
}

struct PatternCase {
  const char* name;
  RecurrenceRule rule;
  bool all_day = false;
  /// The series' first day when it is not the base item's (e.g. a series on the 31st).
  std::optional<std::chrono::year_month_day> start_date = std::nullopt;
};

inline RecurrenceRule rule(Frequency freq, int interval = 1) {
  RecurrenceRule r;
  r.freq = freq;
  r.interval = interval;
  return r;
}

inline std::vector<PatternCase> pattern_cases() {
  std::vector<PatternCase> out;
  {
    auto r = rule(Frequency::kDaily, 2);
    r.count = 10;
    out.push_back({"DailyNumbered", r});
  }
  {
    auto r = rule(Frequency::kWeekly);
    r.by_day = {{0, Monday}, {0, Tuesday}, {0, Friday}};
    r.week_start = Sunday;
    out.push_back({"WeeklyEndDate", r});  // until set below from the 6th occurrence
  }
  {
    auto r = rule(Frequency::kWeekly, 3);
    r.by_day = {{0, Tuesday}};
    out.push_back({"WeeklyEvery3NoEnd", r});
  }
  {
    auto r = rule(Frequency::kMonthly);
    r.by_month_day = {5};
    out.push_back({"AbsoluteMonthlyNoEnd", r});
  }
  {
    auto r = rule(Frequency::kMonthly, 2);
    r.by_day = {{1, Tuesday}};
    r.count = 6;
    out.push_back({"RelativeMonthlyFirstTuesday", r});
  }
  {
    auto r = rule(Frequency::kMonthly);
    r.by_day = {{-1, Friday}};
    r.count = 6;
    out.push_back({"RelativeMonthlyLastFriday", r});
  }
  {
    auto r = rule(Frequency::kMonthly);
    r.by_day = {{0, Monday}, {0, Tuesday}, {0, Wednesday}, {0, Thursday}, {0, Friday}};
    r.by_set_pos = {-1};
    r.count = 8;
    out.push_back({"RelativeMonthlyLastWeekday", r});
  }
  {
    auto r = rule(Frequency::kMonthly);
    r.by_day = {{0, Saturday}, {0, Sunday}};
    r.by_set_pos = {3};
    out.push_back({"RelativeMonthlyThirdWeekendDay", r});
  }
  {
    auto r = rule(Frequency::kMonthly);
    r.by_day = {{0, Monday}, {0, Tuesday},  {0, Wednesday}, {0, Thursday},
                {0, Friday}, {0, Saturday}, {0, Sunday}};
    r.by_set_pos = {2};
    r.count = 5;
    out.push_back({"RelativeMonthlySecondDay", r});
  }
  {
    auto r = rule(Frequency::kYearly);
    r.by_month = {3};
    r.by_month_day = {5};
    r.count = 4;
    out.push_back({"AbsoluteYearly", r});
  }
  {
    auto r = rule(Frequency::kYearly);
    r.by_month = {3};
    r.by_day = {{1, Tuesday}};
    out.push_back({"RelativeYearlyNoEnd", r});
  }
  {
    auto r = rule(Frequency::kYearly, 2);
    r.by_month = {3};
    r.by_month_day = {5};
    r.count = 3;
    out.push_back({"EveryTwoYears", r});
  }
  // Exchange's DayOfMonth 29-31: the last day of a shorter month (MS-OXCICAL).
  {
    auto r = rule(Frequency::kMonthly);
    r.by_month_day = {-1};
    r.count = 6;
    out.push_back({"AbsoluteMonthlyDay31", r, false, 2024y / 1 / 31});
  }
  {
    auto r = rule(Frequency::kMonthly);
    r.by_month_day = {28, 29, 30};
    r.by_set_pos = {-1};
    r.count = 6;
    out.push_back({"AbsoluteMonthlyDay30", r, false, 2024y / 1 / 30});
  }
  {
    auto r = rule(Frequency::kMonthly);
    r.by_month_day = {28, 29};
    r.by_set_pos = {-1};
    out.push_back({"AbsoluteMonthlyDay29NoEnd", r, false, 2024y / 1 / 29});
  }
  {
    auto r = rule(Frequency::kYearly);
    r.by_month = {2};
    r.by_month_day = {28, 29};
    r.by_set_pos = {-1};
    r.count = 5;
    out.push_back({"AbsoluteYearlyFebruary29", r, false, 2024y / 2 / 29});
  }
  {
    auto r = rule(Frequency::kDaily);
    r.count = 5;
    out.push_back({"AllDayDaily", r, true});
  }
  {
    auto r = rule(Frequency::kWeekly);
    r.by_day = {{0, Tuesday}, {0, Thursday}};
    out.push_back({"AllDayWeeklyEndDate", r, true});
  }
  return out;
}

/// Applies a case to the base item: all-day dates, and UNTIL at the 6th occurrence for the
/// "EndDate" cases. False when the case cannot be expanded.
inline bool apply_case(const PatternCase& c, Appointment& a) {
  if (c.all_day) {
    a.all_day = true;
    a.start = sys_days{2024y / 3 / 5};
    a.end = sys_days{2024y / 3 / 6};
  }
  if (c.start_date) {
    const auto moved = to_utc(std::chrono::local_days{*c.start_date} + 9h, a.time_zone);
    if (!moved) return false;
    a.end = *moved + (a.end - a.start);
    a.start = *moved;
  }
  a.recurrence = Recurrence{c.rule, {}, {}};
  if (std::string(c.name).ends_with("EndDate")) {
    auto occurrences = expand(a, a.start, a.start + std::chrono::days{400}, 6);
    if (!occurrences || occurrences->empty()) return false;
    a.recurrence->rule.until = occurrences->back().recurrence_id;
  }
  return add_exceptions(a);
}

/// The names of the fields in which two appointments differ (test failure messages).
inline std::string differences(const Appointment& a, const Appointment& b) {
  std::string out;
  const auto check = [&](const char* name, bool same) {
    if (!same) out += std::string(name) + " ";
  };
  check("subject", a.subject == b.subject);
  check("body", a.body == b.body);
  check("location", a.location == b.location);
  check("all_day", a.all_day == b.all_day);
  check("start", a.start == b.start);
  check("end", a.end == b.end);
  check("time_zone", a.time_zone == b.time_zone);
  check("recurrence", a.recurrence == b.recurrence);
  check("sensitivity", a.sensitivity == b.sensitivity);
  check("show_as", a.show_as == b.show_as);
  check("categories", a.categories == b.categories);
  check("reminder", a.reminder == b.reminder);
  check("organizer", a.organizer == b.organizer);
  check("attendees", a.attendees == b.attendees);
  check("online_meeting_url", a.online_meeting_url == b.online_meeting_url);
  return out;
}

}  // namespace agendasync::ews::testing
