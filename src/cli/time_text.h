#pragma once
/// Dates and times as the CLI reads and prints them: "2026-03-02T09:00" (wall clock in a
/// zone) and "2026-03-02" (a date, for all-day items).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/appointment.h"
#include "core/error.h"
#include "core/time_zone.h"

namespace agendasync::cli {

/// "YYYY-MM-DD" -> midnight UTC of that date (how core encodes all-day dates).
Result<Instant> parse_date(std::string_view text, std::string_view option);
/// "YYYY-MM-DDTHH:MM[:SS]" (a space instead of T also works) -> wall-clock time.
Result<LocalTime> parse_local(std::string_view text, std::string_view option);
/// A wall-clock time in `zone` as an instant.
Result<Instant> parse_in_zone(std::string_view text, std::string_view zone,
                              std::string_view option);

/// "2026-03-02 09:00" in `zone` (falls back to UTC when the zone is unknown).
std::string format_local(Instant instant, std::string_view zone);
/// "2026-03-02".
std::string format_date(Instant instant);
/// "2026-03-02T08:00:00Z".
std::string format_utc(Instant instant);

}  // namespace agendasync::cli
