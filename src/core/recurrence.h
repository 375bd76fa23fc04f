#pragma once
/// Recurrence shaped like RFC 5545 (RRULE + EXDATE + overrides by RECURRENCE-ID). Rich enough
/// for every EWS pattern (Daily, Weekly, AbsoluteMonthly, RelativeMonthly, AbsoluteYearly,
/// RelativeYearly; NoEnd/EndDate/Numbered) and every Graph patternedRecurrence.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace agendasync {

enum class Frequency { kDaily, kWeekly, kMonthly, kYearly };

/// A BYDAY entry: `ordinal` 0 means every such weekday in the period; 1..5 the n-th,
/// -1 the last (EWS "DayOfWeekIndex" First..Last).
struct WeekdayNum {
  int ordinal = 0;
  std::chrono::weekday day;
  bool operator==(const WeekdayNum&) const = default;
};

struct RecurrenceRule {
  Frequency freq = Frequency::kDaily;
  int interval = 1;
  std::vector<WeekdayNum> by_day;
  std::vector<int> by_month_day;  ///< 1..31 or -31..-1
  std::vector<int> by_month;      ///< 1..12
  std::vector<int> by_set_pos;    ///< e.g. -1 with BYDAY=MO,TU,WE,TH,FR = last weekday
  std::chrono::weekday week_start = std::chrono::Monday;
  std::optional<int> count;
  /// Last possible occurrence start, inclusive, UTC. For all-day series: midnight UTC of the
  /// last date.
  std::optional<std::chrono::sys_seconds> until;
  bool operator==(const RecurrenceRule&) const = default;
};

/// RRULE value text, e.g. "FREQ=MONTHLY;BYDAY=-1FR;COUNT=5". kInvalidData names the bad part.
Result<RecurrenceRule> parse_rrule(std::string_view text);
/// Canonical RRULE text: fixed part order, so equal rules give equal text. UNTIL is written
/// as a UTC date-time ("20241231T235959Z").
std::string format_rrule(const RecurrenceRule& rule);

/// How format_rrule writes UNTIL: RFC 5545 wants a DATE when DTSTART is a DATE (all-day).
enum class UntilForm { kUtcDateTime, kDate };
/// As format_rrule(rule), with UNTIL in the given form (kDate drops the time of day).
std::string format_rrule(const RecurrenceRule& rule, UntilForm until_form);

/// The rule's own consistency (what parse_rrule also enforces): INTERVAL >= 1, COUNT >= 1,
/// not COUNT and UNTIL together, values in range, ordinal weekdays only in MONTHLY/YEARLY
/// rules, BYMONTHDAY not in WEEKLY rules, and BYMONTHDAY/BYMONTH pairs that can occur.
/// kInvalidData names the offending part.
Result<void> check_rule(const RecurrenceRule& rule);

}  // namespace agendasync
