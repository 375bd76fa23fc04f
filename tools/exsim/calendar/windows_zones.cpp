#include "exsim/calendar/windows_zones.h"

#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <unicode/basictz.h>
#include <unicode/locid.h>
#include <unicode/strenum.h>
#include <unicode/timezone.h>
#include <unicode/tznames.h>
#include <unicode/tzrule.h>
#include <unicode/tztrans.h>

namespace exsim {
namespace {

using namespace std::chrono;

std::string utf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

/// Names Exchange shows for the most used zones; the rest are built the same way from the
/// cities CLDR gives for the zone (Windows' own names are not in ICU).
const std::map<std::string_view, std::string_view>& known_names() {
  static const std::map<std::string_view, std::string_view> kNames = {
      {"UTC", "(UTC) Coordinated Universal Time"},
      {"GMT Standard Time", "(UTC+00:00) Dublin, Edinburgh, Lisbon, London"},
      {"W. Europe Standard Time", "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"},
      {"Romance Standard Time", "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris"},
      {"Central Europe Standard Time",
       "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague"},
      {"Eastern Standard Time", "(UTC-05:00) Eastern Time (US & Canada)"},
      {"Central Standard Time", "(UTC-06:00) Central Time (US & Canada)"},
      {"Mountain Standard Time", "(UTC-07:00) Mountain Time (US & Canada)"},
      {"Pacific Standard Time", "(UTC-08:00) Pacific Time (US & Canada)"},
      {"India Standard Time", "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi"},
      {"Tokyo Standard Time", "(UTC+09:00) Osaka, Sapporo, Tokyo"},
      {"AUS Eastern Standard Time", "(UTC+10:00) Canberra, Melbourne, Sydney"},
      {"Israel Standard Time", "(UTC+02:00) Jerusalem"},
  };
  return kNames;
}

std::string utc_label(minutes offset) {
  long long m = std::abs(offset.count());
  return fmt::format("(UTC{}{:02}:{:02})", offset.count() < 0 ? '-' : '+', m / 60, m % 60);
}

/// The local wall-clock moment of a transition at `when` (ms since the epoch) as Windows states
/// it: on the clock in force before the change.
YearlyTransition yearly(UDate when, int32_t offset_before_ms) {
  auto local = sys_seconds{seconds{static_cast<long long>((when + offset_before_ms) / 1000)}};
  auto day = floor<days>(local);
  year_month_day ymd{day};
  unsigned dom = static_cast<unsigned>(ymd.day());
  unsigned month_length = static_cast<unsigned>(
      year_month_day_last{ymd.year() / ymd.month() / std::chrono::last}.day());
  YearlyTransition t;
  t.month = ymd.month();
  t.weekday = weekday{day};
  t.occurrence = dom + 7 > month_length ? -1 : static_cast<int>((dom - 1) / 7 + 1);
  t.time_of_day = duration_cast<minutes>(local - day);
  return t;
}

/// The zone's rules in `y` from ICU's transitions in that year.
ZoneRules rules_in_year(const icu::BasicTimeZone& zone, int y) {
  ZoneRules out;
  out.from_year = y;
  UDate begin =
      static_cast<double>(sys_days{year{y} / 1 / 1}.time_since_epoch() / seconds{1}) * 1000;
  UDate end =
      static_cast<double>(sys_days{year{y + 1} / 1 / 1}.time_since_epoch() / seconds{1}) * 1000;
  int32_t raw = 0, dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  zone.getOffset((begin + end) / 2, false, raw, dst, status);
  out.standard_offset = duration_cast<minutes>(milliseconds{raw});
  std::optional<YearlyTransition> start, finish;
  minutes daylight{0};
  icu::TimeZoneTransition tr;
  UDate at = begin;
  while (zone.getNextTransition(at, false, tr) && tr.getTime() < end) {
    at = tr.getTime();
    const icu::TimeZoneRule* from = tr.getFrom();
    const icu::TimeZoneRule* to = tr.getTo();
    if (!from || !to) continue;
    int32_t before = from->getRawOffset() + from->getDSTSavings();
    if (to->getDSTSavings() != 0 && from->getDSTSavings() == 0) {
      start = yearly(at, before);
      daylight = duration_cast<minutes>(milliseconds{to->getRawOffset() + to->getDSTSavings()});
      out.standard_offset = duration_cast<minutes>(milliseconds{to->getRawOffset()});
    } else if (to->getDSTSavings() == 0 && from->getDSTSavings() != 0) {
      finish = yearly(at, before);
    }
  }
  if (start && finish) out.daylight = DaylightRule{daylight, *start, *finish};
  return out;
}

std::string display_name(std::string_view id, const ZoneRules& rules,
                         const std::vector<std::string>& cities) {
  auto known = known_names().find(id);
  if (known != known_names().end()) return std::string(known->second);
  std::string label = utc_label(rules.standard_offset);
  // "UTC-11", "UTC+12": Windows calls these "Coordinated Universal Time-11".
  if (id.starts_with("UTC"))
    return fmt::format("{} Coordinated Universal Time{}", label, id.substr(3));
  std::string list;
  for (const std::string& city : cities) list += (list.empty() ? "" : ", ") + city;
  return fmt::format("{} {}", label, list.empty() ? std::string(id) : list);
}

std::vector<WindowsZone> build() {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::TimeZoneNames> names(icu::TimeZoneNames::createInstance("en", status));
  std::unique_ptr<icu::StringEnumeration> all(icu::TimeZone::createTimeZoneIDEnumeration(
      UCAL_ZONE_TYPE_CANONICAL, nullptr, nullptr, status));
  // Windows id -> exemplar cities of the IANA zones CLDR maps to it.
  std::map<std::string, std::vector<std::string>> cities;
  while (all && U_SUCCESS(status)) {
    const icu::UnicodeString* iana = all->snext(status);
    if (!iana) break;
    icu::UnicodeString windows;
    UErrorCode windows_status = U_ZERO_ERROR;
    icu::TimeZone::getWindowsID(*iana, windows, windows_status);
    if (U_FAILURE(windows_status) || windows.isEmpty()) continue;
    icu::UnicodeString city;
    if (names) names->getExemplarLocationName(*iana, city);
    auto& list = cities[utf8(windows)];
    if (!city.isEmpty()) list.push_back(utf8(city));
  }
  int this_year = static_cast<int>(year_month_day{floor<days>(system_clock::now())}.year());
  std::vector<WindowsZone> out;
  for (auto& [id, zone_cities] : cities) {
    icu::UnicodeString iana;
    UErrorCode id_status = U_ZERO_ERROR;
    icu::TimeZone::getIDForWindowsID(icu::UnicodeString::fromUTF8(id), "001", iana, id_status);
    if (U_FAILURE(id_status) || iana.isEmpty()) continue;
    std::unique_ptr<icu::TimeZone> tz(icu::TimeZone::createTimeZone(iana));
    auto* basic = dynamic_cast<icu::BasicTimeZone*>(tz.get());
    if (!basic) continue;
    ZoneRules rules = rules_in_year(*basic, this_year);
    // The default zone's city first, then the others alphabetically, four at most.
    icu::UnicodeString first_city;
    if (names) names->getExemplarLocationName(iana, first_city);
    std::vector<std::string> shown;
    if (!first_city.isEmpty()) shown.push_back(utf8(first_city));
    std::sort(zone_cities.begin(), zone_cities.end());
    for (const std::string& c : zone_cities) {
      if (shown.size() >= 4) break;
      if (std::find(shown.begin(), shown.end(), c) == shown.end()) shown.push_back(c);
    }
    out.push_back(WindowsZone{id, display_name(id, rules, shown), utf8(iana), rules});
  }
  std::sort(out.begin(), out.end(), [](const WindowsZone& a, const WindowsZone& b) {
    if (a.current.standard_offset != b.current.standard_offset) {
      return a.current.standard_offset < b.current.standard_offset;
    }
    return a.name < b.name;
  });
  return out;
}

}  // namespace

const std::vector<WindowsZone>& windows_zones() {
  static const std::vector<WindowsZone> kZones = build();
  return kZones;
}

const WindowsZone* find_windows_zone(std::string_view id) {
  for (const WindowsZone& z : windows_zones()) {
    if (z.id == id) return &z;
  }
  return nullptr;
}

}  // namespace exsim
