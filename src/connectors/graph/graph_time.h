#pragma once
/// Graph's date and time texts: dateTimeTimeZone values ("2017-04-15T12:00:00.0000000"),
/// Edm.DateTimeOffset ("2017-09-04T19:00:00Z") and Edm.Date ("2017-09-04").
#include <chrono>
#include <string>
#include <string_view>

#include "core/appointment.h"
#include "core/error.h"
#include "core/time_zone.h"

namespace agendasync::graph {

/// A wall-clock date-time without a zone; fractions of a second are dropped. A trailing "Z"
/// or "+hh:mm" offset is applied, so "2017-09-04T19:00:00Z" gives 19:00 (read as UTC).
Result<LocalTime> parse_date_time(std::string_view text);
/// "2017-09-04" as midnight of that day.
Result<LocalTime> parse_date(std::string_view text);
/// "2017-04-15T12:00:00" (what Graph accepts in dateTimeTimeZone.dateTime).
std::string format_date_time(LocalTime time);
/// "2017-04-15T12:00:00Z" (URL parameters such as calendarView's startDateTime).
std::string format_utc(Instant time);
/// "2017-04-15".
std::string format_date(LocalTime time);

}  // namespace agendasync::graph
