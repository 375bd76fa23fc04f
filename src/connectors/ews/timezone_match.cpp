#include "connectors/ews/timezone_match.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "core/time_zone.h"

namespace agendasync::ews {

namespace {

using std::chrono::days;
using std::chrono::minutes;
using std::chrono::sys_days;
using std::chrono::year_month_day;

/// Windows zone ids in CLDR order (windowsZones.xml, territory 001): the candidates a
/// customized definition is matched against. CLDR orders them west to east, so among zones
/// with equal rules the first is the conventional choice (W. Europe before Romance).
constexpr std::array kWindowsZoneIds{
    "Dateline Standard Time",
    "UTC-11",
    "Aleutian Standard Time",
    "Hawaiian Standard Time",
    "Marquesas Standard Time",
    "Alaskan Standard Time",
    "UTC-09",
    "Pacific Standard Time (Mexico)",
    "UTC-08",
    "Pacific Standard Time",
    "US Mountain Standard Time",
    "Mountain Standard Time (Mexico)",
    "Mountain Standard Time",
    "Yukon Standard Time",
    "Central America Standard Time",
    "Central Standard Time",
    "Easter Island Standard Time",
    "Central Standard Time (Mexico)",
    "Canada Central Standard Time",
    "SA Pacific Standard Time",
    "Eastern Standard Time (Mexico)",
    "Eastern Standard Time",
    "Haiti Standard Time",
    "Cuba Standard Time",
    "US Eastern Standard Time",
    "Turks And Caicos Standard Time",
    "Paraguay Standard Time",
    "Atlantic Standard Time",
    "Venezuela Standard Time",
    "Central Brazilian Standard Time",
    "SA Western Standard Time",
    "Pacific SA Standard Time",
    "Newfoundland Standard Time",
    "Tocantins Standard Time",
    "E. South America Standard Time",
    "SA Eastern Standard Time",
    "Argentina Standard Time",
    "Greenland Standard Time",
    "Montevideo Standard Time",
    "Magallanes Standard Time",
    "Saint Pierre Standard Time",
    "Bahia Standard Time",
    "UTC-02",
    "Azores Standard Time",
    "Cape Verde Standard Time",
    "UTC",
    "GMT Standard Time",
    "Greenwich Standard Time",
    "Sao Tome Standard Time",
    "Morocco Standard Time",
    "W. Europe Standard Time",
    "Central Europe Standard Time",
    "Romance Standard Time",
    "Central European Standard Time",
    "W. Central Africa Standard Time",
    "Jordan Standard Time",
    "GTB Standard Time",
    "Middle East Standard Time",
    "Egypt Standard Time",
    "E. Europe Standard Time",
    "Syria Standard Time",
    "West Bank Standard Time",
    "South Africa Standard Time",
    "FLE Standard Time",
    "Israel Standard Time",
    "South Sudan Standard Time",
    "Kaliningrad Standard Time",
    "Sudan Standard Time",
    "Libya Standard Time",
    "Namibia Standard Time",
    "Arabic Standard Time",
    "Turkey Standard Time",
    "Arab Standard Time",
    "Belarus Standard Time",
    "Russian Standard Time",
    "E. Africa Standard Time",
    "Iran Standard Time",
    "Arabian Standard Time",
    "Astrakhan Standard Time",
    "Azerbaijan Standard Time",
    "Russia Time Zone 3",
    "Mauritius Standard Time",
    "Saratov Standard Time",
    "Georgian Standard Time",
    "Volgograd Standard Time",
    "Caucasus Standard Time",
    "Afghanistan Standard Time",
    "West Asia Standard Time",
    "Ekaterinburg Standard Time",
    "Pakistan Standard Time",
    "Qyzylorda Standard Time",
    "India Standard Time",
    "Sri Lanka Standard Time",
    "Nepal Standard Time",
    "Central Asia Standard Time",
    "Bangladesh Standard Time",
    "Omsk Standard Time",
    "Myanmar Standard Time",
    "SE Asia Standard Time",
    "Altai Standard Time",
    "W. Mongolia Standard Time",
    "North Asia Standard Time",
    "N. Central Asia Standard Time",
    "Tomsk Standard Time",
    "China Standard Time",
    "North Asia East Standard Time",
    "Singapore Standard Time",
    "W. Australia Standard Time",
    "Taipei Standard Time",
    "Ulaanbaatar Standard Time",
    "Aus Central W. Standard Time",
    "Transbaikal Standard Time",
    "Tokyo Standard Time",
    "North Korea Standard Time",
    "Korea Standard Time",
    "Yakutsk Standard Time",
    "Cen. Australia Standard Time",
    "AUS Central Standard Time",
    "E. Australia Standard Time",
    "AUS Eastern Standard Time",
    "West Pacific Standard Time",
    "Tasmania Standard Time",
    "Vladivostok Standard Time",
    "Lord Howe Standard Time",
    "Bougainville Standard Time",
    "Russia Time Zone 10",
    "Magadan Standard Time",
    "Norfolk Standard Time",
    "Sakhalin Standard Time",
    "Central Pacific Standard Time",
    "Russia Time Zone 11",
    "New Zealand Standard Time",
    "UTC+12",
    "Fiji Standard Time",
    "Chatham Islands Standard Time",
    "UTC+13",
    "Tonga Standard Time",
    "Samoa Standard Time",
    "Line Islands Standard Time",
};

const TzPeriod* find_period(const TimeZoneDefinition& zone, const std::string& id) {
  for (const TzPeriod& period : zone.periods) {
    if (period.id == id) return &period;
  }
  return nullptr;
}

const TzGroup* find_group(const TimeZoneDefinition& zone, const std::string& id) {
  for (const TzGroup& group : zone.groups) {
    if (group.id == id) return &group;
  }
  return nullptr;
}

/// The date of a recurring transition in `year`.
std::optional<sys_days> transition_date(const TzTransition& t, int year) {
  const std::chrono::year y{year};
  const std::chrono::month m{static_cast<unsigned>(t.month)};
  if (t.kind == TzTransitionKind::kRecurringDate) {
    const year_month_day date{y, m, std::chrono::day{static_cast<unsigned>(t.day)}};
    if (!date.ok()) return std::nullopt;
    return sys_days{date};
  }
  const std::chrono::weekday wd{static_cast<unsigned>(t.day_of_week)};
  if (t.occurrence < 0 || t.occurrence >= 5) {
    return sys_days{std::chrono::year_month_weekday_last{y, m, std::chrono::weekday_last{wd}}};
  }
  return sys_days{std::chrono::year_month_weekday{
      y, m, std::chrono::weekday_indexed{wd, static_cast<unsigned>(t.occurrence)}}};
}

/// The period (its bias) the definition puts in force at `instant`.
std::optional<minutes> bias_at(const TimeZoneDefinition& zone, Instant instant) {
  // 1. Which group or period: the last top-level transition that started before `instant`.
  std::optional<TzTransition> active;
  for (const TzTransition& t : zone.transitions) {
    if (t.kind == TzTransitionKind::kAbsoluteDate && t.date_time > instant) continue;
    active = t;
  }
  if (!active) {
    // No top-level transitions: a single period or a single group is in force throughout.
    if (zone.periods.size() == 1) return zone.periods[0].bias;
    if (zone.groups.size() != 1) return std::nullopt;
    active = TzTransition{};
    active->to_group = true;
    active->to = zone.groups[0].id;
  }
  if (!active->to_group) {
    const TzPeriod* period = find_period(zone, active->to);
    if (period == nullptr) return std::nullopt;
    return period->bias;
  }
  const TzGroup* group = find_group(zone, active->to);
  if (group == nullptr) return std::nullopt;
  // 2. Inside a group: the yearly switches, in date order; the period in force is that of
  // the last switch before `instant` (the year's last switch carries over from last year).
  struct Switch {
    Instant when;
    minutes bias;
  };
  const int year = static_cast<int>(year_month_day{std::chrono::floor<days>(instant)}.year());
  std::vector<std::pair<std::chrono::sys_seconds, minutes>> local_switches;
  for (const TzTransition& t : group->transitions) {
    const TzPeriod* period = t.to_group ? nullptr : find_period(zone, t.to);
    if (period == nullptr) return std::nullopt;
    if (t.kind == TzTransitionKind::kPlain) {
      if (group->transitions.size() == 1) return period->bias;
      continue;
    }
    for (const int y : {year - 1, year, year + 1}) {
      const auto date = transition_date(t, y);
      if (!date) return std::nullopt;
      local_switches.emplace_back(std::chrono::sys_seconds{*date} + t.time_offset, period->bias);
    }
  }
  if (local_switches.empty()) return std::nullopt;
  std::sort(local_switches.begin(), local_switches.end());
  std::vector<Switch> switches;
  for (std::size_t i = 0; i < local_switches.size(); ++i) {
    // A switch happens at local wall time of the period before it: UTC = local + old bias.
    const minutes before = local_switches[i == 0 ? local_switches.size() - 1 : i - 1].second;
    switches.push_back(Switch{local_switches[i].first + before, local_switches[i].second});
  }
  std::optional<minutes> bias;
  for (const Switch& s : switches) {
    if (s.when <= instant) bias = s.bias;
  }
  return bias;
}

/// How many earlier years break ties between zones that agree in the reference year.
constexpr int kHistoryYears = 20;

/// Instants at which to compare a definition with a zone in `year`: twice a month, plus
/// just around every change of offset, so equal offsets with different switch dates or
/// hours do not match.
Result<std::vector<Instant>> samples_for_year(const TimeZoneDefinition& zone, int year);

bool follows(const TimeZoneDefinition& zone, const std::string& iana,
             const std::vector<Instant>& samples);

}  // namespace

std::optional<minutes> definition_offset(const TimeZoneDefinition& zone, Instant instant) {
  if (zone.periods.empty()) return std::nullopt;
  const auto bias = bias_at(zone, instant);
  if (!bias) return std::nullopt;
  return -*bias;
}

namespace {

Result<std::vector<Instant>> samples_for_year(const TimeZoneDefinition& zone, int year) {
  std::vector<Instant> samples;
  for (unsigned month = 1; month <= 12; ++month) {
    for (const unsigned day : {1u, 15u}) {
      samples.push_back(
          std::chrono::sys_seconds{sys_days{year_month_day{
              std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}}} +
          std::chrono::hours{12});
    }
  }
  const Instant year_start{sys_days{std::chrono::year{year} / 1 / 1}};
  std::optional<minutes> previous;
  for (Instant t = year_start; t < year_start + days{366}; t += std::chrono::hours{1}) {
    const auto offset = definition_offset(zone, t);
    if (!offset) {
      return fail(ErrorKind::kInvalidData,
                  fmt::format("The custom time zone '{}' ({}) has transitions that refer to "
                              "periods it does not define; the item cannot be placed in time.",
                              zone.id, zone.name));
    }
    if (previous && *offset != *previous) {
      samples.push_back(t - std::chrono::minutes{90});
      samples.push_back(t - std::chrono::minutes{30});
      samples.push_back(t + std::chrono::minutes{30});
    }
    previous = offset;
  }
  return samples;
}

bool follows(const TimeZoneDefinition& zone, const std::string& iana,
             const std::vector<Instant>& samples) {
  return std::all_of(samples.begin(), samples.end(), [&](Instant sample) {
    const auto theirs = utc_offset(sample, iana);
    return theirs &&
           std::chrono::duration_cast<minutes>(*theirs) == definition_offset(zone, sample);
  });
}

}  // namespace

Result<std::string> iana_for_definition(const TimeZoneDefinition& zone, Instant reference) {
  if (!zone.id.empty()) {
    if (auto known = iana_from_windows(zone.id)) return known;
    if (auto iana = normalize_zone(zone.id)) return iana;
  }
  if (zone.periods.empty()) {
    return fail(ErrorKind::kInvalidData,
                fmt::format("Exchange named the time zone '{}' without its rules, and it is not a "
                            "Windows zone id AgendaSync knows; update the tzdata/ICU packages.",
                            zone.id));
  }
  const int year = static_cast<int>(year_month_day{std::chrono::floor<days>(reference)}.year());
  auto reference_samples = samples_for_year(zone, year);
  if (!reference_samples) return std::unexpected(reference_samples.error());
  // Several zones can share this year's rules (Tijuana and Los Angeles since 2010): the
  // one that also follows the definition in more of the earlier years wins; CLDR order
  // breaks ties.
  std::vector<std::vector<Instant>> history;
  for (int y = year - 1; y >= year - kHistoryYears; --y) {
    auto samples = samples_for_year(zone, y);
    if (samples) history.push_back(std::move(*samples));
  }
  std::optional<std::string> best;
  int best_score = -1;
  for (const char* windows_id : kWindowsZoneIds) {
    const auto iana = iana_from_windows(windows_id);
    if (!iana || !follows(zone, *iana, *reference_samples)) continue;
    int score = 0;
    for (const auto& samples : history) score += follows(zone, *iana, samples) ? 1 : 0;
    if (score > best_score) {
      best = *iana;
      best_score = score;
    }
    if (score == kHistoryYears) break;
  }
  if (best) return *best;
  return fail(ErrorKind::kInvalidData,
              fmt::format("No known time zone follows the rules of the custom time zone '{}' ({}) "
                          "in {}; ask the user to pick a standard zone for the item in Outlook.",
                          zone.id, zone.name, year));
}

}  // namespace agendasync::ews
