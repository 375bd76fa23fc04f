// Appointment validation: the first problem found, phrased so a person can fix it.
#include "core/validate.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>

#include "core/appointment_text.h"
#include "core/expand.h"
#include "core/time_zone.h"

namespace agendasync {
namespace {

std::string text_of(Instant at) {
  using namespace std::chrono;
  auto day_start = floor<days>(at);
  year_month_day date{day_start};
  hh_mm_ss time{at - day_start};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()));
  return buffer;
}

bool is_midnight_utc(Instant at) { return at == std::chrono::floor<std::chrono::days>(at); }

Result<void> check_times(const Appointment& item) {
  if (item.end < item.start) {
    return fail(ErrorKind::kInvalidData, "the item ends (" + text_of(item.end) +
                                             ") before it starts (" + text_of(item.start) +
                                             "): set an end at or after the start");
  }
  if (item.all_day) {
    if (!is_midnight_utc(item.start) || !is_midnight_utc(item.end)) {
      return fail(ErrorKind::kInvalidData,
                  "an all-day item must start and end on whole dates (midnight UTC), not " +
                      text_of(item.start) + " .. " + text_of(item.end));
    }
    if (item.end == item.start) {
      return fail(ErrorKind::kInvalidData,
                  "an all-day item must last at least one day: its end is the day after its "
                  "last day");
    }
  }
  return {};
}

/// Every exdate and override must name an original start the rule really produces: a
/// stray one is usually a time zone mix-up and would silently do nothing.
Result<void> check_exceptions(const Appointment& item) {
  const Recurrence& recurrence = *item.recurrence;
  std::set<Instant> override_ids;
  for (const auto& change : recurrence.overrides) {
    if (!override_ids.insert(change.recurrence_id).second) {
      return fail(ErrorKind::kInvalidData,
                  "two overrides modify the same occurrence " + text_of(change.recurrence_id));
    }
    if (change.end < change.start) {
      return fail(ErrorKind::kInvalidData, "the moved occurrence " + text_of(change.recurrence_id) +
                                               " ends before it starts");
    }
  }
  std::set<Instant> wanted(recurrence.exdates.begin(), recurrence.exdates.end());
  wanted.insert(override_ids.begin(), override_ids.end());
  if (wanted.empty()) return {};

  Appointment plain = item;
  plain.recurrence->exdates.clear();
  plain.recurrence->overrides.clear();
  const Instant from = *wanted.begin();
  const Instant to = *wanted.rbegin() + std::chrono::seconds(1);
  const auto duration = item.end - item.start;
  // A zero-length window would miss zero-length occurrences; widen by the duration.
  auto occurrences = expand(plain, from - duration, to, static_cast<std::size_t>(-1));
  if (!occurrences) return std::unexpected(occurrences.error());
  std::set<Instant> real;
  for (const auto& occurrence : *occurrences) real.insert(occurrence.recurrence_id);
  const std::string rule = format_rrule(item.recurrence->rule);
  for (Instant exdate : recurrence.exdates) {
    if (!real.contains(exdate)) {
      return fail(ErrorKind::kInvalidData, "deleted occurrence " + text_of(exdate) +
                                               " is not an occurrence of the series " + rule +
                                               " starting " + text_of(item.start));
    }
  }
  for (Instant id : override_ids) {
    if (!real.contains(id)) {
      return fail(ErrorKind::kInvalidData, "modified occurrence " + text_of(id) +
                                               " is not an occurrence of the series " + rule +
                                               " starting " + text_of(item.start));
    }
  }
  return {};
}

Result<void> check_reminder(const std::optional<std::chrono::minutes>& reminder,
                            const std::string& what) {
  if (reminder && reminder->count() < 0) {
    return fail(ErrorKind::kInvalidData,
                "the reminder of " + what + " is " + std::to_string(reminder->count()) +
                    " minutes: a reminder is given in minutes before the start, 0 or more");
  }
  return {};
}

}  // namespace

Result<void> validate(const Appointment& item) {
  // First: a message about a later field would otherwise echo the broken text.
  if (auto text = check_text_utf8(item); !text) return text;
  if (!item.all_day || !item.time_zone.empty()) {
    if (auto offset = utc_offset(item.start, item.time_zone); !offset) {
      return std::unexpected(offset.error());
    }
  }
  if (auto times = check_times(item); !times) return times;
  if (auto reminder = check_reminder(item.reminder, "the item"); !reminder) return reminder;
  if (!item.recurrence) return {};
  for (const auto& change : item.recurrence->overrides) {
    auto reminder =
        check_reminder(change.reminder, "the occurrence " + text_of(change.recurrence_id));
    if (!reminder) return reminder;
  }
  if (auto rule = check_rule(item.recurrence->rule); !rule) return rule;
  return check_exceptions(item);
}

}  // namespace agendasync
