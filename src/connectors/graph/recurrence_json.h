#pragma once
/// Graph's patternedRecurrence <-> the core RFC 5545 rule, both ways.
///
/// Month days 29-31 follow Exchange: a monthly/yearly "day 31" falls on the last day of a
/// shorter month, "day 30" on the 30th or the month's last day, "day 29" likewise. In RFC
/// 5545 terms: 31 <-> BYMONTHDAY=-1, 30 <-> BYMONTHDAY=28,29,30;BYSETPOS=-1,
/// 29 <-> BYMONTHDAY=28,29;BYSETPOS=-1. A plain RFC BYMONTHDAY=29..31 (months without that
/// day are skipped) has no Graph pattern and is refused (kUnsupported).
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/appointment.h"
#include "core/recurrence.h"
#include "core/time_zone.h"

namespace agendasync::graph {

/// Reads `recurrence` ({pattern, range}). `first_start` is the series' first start as wall
/// clock in `iana_zone` (it fills what the pattern leaves implicit); endDate becomes UNTIL at
/// the end of that day in the zone (all-day: midnight UTC of that date).
Result<RecurrenceRule> rule_from_graph(const nlohmann::json& recurrence, std::string_view iana_zone,
                                       bool all_day);

/// Writes `rule` as a patternedRecurrence for a series whose first start is `first_start`
/// (wall clock in `iana_zone`); `graph_zone` is the zone name sent as recurrenceTimeZone.
/// Rules Graph cannot express (BYSETPOS with a single BYDAY ordinal, 5th weekday, BYHOUR-like
/// parts, RFC month days 29-31, several months) fail with kUnsupported naming the part.
Result<nlohmann::json> rule_to_graph(const RecurrenceRule& rule, LocalTime first_start,
                                     std::string_view iana_zone, std::string_view graph_zone,
                                     bool all_day);

}  // namespace agendasync::graph
