#pragma once
/// The Windows time-zone set as Exchange lists it in GetServerTimeZones: every Windows id CLDR
/// maps to an IANA zone (ICU's copy of windowsZones.xml), with a display name in Windows'
/// style and the zone's daylight-saving rules for the current year.
#include <string>
#include <string_view>
#include <vector>

#include "exsim/calendar/zone_rules.h"

namespace exsim {

/// One Windows zone.
struct WindowsZone {
  std::string id;     // "W. Europe Standard Time"
  std::string name;   // "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"
  std::string iana;   // CLDR's default ("001") zone for the id
  ZoneRules current;  // the rules in force this year (from_year = this year)
};

/// Every Windows zone, ordered as Windows lists them: by standard offset, then by name. Built
/// once (thread-safe), for the year the first call happens in.
const std::vector<WindowsZone>& windows_zones();

/// The zone with this Windows id (exact spelling), or null.
const WindowsZone* find_windows_zone(std::string_view id);

}  // namespace exsim
