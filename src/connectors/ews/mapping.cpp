#include "connectors/ews/mapping.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "connectors/ews/timezone_match.h"
#include "core/time_zone.h"

namespace agendasync::ews {

namespace {

using std::chrono::days;
using std::chrono::local_days;
using std::chrono::sys_days;
using std::chrono::weekday;
using std::chrono::year_month_day;

constexpr std::array<weekday, 5> kWeekdays{std::chrono::Monday, std::chrono::Tuesday,
                                           std::chrono::Wednesday, std::chrono::Thursday,
                                           std::chrono::Friday};
constexpr std::array<weekday, 2> kWeekend{std::chrono::Saturday, std::chrono::Sunday};
constexpr std::array<weekday, 7> kAllDays{
    std::chrono::Monday, std::chrono::Tuesday,  std::chrono::Wednesday, std::chrono::Thursday,
    std::chrono::Friday, std::chrono::Saturday, std::chrono::Sunday};

DayClass day_class(weekday day) { return static_cast<DayClass>(day.c_encoding()); }
std::optional<weekday> single_day(DayClass day) {
  if (day > DayClass::kSaturday) return std::nullopt;
  return weekday{static_cast<unsigned>(day)};
}

/// Weekday order used in the model: Monday first, as RFC 5545 examples list them.
void sort_days(std::vector<WeekdayNum>& days) {
  std::sort(days.begin(), days.end(), [](const WeekdayNum& a, const WeekdayNum& b) {
    return a.day.iso_encoding() < b.day.iso_encoding();
  });
}

template <std::size_t N>
bool same_set(std::vector<weekday> days, const std::array<weekday, N>& expected) {
  if (days.size() != N) return false;
  for (const weekday d : expected) {
    if (std::find(days.begin(), days.end(), d) == days.end()) return false;
  }
  return true;
}

/// The relative-pattern day (single weekday, or Day/Weekday/WeekendDay with a set position)
/// of a rule; nullopt when the rule has another shape.
std::optional<std::pair<DayClass, int>> relative_day(const RecurrenceRule& rule) {
  if (rule.by_day.size() == 1 && rule.by_set_pos.empty() && rule.by_day[0].ordinal != 0) {
    const int ordinal = rule.by_day[0].ordinal;
    if (ordinal == -1 || (ordinal >= 1 && ordinal <= 4))
      return std::pair{day_class(rule.by_day[0].day), ordinal};
    return std::nullopt;
  }
  if (rule.by_set_pos.size() != 1 || rule.by_day.empty()) return std::nullopt;
  const int pos = rule.by_set_pos[0];
  if (!(pos == -1 || (pos >= 1 && pos <= 4))) return std::nullopt;
  std::vector<weekday> days;
  for (const WeekdayNum& d : rule.by_day) {
    if (d.ordinal != 0) return std::nullopt;
    days.push_back(d.day);
  }
  if (days.size() == 1) return std::pair{day_class(days[0]), pos};
  if (same_set(days, kWeekdays)) return std::pair{DayClass::kWeekday, pos};
  if (same_set(days, kWeekend)) return std::pair{DayClass::kWeekendDay, pos};
  if (same_set(days, kAllDays)) return std::pair{DayClass::kDay, pos};
  return std::nullopt;
}

void set_relative_day(RecurrenceRule& rule, DayClass day, int index) {
  if (const auto single = single_day(day)) {
    rule.by_day = {WeekdayNum{index, *single}};
    return;
  }
  std::span<const weekday> days = day == DayClass::kWeekday ? std::span<const weekday>(kWeekdays)
                                  : day == DayClass::kWeekendDay
                                      ? std::span<const weekday>(kWeekend)
                                      : std::span<const weekday>(kAllDays);
  rule.by_day.clear();
  for (const weekday d : days) rule.by_day.push_back(WeekdayNum{0, d});
  sort_days(rule.by_day);
  rule.by_set_pos = {index};
}

// Exchange (MS-OXCICAL) puts an absolute DayOfMonth of 29-31 on the last day of a shorter
// month, where RFC 5545's BYMONTHDAY=29..31 would skip that month. These are the RRULE forms
// that expand the way Exchange shows the series.
const std::vector<int> kUpTo29{28, 29};
const std::vector<int> kUpTo30{28, 29, 30};

/// The DayOfMonth (29-31) that `rule`'s "last day, at most N" form stands for; nullopt for
/// any other shape.
std::optional<int> clamped_month_day(const RecurrenceRule& rule) {
  if (!rule.by_day.empty()) return std::nullopt;
  if (rule.by_set_pos.empty() && rule.by_month_day == std::vector<int>{-1}) return 31;
  if (rule.by_set_pos != std::vector<int>{-1}) return std::nullopt;
  if (rule.by_month_day == kUpTo30) return 30;
  if (rule.by_month_day == kUpTo29) return 29;
  return std::nullopt;
}

/// The reverse of clamped_month_day: DayOfMonth 29-31 becomes "that day or the month's last".
void set_clamped_month_day(RecurrenceRule& rule, int day_of_month) {
  switch (day_of_month) {
    case 31:
      rule.by_month_day = {-1};
      break;
    case 30:
      rule.by_month_day = kUpTo30;
      rule.by_set_pos = {-1};
      break;
    case 29:
      rule.by_month_day = kUpTo29;
      rule.by_set_pos = {-1};
      break;
    default:
      rule.by_month_day = {day_of_month};
  }
}

Error unsupported_rule(std::string_view what) {
  return Error::make(ErrorKind::kUnsupported,
                     fmt::format("Exchange cannot store this recurrence: {}. Edit the series in "
                                 "the agenda to a daily, weekly, monthly or yearly pattern.",
                                 what));
}

/// The local wall time of the item's start in its zone (all-day: the date at midnight).
Result<std::chrono::local_seconds> local_start(const Appointment& item) {
  if (item.all_day) return std::chrono::local_seconds{item.start.time_since_epoch()};
  return to_local(item.start, item.time_zone);
}

Result<EwsRecurrence> to_ews_recurrence(const Appointment& item) {
  const RecurrenceRule& rule = item.recurrence->rule;
  const auto local = local_start(item);
  if (!local) return std::unexpected(local.error());
  const local_days start_day = std::chrono::floor<days>(*local);
  const year_month_day start_date{start_day};
  const weekday start_weekday{start_day};

  EwsRecurrence out;
  RecurrencePattern& p = out.pattern;
  p.interval = rule.interval;
  if (rule.interval < 1) return std::unexpected(unsupported_rule("an interval below 1"));
  if (!rule.by_month.empty() && rule.freq != Frequency::kYearly)
    return std::unexpected(unsupported_rule("BYMONTH outside a yearly rule"));
  switch (rule.freq) {
    case Frequency::kDaily:
      if (!rule.by_day.empty() || !rule.by_month_day.empty() || !rule.by_set_pos.empty()) {
        // "Every weekday" is a weekly pattern in EWS.
        if (rule.interval != 1 || !rule.by_month_day.empty() || !rule.by_set_pos.empty())
          return std::unexpected(unsupported_rule("a daily rule with BY* parts"));
        p.kind = PatternKind::kWeekly;
        for (const WeekdayNum& d : rule.by_day) {
          if (d.ordinal != 0)
            return std::unexpected(unsupported_rule("a daily rule with BYDAY ordinals"));
          p.days_of_week.push_back(day_class(d.day));
        }
        p.first_day_of_week = day_class(rule.week_start);
      } else {
        p.kind = PatternKind::kDaily;
      }
      break;
    case Frequency::kWeekly:
      p.kind = PatternKind::kWeekly;
      if (!rule.by_month_day.empty() || !rule.by_set_pos.empty())
        return std::unexpected(unsupported_rule("a weekly rule with BYMONTHDAY or BYSETPOS"));
      for (const WeekdayNum& d : rule.by_day) {
        if (d.ordinal != 0) return std::unexpected(unsupported_rule("a weekly rule with ordinals"));
        p.days_of_week.push_back(day_class(d.day));
      }
      if (p.days_of_week.empty()) p.days_of_week.push_back(day_class(start_weekday));
      p.first_day_of_week = day_class(rule.week_start);
      break;
    case Frequency::kMonthly:
    case Frequency::kYearly: {
      const bool yearly = rule.freq == Frequency::kYearly;
      if (yearly && rule.by_month.size() > 1)
        return std::unexpected(unsupported_rule("a yearly rule in several months"));
      const int month =
          rule.by_month.empty() ? static_cast<int>(unsigned{start_date.month()}) : rule.by_month[0];
      if (!rule.by_month_day.empty() || rule.by_day.empty()) {
        int day = 0;
        if (const auto clamped = clamped_month_day(rule)) {
          day = *clamped;
        } else {
          if (rule.by_month_day.size() > 1 || !rule.by_day.empty() || !rule.by_set_pos.empty())
            return std::unexpected(unsupported_rule("several days of the month"));
          day = rule.by_month_day.empty() ? static_cast<int>(unsigned{start_date.day()})
                                          : rule.by_month_day[0];
          if (day < 1)
            return std::unexpected(unsupported_rule("a day counted from the month's end"));
        }
        p.kind = yearly ? PatternKind::kAbsoluteYearly : PatternKind::kAbsoluteMonthly;
        p.day_of_month = day;
      } else {
        const auto relative = relative_day(rule);
        if (!relative)
          return std::unexpected(unsupported_rule("this combination of BYDAY/BYSETPOS"));
        p.kind = yearly ? PatternKind::kRelativeYearly : PatternKind::kRelativeMonthly;
        p.days_of_week = {relative->first};
        p.day_of_week_index = relative->second;
      }
      p.month = month;
      if (yearly && rule.interval > 1) {
        // EWS yearly patterns have no interval: every n years is every 12n months.
        p.kind = p.kind == PatternKind::kAbsoluteYearly ? PatternKind::kAbsoluteMonthly
                                                        : PatternKind::kRelativeMonthly;
        p.interval = rule.interval * 12;
        if (p.interval > 999)
          return std::unexpected(unsupported_rule("an interval above 83 years"));
      }
      break;
    }
  }
  out.range.start_date = start_date;
  if (rule.count && rule.until)
    return std::unexpected(unsupported_rule("COUNT and UNTIL together"));
  if (rule.count) {
    out.range.kind = RangeKind::kNumbered;
    out.range.count = *rule.count;
  } else if (rule.until) {
    out.range.kind = RangeKind::kEndDate;
    if (item.all_day) {
      out.range.end_date = year_month_day{std::chrono::floor<days>(*rule.until)};
    } else {
      const auto until_local = to_local(*rule.until, item.time_zone);
      if (!until_local) return std::unexpected(until_local.error());
      out.range.end_date = year_month_day{std::chrono::floor<days>(*until_local)};
    }
  } else {
    out.range.kind = RangeKind::kNoEnd;
  }
  return out;
}

Result<RecurrenceRule> from_ews_recurrence(const EwsRecurrence& recurrence, bool all_day,
                                           std::chrono::local_seconds local_start_time,
                                           const std::string& zone) {
  const RecurrencePattern& p = recurrence.pattern;
  RecurrenceRule rule;
  rule.interval = p.interval;
  switch (p.kind) {
    case PatternKind::kDaily:
      rule.freq = Frequency::kDaily;
      break;
    case PatternKind::kWeekly:
      rule.freq = Frequency::kWeekly;
      for (const DayClass day : p.days_of_week) {
        const auto single = single_day(day);
        if (!single) {
          // A class in a weekly list: expand it to its days.
          RecurrenceRule expanded;
          set_relative_day(expanded, day, 1);
          for (const WeekdayNum& d : expanded.by_day) rule.by_day.push_back(d);
          continue;
        }
        rule.by_day.push_back(WeekdayNum{0, *single});
      }
      sort_days(rule.by_day);
      rule.by_day.erase(std::unique(rule.by_day.begin(), rule.by_day.end()), rule.by_day.end());
      if (const auto first = single_day(p.first_day_of_week)) rule.week_start = *first;
      break;
    case PatternKind::kAbsoluteMonthly:
    case PatternKind::kAbsoluteYearly:
      rule.freq = Frequency::kMonthly;  // yearly patterns are fixed up below
      set_clamped_month_day(rule, p.day_of_month);
      break;
    case PatternKind::kRelativeMonthly:
    case PatternKind::kRelativeYearly:
      rule.freq = Frequency::kMonthly;
      set_relative_day(rule, p.days_of_week.empty() ? DayClass::kDay : p.days_of_week[0],
                       p.day_of_week_index);
      break;
  }
  const bool yearly_pattern =
      p.kind == PatternKind::kAbsoluteYearly || p.kind == PatternKind::kRelativeYearly;
  const bool monthly_pattern =
      p.kind == PatternKind::kAbsoluteMonthly || p.kind == PatternKind::kRelativeMonthly;
  if (yearly_pattern) {
    rule.freq = Frequency::kYearly;
    rule.interval = 1;
    rule.by_month = {p.month};
  } else if (monthly_pattern && p.interval % 12 == 0) {
    // Every 12n months is how EWS stores every n years (see to_ews_recurrence).
    rule.freq = Frequency::kYearly;
    rule.interval = p.interval / 12;
    rule.by_month = {static_cast<int>(
        unsigned{year_month_day{std::chrono::floor<days>(local_start_time)}.month()})};
  }
  const RecurrenceRange& r = recurrence.range;
  if (r.kind == RangeKind::kNumbered) {
    rule.count = r.count;
  } else if (r.kind == RangeKind::kEndDate) {
    // UNTIL is the last possible start: the end date at the series' time of day.
    const auto time_of_day = local_start_time - std::chrono::floor<days>(local_start_time);
    if (all_day) {
      rule.until = std::chrono::sys_seconds{sys_days{r.end_date}};
    } else {
      const auto until = to_utc(local_days{r.end_date} + time_of_day, zone);
      if (!until) return std::unexpected(until.error());
      rule.until = *until;
    }
  }
  return rule;
}

ResponseStatus response_status(std::string_view token) {
  if (token == "Organizer") return ResponseStatus::kOrganizer;
  if (token == "Tentative") return ResponseStatus::kTentative;
  if (token == "Accept") return ResponseStatus::kAccepted;
  if (token == "Decline") return ResponseStatus::kDeclined;
  if (token == "NoResponseReceived") return ResponseStatus::kNotResponded;
  return ResponseStatus::kNone;
}

std::optional<std::chrono::minutes> reminder_of(const CalendarItem& item) {
  if (!item.reminder_is_set) return std::nullopt;
  return std::chrono::minutes{item.reminder_minutes};
}

}  // namespace

Result<Instant> model_instant(Instant ews, bool all_day, const std::string& iana_zone) {
  if (!all_day) return ews;
  const auto local = to_local(ews, iana_zone);
  if (!local) return std::unexpected(local.error());
  // Round to the nearest date: a server that stored the day in another zone is off by
  // hours, never by a day (R18).
  const auto rounded = std::chrono::floor<days>(*local + std::chrono::hours{12});
  return Instant{rounded.time_since_epoch()};
}

Result<Instant> ews_instant(Instant model, bool all_day, const std::string& iana_zone) {
  if (!all_day) return model;
  return to_utc(std::chrono::local_seconds{model.time_since_epoch()}, iana_zone);
}

Result<std::string> item_zone(const CalendarItem& item) {
  if (!item.start_time_zone) return std::string("UTC");
  auto zone = iana_for_definition(*item.start_time_zone, item.start);
  // The model spells UTC "UTC"; CLDR maps Windows "UTC" to Etc/UTC (or Etc/GMT).
  if (zone && (*zone == "Etc/UTC" || *zone == "Etc/GMT" || *zone == "Etc/UCT")) return "UTC";
  return zone;
}

Result<CalendarItem> to_ews(const Appointment& item) {
  CalendarItem out;
  out.subject = item.subject;
  out.body = item.body;
  out.location = item.location;
  out.sensitivity = item.sensitivity;
  out.free_busy = item.show_as == ShowAs::kUnknown ? ShowAs::kBusy : item.show_as;
  out.categories = item.categories;
  out.reminder_is_set = item.reminder.has_value();
  out.reminder_minutes = item.reminder ? static_cast<int>(item.reminder->count()) : 15;
  out.is_all_day = item.all_day;
  out.net_show_url = item.online_meeting_url;
  const auto windows = windows_from_iana(item.time_zone);
  if (!windows) {
    return fail(ErrorKind::kInvalidData,
                fmt::format("The time zone '{}' of '{}' has no Windows equivalent Exchange knows.",
                            item.time_zone, item.subject));
  }
  out.start_time_zone = TimeZoneDefinition{*windows, {}, {}, {}, {}};
  out.end_time_zone = out.start_time_zone;
  const auto start = ews_instant(item.start, item.all_day, item.time_zone);
  const auto end = ews_instant(item.end, item.all_day, item.time_zone);
  if (!start) return std::unexpected(start.error());
  if (!end) return std::unexpected(end.error());
  out.start = *start;
  out.end = *end;
  if (item.recurrence) {
    auto recurrence = to_ews_recurrence(item);
    if (!recurrence) return std::unexpected(recurrence.error());
    out.recurrence = std::move(*recurrence);
  }
  return out;
}

Result<Appointment> from_ews(const CalendarItem& item,
                             std::span<const CalendarItem> occurrence_details) {
  Appointment out;
  out.subject = item.subject;
  out.body = item.body;
  out.location = item.location;
  out.sensitivity = item.sensitivity;
  out.show_as = item.free_busy;
  out.categories = item.categories;
  out.reminder = reminder_of(item);
  out.all_day = item.is_all_day;
  out.online_meeting_url =
      item.join_online_meeting_url.empty() ? item.net_show_url : item.join_online_meeting_url;
  auto zone = item_zone(item);
  if (!zone) return std::unexpected(zone.error());
  out.time_zone = *zone;
  const auto start = model_instant(item.start, item.is_all_day, out.time_zone);
  const auto end = model_instant(item.end, item.is_all_day, out.time_zone);
  if (!start) return std::unexpected(start.error());
  if (!end) return std::unexpected(end.error());
  out.start = *start;
  out.end = *end;
  // Exchange names the mailbox owner as organizer of every plain appointment; only a
  // meeting (an item with attendees) has an organizer worth reporting.
  const bool meeting = !item.required_attendees.empty() || !item.optional_attendees.empty() ||
                       !item.resources.empty();
  if (item.organizer && meeting)
    out.organizer = Person{item.organizer->name, item.organizer->email};
  const auto add_attendees = [&](const std::vector<Recipient>& list, AttendeeRole role) {
    for (const Recipient& r : list) {
      out.attendees.push_back(
          Attendee{Person{r.name, r.email}, role, response_status(r.response_type)});
    }
  };
  add_attendees(item.required_attendees, AttendeeRole::kRequired);
  add_attendees(item.optional_attendees, AttendeeRole::kOptional);
  add_attendees(item.resources, AttendeeRole::kResource);

  if (item.recurrence) {
    std::chrono::local_seconds local{out.start.time_since_epoch()};
    if (!item.is_all_day) {
      const auto converted = to_local(item.start, out.time_zone);
      if (!converted) return std::unexpected(converted.error());
      local = *converted;
    }
    auto rule = from_ews_recurrence(*item.recurrence, item.is_all_day, local, out.time_zone);
    if (!rule) return std::unexpected(rule.error());
    Recurrence recurrence;
    recurrence.rule = std::move(*rule);
    for (const Instant deleted : item.deleted_occurrences) {
      const auto when = model_instant(deleted, item.is_all_day, out.time_zone);
      if (!when) return std::unexpected(when.error());
      recurrence.exdates.push_back(*when);
    }
    std::sort(recurrence.exdates.begin(), recurrence.exdates.end());
    for (const OccurrenceInfo& info : item.modified_occurrences) {
      // The occurrence's own fields where we have them; else the master's (R38: an
      // occurrence we could not read is still an occurrence).
      const CalendarItem* detail = nullptr;
      for (const CalendarItem& candidate : occurrence_details) {
        if (candidate.item_id.id == info.item_id.id) detail = &candidate;
      }
      const CalendarItem& source = detail != nullptr ? *detail : item;
      OccurrenceOverride o;
      const auto recurrence_id = model_instant(info.original_start, item.is_all_day, out.time_zone);
      const auto o_start =
          model_instant(detail ? detail->start : info.start, item.is_all_day, out.time_zone);
      const auto o_end =
          model_instant(detail ? detail->end : info.end, item.is_all_day, out.time_zone);
      if (!recurrence_id || !o_start || !o_end)
        return fail(ErrorKind::kInvalidData, "An occurrence of the series has unreadable times.");
      o.recurrence_id = *recurrence_id;
      o.start = *o_start;
      o.end = *o_end;
      o.subject = source.subject;
      o.body = source.body;
      o.location = source.location;
      o.show_as = source.free_busy;
      o.sensitivity = source.sensitivity;
      o.reminder = reminder_of(source);
      recurrence.overrides.push_back(std::move(o));
    }
    std::sort(recurrence.overrides.begin(), recurrence.overrides.end(),
              [](const OccurrenceOverride& a, const OccurrenceOverride& b) {
                return a.recurrence_id < b.recurrence_id;
              });
    out.recurrence = std::move(recurrence);
  }
  return out;
}

}  // namespace agendasync::ews
