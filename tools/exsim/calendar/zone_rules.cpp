#include "exsim/calendar/zone_rules.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "exsim/store/ews_time.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> kDayNames = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

std::optional<weekday> weekday_named(std::string_view name) {
  for (unsigned i = 0; i < kDayNames.size(); ++i) {
    if (kDayNames[i] == name) return weekday{i};
  }
  return std::nullopt;
}

std::optional<month> month_named(std::string_view name) {
  for (unsigned i = 0; i < kMonthNames.size(); ++i) {
    if (kMonthNames[i] == name) return month{i + 1};
  }
  return std::nullopt;
}

/// Bias (minutes to add to local time for UTC) as an offset east of UTC.
std::optional<minutes> offset_from_bias(std::string_view bias) {
  auto d = parse_duration(bias);
  if (!d) return std::nullopt;
  return -duration_cast<minutes>(*d);
}

/// xs:duration as Exchange writes biases and offsets: "-PT1H", "PT5H30M", "PT0H".
std::string exchange_duration(minutes m) {
  std::string sign = m.count() < 0 ? "-" : "";
  long long v = std::abs(m.count());
  if (v % 60 == 0) return fmt::format("{}PT{}H", sign, v / 60);
  if (v < 60) return fmt::format("{}PT{}M", sign, v);
  return fmt::format("{}PT{}H{}M", sign, v / 60, v % 60);
}

/// A RecurringDayTransition (Month, DayOfWeek, Occurrence, TimeOffset); nullopt when malformed.
std::optional<YearlyTransition> read_recurring_day(pugi::xml_node t) {
  YearlyTransition out;
  int m = child(t, "Month").text().as_int(0);
  auto day = weekday_named(child_text(t, "DayOfWeek"));
  int occurrence = child(t, "Occurrence").text().as_int(0);
  auto offset = parse_duration(child_text(t, "TimeOffset"));
  if (m < 1 || m > 12 || !day || occurrence == 0 || occurrence < -1 || occurrence > 5 || !offset) {
    return std::nullopt;
  }
  out.month = month{static_cast<unsigned>(m)};
  out.weekday = *day;
  out.occurrence = occurrence == 5 ? -1 : occurrence;  // Windows' 5th = the last
  out.time_of_day = duration_cast<minutes>(*offset);
  return out;
}

/// One TransitionsGroup as rules, given the periods' offsets by period id.
std::optional<ZoneRules> read_group(pugi::xml_node group,
                                    const std::map<std::string, minutes>& periods) {
  std::vector<std::pair<minutes, std::optional<YearlyTransition>>> targets;
  for (pugi::xml_node t : element_children(group)) {
    auto to = periods.find(child_text(t, "To"));
    if (to == periods.end()) continue;
    std::string_view kind = local_name(t);
    if (kind == "RecurringDayTransition") {
      targets.emplace_back(to->second, read_recurring_day(t));
    } else if (kind == "Transition") {
      targets.emplace_back(to->second, std::nullopt);
    }
  }
  if (targets.empty()) return std::nullopt;
  ZoneRules rules;
  if (targets.size() >= 2 && targets[0].second && targets[1].second &&
      targets[0].first != targets[1].first) {
    // Daylight time is the period further east (Windows: DaylightBias is negative).
    auto& [a_offset, a] = targets[0];
    auto& [b_offset, b] = targets[1];
    bool a_is_daylight = a_offset > b_offset;
    rules.standard_offset = a_is_daylight ? b_offset : a_offset;
    rules.daylight = DaylightRule{a_is_daylight ? a_offset : b_offset, a_is_daylight ? *a : *b,
                                  a_is_daylight ? *b : *a};
    return rules;
  }
  // A group without a yearly pair keeps one offset all year.
  rules.standard_offset = targets[0].first;
  return rules;
}

std::optional<RuleBasedZone> from_definition(pugi::xml_node tz) {
  std::map<std::string, minutes> periods;
  for (pugi::xml_node p : children(child(tz, "Periods"), "Period")) {
    if (auto offset = offset_from_bias(p.attribute("Bias").value())) {
      periods[p.attribute("Id").value()] = *offset;
    }
  }
  if (periods.empty()) return std::nullopt;
  std::map<std::string, ZoneRules> groups;
  for (pugi::xml_node g : children(child(tz, "TransitionsGroups"), "TransitionsGroup")) {
    if (auto rules = read_group(g, periods)) groups[g.attribute("Id").value()] = *rules;
  }
  std::vector<ZoneRules> rules;
  for (pugi::xml_node t : element_children(child(tz, "Transitions"))) {
    auto group = groups.find(child_text(t, "To"));
    if (group == groups.end()) continue;
    ZoneRules r = group->second;
    r.from_year = 1;
    if (local_name(t) == "AbsoluteDateTransition") {
      auto when = parse_date_time(child_text(t, "DateTime"));
      if (!when) continue;
      r.from_year = static_cast<int>(year_month_day{floor<days>(when->wall)}.year());
    }
    rules.push_back(r);
  }
  if (rules.empty()) {
    // No usable transitions: the definition still names its standard period.
    ZoneRules r;
    for (pugi::xml_node p : children(child(tz, "Periods"), "Period")) {
      if (std::string_view(p.attribute("Name").value()) == "Standard") {
        r.standard_offset = periods[p.attribute("Id").value()];
        return RuleBasedZone({r});
      }
    }
    r.standard_offset = periods.begin()->second;
    rules.push_back(r);
  }
  return RuleBasedZone(std::move(rules));
}

/// A MeetingTimeZone's Standard or Daylight child: its offset and yearly moment.
struct LegacyPeriod {
  minutes offset;
  std::optional<YearlyTransition> begins;
};

std::optional<LegacyPeriod> read_legacy_period(pugi::xml_node p, minutes base) {
  if (!p) return std::nullopt;
  auto extra = parse_duration(child_text(p, "Offset"));
  LegacyPeriod out{base - duration_cast<minutes>(extra.value_or(seconds{0})), std::nullopt};
  pugi::xml_node r = child(p, "RelativeYearlyRecurrence");
  auto day = weekday_named(child_text(r, "DaysOfWeek"));
  auto m = month_named(child_text(r, "Month"));
  // Time is an xs:time ("02:00:00"): read it as a wall-clock time on any day.
  auto time = parse_date_time("2000-01-01T" + child_text(p, "Time"));
  static constexpr std::array<std::string_view, 5> kIndex = {"First", "Second", "Third", "Fourth",
                                                             "Last"};
  auto index = std::find(kIndex.begin(), kIndex.end(), child_text(r, "DayOfWeekIndex"));
  if (r && day && m && time && index != kIndex.end()) {
    int occurrence = index == kIndex.end() - 1 ? -1 : static_cast<int>(index - kIndex.begin()) + 1;
    auto since_midnight = time->wall - local_days{year{2000} / 1 / 1};
    out.begins = YearlyTransition{*m, *day, occurrence, duration_cast<minutes>(since_midnight)};
  }
  return out;
}

std::optional<RuleBasedZone> from_meeting_time_zone(pugi::xml_node tz) {
  auto base = parse_duration(child_text(tz, "BaseOffset"));
  if (!base) return std::nullopt;
  minutes base_offset = -duration_cast<minutes>(*base);
  ZoneRules r;
  r.standard_offset = base_offset;
  auto standard = read_legacy_period(child(tz, "Standard"), base_offset);
  auto daylight = read_legacy_period(child(tz, "Daylight"), base_offset);
  if (standard) r.standard_offset = standard->offset;
  if (standard && daylight && standard->begins && daylight->begins &&
      daylight->offset != standard->offset) {
    r.daylight = DaylightRule{daylight->offset, *daylight->begins, *standard->begins};
  }
  return RuleBasedZone({r});
}

}  // namespace

year_month_day YearlyTransition::date_in(year y) const {
  using Weekday = std::chrono::weekday;  // the member `weekday` hides the type here
  const sys_days last_day = sys_days{y / this->month / std::chrono::last};
  if (occurrence < 0) return year_month_day{last_day - (Weekday{last_day} - this->weekday)};
  const sys_days first = sys_days{y / this->month / 1};
  sys_days d = first + (this->weekday - Weekday{first}) + days{7 * (std::max(occurrence, 1) - 1)};
  while (d > last_day) d -= days{7};
  return year_month_day{d};
}

RuleBasedZone::RuleBasedZone(std::vector<ZoneRules> rules) : rules_(std::move(rules)) {
  if (rules_.empty()) rules_.push_back(ZoneRules{});
  std::stable_sort(rules_.begin(), rules_.end(), [](const ZoneRules& a, const ZoneRules& b) {
    return a.from_year < b.from_year;
  });
}

std::optional<RuleBasedZone> RuleBasedZone::from_element(pugi::xml_node tz) {
  if (!tz) return std::nullopt;
  if (child(tz, "Periods")) return from_definition(tz);
  if (child(tz, "BaseOffset")) return from_meeting_time_zone(tz);
  return std::nullopt;
}

const ZoneRules& RuleBasedZone::rules_for(int y) const {
  const ZoneRules* found = &rules_.front();
  for (const ZoneRules& r : rules_) {
    if (r.from_year <= y) found = &r;
  }
  return *found;
}

seconds RuleBasedZone::offset_at(sys_seconds t) const {
  const ZoneRules& first_guess = rules_.front();
  int y = static_cast<int>(year_month_day{floor<days>(t + first_guess.standard_offset)}.year());
  const ZoneRules& r = rules_for(y);
  if (!r.daylight) return r.standard_offset;
  const DaylightRule& dst = *r.daylight;
  auto at = [&](const YearlyTransition& tr, minutes offset_before) {
    return sys_seconds{sys_days{tr.date_in(year{y})}.time_since_epoch() + tr.time_of_day -
                       offset_before};
  };
  sys_seconds starts = at(dst.start, r.standard_offset);
  sys_seconds ends = at(dst.end, dst.offset);
  bool in_daylight = starts < ends ? (t >= starts && t < ends) : (t < ends || t >= starts);
  return in_daylight ? dst.offset : r.standard_offset;
}

sys_seconds RuleBasedZone::to_utc(local_seconds wall) const {
  int y = static_cast<int>(year_month_day{floor<days>(wall)}.year());
  const ZoneRules& r = rules_for(y);
  std::vector<seconds> offsets{r.standard_offset};
  if (r.daylight) offsets.push_back(r.daylight->offset);
  // Candidates in time order (the larger offset gives the earlier instant); the first whose
  // offset is the one in force there is the answer, also in an overlap.
  std::sort(offsets.begin(), offsets.end(), std::greater<>());
  for (seconds offset : offsets) {
    sys_seconds t{wall.time_since_epoch() - offset};
    if (offset_at(t) == offset) return t;
  }
  // In a gap no candidate fits: the offset before the jump moves the time forward.
  return sys_seconds{wall.time_since_epoch() - seconds{r.standard_offset}};
}

void write_time_zone_definition(pugi::xml_node parent, const char* element, std::string_view id,
                                std::string_view name, const std::vector<ZoneRules>& rules) {
  pugi::xml_node z = parent.append_child(element);
  z.append_attribute("Name") = std::string(name).c_str();
  z.append_attribute("Id") = std::string(id).c_str();
  pugi::xml_node periods = z.append_child("t:Periods");
  pugi::xml_node groups = z.append_child("t:TransitionsGroups");
  pugi::xml_node transitions = z.append_child("t:Transitions");
  for (size_t i = 0; i < rules.size(); ++i) {
    const ZoneRules& r = rules[i];
    int label_year = std::max(r.from_year, 1601);  // Windows' first year
    std::string standard_id =
        fmt::format("trule:Microsoft/Registry/{}/{}-Standard", id, label_year);
    std::string daylight_id =
        fmt::format("trule:Microsoft/Registry/{}/{}-Daylight", id, label_year);
    pugi::xml_node sp = periods.append_child("t:Period");
    sp.append_attribute("Bias") = exchange_duration(-r.standard_offset).c_str();
    sp.append_attribute("Name") = "Standard";
    sp.append_attribute("Id") = standard_id.c_str();
    if (r.daylight) {
      pugi::xml_node dp = periods.append_child("t:Period");
      dp.append_attribute("Bias") = exchange_duration(-r.daylight->offset).c_str();
      dp.append_attribute("Name") = "Daylight";
      dp.append_attribute("Id") = daylight_id.c_str();
    }
    pugi::xml_node group = groups.append_child("t:TransitionsGroup");
    group.append_attribute("Id") = std::to_string(i).c_str();
    if (!r.daylight) {
      add_text(group.append_child("t:Transition"), "t:To", standard_id).append_attribute("Kind") =
          "Period";
    } else {
      for (const auto& [to, when] :
           {std::pair{daylight_id, r.daylight->start}, std::pair{standard_id, r.daylight->end}}) {
        pugi::xml_node t = group.append_child("t:RecurringDayTransition");
        add_text(t, "t:To", to).append_attribute("Kind") = "Period";
        add_text(t, "t:TimeOffset", exchange_duration(when.time_of_day));
        add_text(t, "t:Month", std::to_string(static_cast<unsigned>(when.month)));
        add_text(t, "t:DayOfWeek", kDayNames[when.weekday.c_encoding()]);
        add_text(t, "t:Occurrence", std::to_string(when.occurrence));
      }
    }
    if (i == 0) {
      add_text(transitions.append_child("t:Transition"), "t:To", "0").append_attribute("Kind") =
          "Group";
    } else {
      pugi::xml_node t = transitions.append_child("t:AbsoluteDateTransition");
      add_text(t, "t:To", std::to_string(i)).append_attribute("Kind") = "Group";
      add_text(t, "t:DateTime", fmt::format("{:04}-01-01T00:00:00", r.from_year));
    }
  }
}

}  // namespace exsim
