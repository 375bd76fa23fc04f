#pragma once
/// Time-zone rules as Windows and EWS state them: a standard offset and, optionally, a yearly
/// daylight-saving rule ("second Sunday of March at 02:00"), possibly changing from one year to
/// the next. Read from a customised TimeZoneDefinition (Periods, TransitionsGroups,
/// Transitions) or a legacy MeetingTimeZone, written back as a TimeZoneDefinition, and applied
/// to place wall-clock times — as Exchange does with a "Customized Time Zone".
/// Reference:
/// learn.microsoft.com/exchange/client-developer/web-service-reference/timezonedefinition
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace exsim {

/// A yearly moment as Windows states it: the `occurrence`-th `weekday` of `month` (-1 = the
/// last), at `time_of_day` on the wall clock in force just before the change.
struct YearlyTransition {
  std::chrono::month month{1};
  std::chrono::weekday weekday = std::chrono::Sunday;
  int occurrence = 1;  // 1..4, -1 = last
  std::chrono::minutes time_of_day{0};
  /// The local date of this transition in `year`.
  std::chrono::year_month_day date_in(std::chrono::year year) const;
};

/// Daylight saving time of one set of rules.
struct DaylightRule {
  std::chrono::minutes offset{0};  // UTC + offset = wall clock while daylight time is in force
  YearlyTransition start;          // standard -> daylight
  YearlyTransition end;            // daylight -> standard
};

/// The rules in force from `from_year` on (until the next entry's year).
struct ZoneRules {
  int from_year = 1;
  std::chrono::minutes standard_offset{0};  // UTC + offset = wall clock in standard time
  std::optional<DaylightRule> daylight;
};

/// Every set of rules of a zone, ordered by from_year; never empty.
class RuleBasedZone {
 public:
  explicit RuleBasedZone(std::vector<ZoneRules> rules);

  /// From a TimeZoneDefinition-style element (Periods + TransitionsGroups + Transitions) or a
  /// MeetingTimeZone (BaseOffset + Standard/Daylight with RelativeYearlyRecurrence); nullopt
  /// when it states no usable offset.
  static std::optional<RuleBasedZone> from_element(pugi::xml_node tz);

  /// Offset from UTC in force at instant `t`.
  std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
  /// The instant of wall-clock time `wall`: in a gap moved forward by the gap, in an overlap
  /// the earlier instant (as core/time_zone.h and RFC 5545 do).
  std::chrono::sys_seconds to_utc(std::chrono::local_seconds wall) const;
  const std::vector<ZoneRules>& rules() const { return rules_; }

 private:
  const ZoneRules& rules_for(int year) const;
  std::vector<ZoneRules> rules_;
};

/// Appends `element` (e.g. "t:TimeZoneDefinition") stating `rules` as Exchange writes them:
/// a Standard (and Daylight) period per rule set, one TransitionsGroup per set with
/// RecurringDayTransitions, and Transitions switching groups by AbsoluteDateTransition.
void write_time_zone_definition(pugi::xml_node parent, const char* element, std::string_view id,
                                std::string_view name, const std::vector<ZoneRules>& rules);

}  // namespace exsim
