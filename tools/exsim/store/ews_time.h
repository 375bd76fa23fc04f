#pragma once
/// xs:dateTime / xs:date / xs:duration as EWS writes them, and the time zones EWS items carry.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <pugixml.hpp>

namespace exsim {

using Seconds = std::chrono::sys_seconds;
using LocalSeconds = std::chrono::local_seconds;

/// Parses "2024-05-01T09:00:00Z", "...+02:00", "...T09:00:00.123" (fraction ignored). A time
/// without an offset is a wall-clock time: `has_offset` tells the caller to place it in a zone.
struct ParsedDateTime {
  LocalSeconds wall;
  std::optional<std::chrono::seconds> offset;  // set when the text carried Z or +hh:mm
  Seconds utc() const {
    return Seconds{wall.time_since_epoch() - offset.value_or(std::chrono::seconds{0})};
  }
};
std::optional<ParsedDateTime> parse_date_time(std::string_view text);
/// Parses "2024-05-01", "2024-05-01Z", "2024-05-01+02:00" (the offset is dropped).
std::optional<std::chrono::year_month_day> parse_date(std::string_view text);
/// Parses xs:duration as Exchange writes biases and reminders: "-PT60M", "P0DT1H30M0S".
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

/// "2024-05-01T09:00:00Z".
std::string format_utc(Seconds t);
/// "2024-05-01".
std::string format_date(std::chrono::year_month_day d);
/// "P0DT1H30M0S" style, as Exchange writes Duration.
std::string format_duration(std::chrono::seconds d);

class RuleBasedZone;

/// A zone an item's wall-clock times live in: a Windows zone known to ICU, or a customised
/// definition (TimeZoneDefinition with its own periods and transitions, or a MeetingTimeZone)
/// applied by its own rules, daylight saving time included, as Exchange does.
class Zone {
 public:
  /// UTC.
  Zone() = default;
  /// From a StartTimeZone / EndTimeZone / TimeZoneDefinition / MeetingTimeZone element.
  static Zone from_element(pugi::xml_node tz);
  /// From a Windows zone id ("W. Europe Standard Time"); UTC when unknown.
  static Zone from_windows_id(std::string_view id);

  Seconds to_utc(LocalSeconds wall) const;
  LocalSeconds to_local(Seconds t) const;
  const std::string& iana() const { return iana_; }

 private:
  std::string iana_;                            // empty: use rules_ (UTC when null)
  std::shared_ptr<const RuleBasedZone> rules_;  // a customised definition
};

}  // namespace exsim
