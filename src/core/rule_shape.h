#pragma once
/// How many days one period of a rule can hold (core-internal; used by check_rule).
///
/// Why: libical searches for a first occurrence for seconds before giving up on a rule that
/// can never occur (BYSETPOS beyond the set, BYMONTHDAY against an ordinal BYDAY). Such
/// rules are refused up front instead, by looking at every shape a period can take.
#include "core/recurrence.h"

namespace agendasync::detail {

/// The most candidate days one period (a day, week, month or year by FREQ) of `rule` can
/// hold before BYSETPOS, over every shape that period can take (month length, weekday of
/// its first day, leap year). Parts a rule takes from DTSTART are assumed to fit. 0 means
/// the rule can never occur.
int max_candidates_per_period(const RecurrenceRule& rule);

}  // namespace agendasync::detail
