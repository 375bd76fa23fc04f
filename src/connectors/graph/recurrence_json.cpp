#include "connectors/graph/recurrence_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "connectors/graph/graph_time.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;
using std::chrono::weekday;

constexpr std::array<const char*, 7> kDayNames = {"sunday",   "monday", "tuesday", "wednesday",
                                                  "thursday", "friday", "saturday"};

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

Result<weekday> parse_day(const json& value) {
  if (value.is_string()) {
    const std::string name = lower(value.get<std::string>());
    for (unsigned i = 0; i < kDayNames.size(); ++i) {
      if (name == kDayNames[i]) return weekday{i};
    }
  }
  return fail(ErrorKind::kInvalidData,
              fmt::format("Graph recurrence has an unknown day of week {}", value.dump()));
}

/// Graph's weekIndex <-> BYDAY ordinal.
Result<int> parse_index(const json& value) {
  const std::string name = value.is_string() ? lower(value.get<std::string>()) : "first";
  if (name == "first") return 1;
  if (name == "second") return 2;
  if (name == "third") return 3;
  if (name == "fourth") return 4;
  if (name == "last") return -1;
  return fail(ErrorKind::kInvalidData,
              fmt::format("Graph recurrence has an unknown index \"{}\"", name));
}

Result<const char*> index_name(int ordinal) {
  switch (ordinal) {
    case 1:
      return "first";
    case 2:
      return "second";
    case 3:
      return "third";
    case 4:
      return "fourth";
    case -1:
      return "last";
    default:
      return fail(ErrorKind::kUnsupported,
                  fmt::format("Graph cannot express the occurrence ordinal {} (only first..fourth "
                              "and last); change the series in the agenda",
                              ordinal));
  }
}

int int_or(const json& object, const char* key, int fallback) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

std::string string_or(const json& object, const char* key, std::string fallback = {}) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

/// Exchange's month day (1..31, days 29-31 clamp to short months) as RFC parts.
void set_month_day(RecurrenceRule& rule, int day) {
  if (day == 31) {
    rule.by_month_day = {-1};
  } else if (day == 30) {
    rule.by_month_day = {28, 29, 30};
    rule.by_set_pos = {-1};
  } else if (day == 29) {
    rule.by_month_day = {28, 29};
    rule.by_set_pos = {-1};
  } else {
    rule.by_month_day = {day};
  }
}

/// The inverse of set_month_day; nullopt when the parts are no Exchange month day.
std::optional<int> exchange_month_day(const RecurrenceRule& rule) {
  const auto& days = rule.by_month_day;
  if (rule.by_set_pos.empty()) {
    if (days.size() == 1 && days[0] == -1) return 31;
    if (days.size() == 1 && days[0] >= 1 && days[0] <= 28) return days[0];
    return std::nullopt;
  }
  if (rule.by_set_pos != std::vector<int>{-1}) return std::nullopt;
  if (days == std::vector<int>{28, 29, 30}) return 30;
  if (days == std::vector<int>{28, 29}) return 29;
  return std::nullopt;
}

std::chrono::year_month_day date_of(LocalTime time) {
  return std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(time)};
}

weekday weekday_of(LocalTime time) { return weekday{std::chrono::floor<std::chrono::days>(time)}; }

}  // namespace

Result<RecurrenceRule> rule_from_graph(const json& recurrence, std::string_view iana_zone,
                                       bool all_day) {
  if (!recurrence.is_object() || !recurrence.contains("pattern") ||
      !recurrence["pattern"].is_object()) {
    return fail(ErrorKind::kInvalidData, "Graph recurrence has no pattern");
  }
  const json& pattern = recurrence["pattern"];
  const auto range_at = recurrence.find("range");
  const json range =
      range_at != recurrence.end() && range_at->is_object() ? *range_at : json::object();
  RecurrenceRule rule;
  rule.interval = std::max(1, int_or(pattern, "interval", 1));
  std::vector<weekday> days;
  if (const auto list = pattern.find("daysOfWeek"); list != pattern.end() && list->is_array()) {
    for (const auto& entry : *list) {
      auto day = parse_day(entry);
      if (!day) return std::unexpected(day.error());
      days.push_back(*day);
    }
  }
  const std::string type = lower(string_or(pattern, "type"));
  // Exchange keeps the week start of weekly patterns only (EWS WeeklyRecurrence); the others
  // come back with Graph's default "sunday", which means nothing for them.
  if (const auto first = pattern.find("firstDayOfWeek");
      type == "weekly" && first != pattern.end()) {
    auto day = parse_day(*first);
    if (!day) return std::unexpected(day.error());
    rule.week_start = *day;
  }
  const auto relative = [&](RecurrenceRule& target) -> Result<void> {
    if (days.empty()) {
      return fail(ErrorKind::kInvalidData, "Graph relative recurrence has no daysOfWeek");
    }
    auto index = parse_index(pattern.value("index", json("first")));
    if (!index) return std::unexpected(index.error());
    if (days.size() == 1) {
      target.by_day = {WeekdayNum{*index, days[0]}};
    } else {
      for (const auto day : days) target.by_day.push_back(WeekdayNum{0, day});
      target.by_set_pos = {*index};
    }
    return {};
  };
  if (type == "daily") {
    rule.freq = Frequency::kDaily;
  } else if (type == "weekly") {
    rule.freq = Frequency::kWeekly;
    for (const auto day : days) rule.by_day.push_back(WeekdayNum{0, day});
  } else if (type == "absolutemonthly" || type == "absoluteyearly") {
    rule.freq = type == "absolutemonthly" ? Frequency::kMonthly : Frequency::kYearly;
    const int day = int_or(pattern, "dayOfMonth", 0);
    if (day < 1 || day > 31) {
      return fail(ErrorKind::kInvalidData,
                  fmt::format("Graph {} recurrence has dayOfMonth {}", type, day));
    }
    set_month_day(rule, day);
  } else if (type == "relativemonthly" || type == "relativeyearly") {
    rule.freq = type == "relativemonthly" ? Frequency::kMonthly : Frequency::kYearly;
    if (auto done = relative(rule); !done) return std::unexpected(done.error());
  } else {
    return fail(ErrorKind::kInvalidData,
                fmt::format("Graph recurrence has an unknown pattern type \"{}\"", type));
  }
  if (rule.freq == Frequency::kYearly) {
    const int month = int_or(pattern, "month", 0);
    if (month < 1 || month > 12) {
      return fail(ErrorKind::kInvalidData,
                  fmt::format("Graph yearly recurrence has month {}", month));
    }
    rule.by_month = {month};
    // Graph counts yearly intervals in years already.
  }

  const std::string range_type = lower(string_or(range, "type", "noEnd"));
  if (range_type == "numbered") {
    const int count = int_or(range, "numberOfOccurrences", 0);
    if (count < 1) {
      return fail(ErrorKind::kInvalidData,
                  fmt::format("Graph numbered recurrence has numberOfOccurrences {}", count));
    }
    rule.count = count;
  } else if (range_type == "enddate") {
    auto end_date = parse_date(string_or(range, "endDate"));
    if (!end_date) return std::unexpected(end_date.error());
    if (all_day) {
      rule.until = Instant{end_date->time_since_epoch()};
    } else {
      // The end date is a day in the series' zone: every start on that day still counts.
      auto until = to_utc(
          *end_date + std::chrono::hours(23) + std::chrono::minutes(59) + std::chrono::seconds(59),
          iana_zone);
      if (!until) return std::unexpected(until.error());
      rule.until = *until;
    }
  } else if (range_type != "noend") {
    return fail(ErrorKind::kInvalidData,
                fmt::format("Graph recurrence has an unknown range type \"{}\"", range_type));
  }
  return rule;
}

Result<json> rule_to_graph(const RecurrenceRule& rule, LocalTime first_start,
                           std::string_view iana_zone, std::string_view graph_zone, bool all_day) {
  json pattern = json::object();
  pattern["interval"] = rule.interval;
  pattern["firstDayOfWeek"] = kDayNames[rule.week_start.c_encoding()];
  const auto unsupported = [](std::string what) {
    return fail(ErrorKind::kUnsupported,
                fmt::format("Graph has no recurrence pattern for {}; change the series in the "
                            "agenda to one Outlook can show",
                            what));
  };
  const auto plain_days = [&]() -> Result<json> {
    json days = json::array();
    for (const auto& entry : rule.by_day) {
      if (entry.ordinal != 0) return unsupported("mixed ordinal weekdays");
      days.push_back(kDayNames[entry.day.c_encoding()]);
    }
    return days;
  };
  // Sets the relative parts (daysOfWeek + index); false when the rule has none.
  const auto relative = [&]() -> Result<bool> {
    if (rule.by_day.empty()) return false;
    if (!rule.by_month_day.empty()) return unsupported("BYDAY with BYMONTHDAY");
    if (rule.by_day.size() == 1 && rule.by_set_pos.empty()) {
      auto name = index_name(rule.by_day[0].ordinal == 0 ? 1 : rule.by_day[0].ordinal);
      if (!name) return std::unexpected(name.error());
      if (rule.by_day[0].ordinal == 0) return unsupported("every weekday of a month or year");
      pattern["index"] = *name;
      pattern["daysOfWeek"] = json::array({kDayNames[rule.by_day[0].day.c_encoding()]});
      return true;
    }
    if (rule.by_set_pos.size() != 1) return unsupported("several weekdays without BYSETPOS");
    auto days = plain_days();
    if (!days) return std::unexpected(days.error());
    auto name = index_name(rule.by_set_pos[0]);
    if (!name) return std::unexpected(name.error());
    pattern["index"] = *name;
    pattern["daysOfWeek"] = *days;
    return true;
  };
  const auto date = date_of(first_start);
  switch (rule.freq) {
    case Frequency::kDaily:
      if (!rule.by_month_day.empty() || !rule.by_month.empty() || !rule.by_set_pos.empty()) {
        return unsupported("a daily rule with BY parts");
      }
      if (rule.by_day.empty()) {
        pattern["type"] = "daily";
      } else {
        // DAILY;BYDAY=MO,TU.. is the same series as WEEKLY;BYDAY=MO,TU.. when INTERVAL=1.
        if (rule.interval != 1) return unsupported("a daily rule with BYDAY and an interval");
        auto days = plain_days();
        if (!days) return std::unexpected(days.error());
        pattern["type"] = "weekly";
        pattern["daysOfWeek"] = *days;
      }
      break;
    case Frequency::kWeekly: {
      if (!rule.by_month_day.empty() || !rule.by_month.empty() || !rule.by_set_pos.empty()) {
        return unsupported("a weekly rule with BYMONTHDAY, BYMONTH or BYSETPOS");
      }
      auto days = plain_days();
      if (!days) return std::unexpected(days.error());
      if (days->empty()) days->push_back(kDayNames[weekday_of(first_start).c_encoding()]);
      pattern["type"] = "weekly";
      pattern["daysOfWeek"] = *days;
      break;
    }
    case Frequency::kMonthly:
    case Frequency::kYearly: {
      const bool yearly = rule.freq == Frequency::kYearly;
      if (yearly) {
        if (rule.by_month.size() > 1) return unsupported("a yearly rule in several months");
        pattern["month"] = rule.by_month.empty() ? static_cast<unsigned>(date.month())
                                                 : static_cast<unsigned>(rule.by_month[0]);
      } else if (!rule.by_month.empty()) {
        return unsupported("a monthly rule limited to some months");
      }
      auto is_relative = relative();
      if (!is_relative) return std::unexpected(is_relative.error());
      if (*is_relative) {
        pattern["type"] = yearly ? "relativeYearly" : "relativeMonthly";
        break;
      }
      int day = static_cast<int>(static_cast<unsigned>(date.day()));
      if (!rule.by_month_day.empty() || !rule.by_set_pos.empty()) {
        const auto exchange_day = exchange_month_day(rule);
        if (!exchange_day) {
          return unsupported(
              "this month-day rule (Outlook moves days 29-31 to the last day of shorter "
              "months, RFC 5545 skips those months)");
        }
        day = *exchange_day;
      } else if (day > 28) {
        return unsupported("a series on day 29-31 that skips shorter months");
      }
      pattern["type"] = yearly ? "absoluteYearly" : "absoluteMonthly";
      pattern["dayOfMonth"] = day;
      break;
    }
  }

  json range = json::object();
  range["startDate"] = format_date(first_start);
  range["recurrenceTimeZone"] = std::string(graph_zone);
  if (rule.count) {
    range["type"] = "numbered";
    range["numberOfOccurrences"] = *rule.count;
  } else if (rule.until) {
    range["type"] = "endDate";
    if (all_day) {
      range["endDate"] = format_date(LocalTime{rule.until->time_since_epoch()});
    } else {
      auto local = to_local(*rule.until, iana_zone);
      if (!local) return std::unexpected(local.error());
      range["endDate"] = format_date(*local);
    }
  } else {
    range["type"] = "noEnd";
  }
  return json{{"pattern", pattern}, {"range", range}};
}

}  // namespace agendasync::graph
