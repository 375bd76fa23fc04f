#include "exsim/graph/graph_recurrence.h"

#include <array>
#include <cctype>

#include <fmt/format.h>

#include "exsim/store/ews_time.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 7> kDays = {"sunday",   "monday", "tuesday", "wednesday",
                                              "thursday", "friday", "saturday"};
constexpr std::array<const char*, 5> kIndexes = {"first", "second", "third", "fourth", "last"};
constexpr std::array<const char*, 12> kMonths = {"January",   "February", "March",    "April",
                                                 "May",       "June",     "July",     "August",
                                                 "September", "October",  "November", "December"};

std::string capitalised(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string text_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int int_of(const json& object, const char* key, int fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

bool add_days(const json& pattern, pugi::xml_node out, std::string& error) {
  std::string days;
  auto it = pattern.find("daysOfWeek");
  if (it != pattern.end() && it->is_array()) {
    for (const auto& d : *it) {
      std::string name = d.is_string() ? lower(d.get<std::string>()) : std::string();
      bool known = false;
      for (const char* k : kDays) known = known || name == k;
      if (!known) {
        error = fmt::format("daysOfWeek holds '{}', which is not a day of the week.",
                            d.is_string() ? d.get<std::string>() : d.dump());
        return false;
      }
      days += (days.empty() ? "" : " ") + capitalised(name);
    }
  }
  if (days.empty()) {
    error = "This recurrence pattern needs daysOfWeek.";
    return false;
  }
  add_text(out, "t:DaysOfWeek", days);
  return true;
}

bool add_index(const json& pattern, pugi::xml_node out) {
  std::string index = lower(text_of(pattern, "index"));
  if (index.empty()) index = "first";
  for (const char* k : kIndexes) {
    if (index == k) {
      add_text(out, "t:DayOfWeekIndex", capitalised(index));
      return true;
    }
  }
  return false;
}

bool add_month(const json& pattern, pugi::xml_node out) {
  int month = int_of(pattern, "month", 0);
  if (month < 1 || month > 12) return false;
  add_text(out, "t:Month", kMonths[static_cast<size_t>(month - 1)]);
  return true;
}

}  // namespace

bool recurrence_to_ews(const json& patterned, pugi::xml_node parent, std::string& error) {
  const json pattern = patterned.value("pattern", json::object());
  const json range = patterned.value("range", json::object());
  if (!pattern.is_object() || !range.is_object()) {
    error = "recurrence needs a pattern and a range.";
    return false;
  }
  pugi::xml_node rec = parent.append_child("t:Recurrence");
  const std::string type = lower(text_of(pattern, "type"));
  const std::string interval = std::to_string(int_of(pattern, "interval", 1));
  pugi::xml_node p;
  if (type == "daily") {
    p = rec.append_child("t:DailyRecurrence");
    add_text(p, "t:Interval", interval);
  } else if (type == "weekly") {
    p = rec.append_child("t:WeeklyRecurrence");
    add_text(p, "t:Interval", interval);
    if (!add_days(pattern, p, error)) return false;
    std::string first = lower(text_of(pattern, "firstDayOfWeek"));
    add_text(p, "t:FirstDayOfWeek", capitalised(first.empty() ? "sunday" : first));
  } else if (type == "absolutemonthly") {
    p = rec.append_child("t:AbsoluteMonthlyRecurrence");
    add_text(p, "t:Interval", interval);
    add_text(p, "t:DayOfMonth", std::to_string(int_of(pattern, "dayOfMonth", 0)));
  } else if (type == "relativemonthly") {
    p = rec.append_child("t:RelativeMonthlyRecurrence");
    add_text(p, "t:Interval", interval);
    if (!add_days(pattern, p, error)) return false;
    if (!add_index(pattern, p)) {
      error = "index must be first, second, third, fourth or last.";
      return false;
    }
  } else if (type == "absoluteyearly") {
    p = rec.append_child("t:AbsoluteYearlyRecurrence");
    add_text(p, "t:DayOfMonth", std::to_string(int_of(pattern, "dayOfMonth", 0)));
    if (!add_month(pattern, p)) {
      error = "absoluteYearly needs month between 1 and 12.";
      return false;
    }
  } else if (type == "relativeyearly") {
    p = rec.append_child("t:RelativeYearlyRecurrence");
    if (!add_days(pattern, p, error)) return false;
    if (!add_index(pattern, p)) {
      error = "index must be first, second, third, fourth or last.";
      return false;
    }
    if (!add_month(pattern, p)) {
      error = "relativeYearly needs month between 1 and 12.";
      return false;
    }
  } else {
    error = fmt::format(
        "pattern type '{}' is not one of daily, weekly, absoluteMonthly, relativeMonthly, "
        "absoluteYearly, relativeYearly.",
        text_of(pattern, "type"));
    return false;
  }
  const std::string range_type = lower(text_of(range, "type"));
  pugi::xml_node r;
  if (range_type == "enddate") {
    r = rec.append_child("t:EndDateRecurrence");
    add_text(r, "t:StartDate", text_of(range, "startDate"));
    add_text(r, "t:EndDate", text_of(range, "endDate"));
  } else if (range_type == "noend") {
    r = rec.append_child("t:NoEndRecurrence");
    add_text(r, "t:StartDate", text_of(range, "startDate"));
  } else if (range_type == "numbered") {
    r = rec.append_child("t:NumberedRecurrence");
    add_text(r, "t:StartDate", text_of(range, "startDate"));
    add_text(r, "t:NumberOfOccurrences", std::to_string(int_of(range, "numberOfOccurrences", 0)));
  } else {
    error = fmt::format("range type '{}' is not one of endDate, noEnd, numbered.",
                        text_of(range, "type"));
    return false;
  }
  return true;
}

json recurrence_to_graph(const RecurrenceRule& rule, const std::string& zone) {
  using P = RecurrenceRule::Pattern;
  json pattern = {{"type", "daily"},
                  {"interval", rule.interval},
                  {"month", 0},
                  {"dayOfMonth", 0},
                  {"firstDayOfWeek", kDays[rule.first_day_of_week.c_encoding()]},
                  {"index", kIndexes[static_cast<size_t>(rule.week_index - 1)]}};
  json days = json::array();
  for (auto d : rule.days) days.push_back(kDays[d.c_encoding()]);
  switch (rule.pattern) {
    case P::kDaily:
      pattern["type"] = "daily";
      break;
    case P::kWeekly:
      pattern["type"] = "weekly";
      break;
    case P::kAbsoluteMonthly:
      pattern["type"] = "absoluteMonthly";
      pattern["dayOfMonth"] = rule.day_of_month;
      break;
    case P::kRelativeMonthly:
      pattern["type"] = "relativeMonthly";
      break;
    case P::kAbsoluteYearly:
      pattern["type"] = "absoluteYearly";
      pattern["dayOfMonth"] = rule.day_of_month;
      pattern["month"] = static_cast<unsigned>(rule.month);
      pattern["interval"] = 1;
      break;
    case P::kRelativeYearly:
      pattern["type"] = "relativeYearly";
      pattern["month"] = static_cast<unsigned>(rule.month);
      pattern["interval"] = 1;
      break;
  }
  pattern["daysOfWeek"] = days;
  json range = {{"type", "noEnd"},
                {"startDate", format_date(rule.start_date)},
                {"endDate", "0001-01-01"},
                {"recurrenceTimeZone", zone},
                {"numberOfOccurrences", 0}};
  if (rule.range == RecurrenceRule::Range::kEndDate) {
    range["type"] = "endDate";
    range["endDate"] = format_date(rule.end_date);
  } else if (rule.range == RecurrenceRule::Range::kNumbered) {
    range["type"] = "numbered";
    range["numberOfOccurrences"] = rule.count;
  }
  return {{"pattern", pattern}, {"range", range}};
}

}  // namespace exsim
