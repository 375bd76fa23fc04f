#pragma once
/// iCalendar-style date/time text for the model suites: "19970902T090000" (floating),
/// "19970902T090000Z" (UTC), "19970902" (date). Test support only.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace agendasync::model_test {

/// A parsed DTSTART-like value: wall-clock seconds, and whether it was a date or carried Z.
struct CalendarTime {
  std::chrono::local_seconds local{};
  bool is_date = false;
  bool is_utc = false;
};

/// Parses the three forms above; nullopt for anything else.
std::optional<CalendarTime> parse_calendar_time(std::string_view text);
/// "YYYYMMDDTHHMMSS" (floating form) of a wall-clock time.
std::string format_floating(std::chrono::local_seconds local);
/// "YYYYMMDD".
std::string format_date(std::chrono::local_seconds local);

}  // namespace agendasync::model_test
