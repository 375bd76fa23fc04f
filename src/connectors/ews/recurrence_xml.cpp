#include "connectors/ews/recurrence_xml.h"

#include <array>
#include <string>

#include "connectors/ews/xml.h"

namespace agendasync::ews {

namespace {

constexpr std::array<const char*, 10> kDayTokens{"Sunday",   "Monday",    "Tuesday",  "Wednesday",
                                                 "Thursday", "Friday",    "Saturday", "Day",
                                                 "Weekday",  "WeekendDay"};
constexpr std::array<const char*, 12> kMonthTokens{"January",   "February", "March",    "April",
                                                   "May",       "June",     "July",     "August",
                                                   "September", "October",  "November", "December"};
constexpr std::array<const char*, 5> kIndexTokens{"First", "Second", "Third", "Fourth", "Last"};

struct PatternName {
  PatternKind kind;
  const char* element;
};
constexpr std::array kPatterns{
    PatternName{PatternKind::kRelativeYearly, "RelativeYearlyRecurrence"},
    PatternName{PatternKind::kAbsoluteYearly, "AbsoluteYearlyRecurrence"},
    PatternName{PatternKind::kRelativeMonthly, "RelativeMonthlyRecurrence"},
    PatternName{PatternKind::kAbsoluteMonthly, "AbsoluteMonthlyRecurrence"},
    PatternName{PatternKind::kWeekly, "WeeklyRecurrence"},
    PatternName{PatternKind::kDaily, "DailyRecurrence"},
};

std::optional<int> parse_month(std::string_view token) {
  for (std::size_t i = 0; i < kMonthTokens.size(); ++i) {
    if (token == kMonthTokens[i]) return static_cast<int>(i + 1);
  }
  return std::nullopt;
}

std::optional<int> parse_index(std::string_view token) {
  for (std::size_t i = 0; i < kIndexTokens.size(); ++i) {
    if (token == kIndexTokens[i]) return i == 4 ? -1 : static_cast<int>(i + 1);
  }
  return std::nullopt;
}

const char* index_token(int index) {
  return index < 0 || index > 4 ? "Last" : kIndexTokens[index - 1];
}

void add_text(pugi::xml_node& parent, const char* name, const std::string& value) {
  parent.append_child(name).text().set(value.c_str());
}

}  // namespace

std::optional<DayClass> parse_day_class(std::string_view token) {
  for (std::size_t i = 0; i < kDayTokens.size(); ++i) {
    if (token == kDayTokens[i]) return static_cast<DayClass>(i);
  }
  return std::nullopt;
}

const char* to_token(DayClass day) { return kDayTokens[static_cast<std::size_t>(day)]; }

std::optional<EwsRecurrence> read_recurrence(const pugi::xml_node& element) {
  EwsRecurrence out;
  pugi::xml_node pattern;
  for (const PatternName& candidate : kPatterns) {
    pattern = child(element, candidate.element);
    if (pattern) {
      out.pattern.kind = candidate.kind;
      break;
    }
  }
  if (!pattern) return std::nullopt;
  RecurrencePattern& p = out.pattern;
  if (pugi::xml_node interval = child(pattern, "Interval")) {
    const auto value = parse_int(interval.text().as_string());
    if (!value || *value < 1 || *value > 999) return std::nullopt;
    p.interval = *value;
  } else if (p.kind != PatternKind::kAbsoluteYearly && p.kind != PatternKind::kRelativeYearly) {
    return std::nullopt;
  }
  if (pugi::xml_node days = child(pattern, "DaysOfWeek")) {
    // Weekly carries a space-separated list; the relative patterns exactly one token.
    std::string_view list = days.text().as_string();
    while (!list.empty()) {
      const auto space = list.find_first_of(" \t\r\n");
      const std::string_view token = list.substr(0, space);
      if (!token.empty()) {
        const auto day = parse_day_class(token);
        if (!day) return std::nullopt;
        p.days_of_week.push_back(*day);
      }
      if (space == std::string_view::npos) break;
      list.remove_prefix(space + 1);
    }
  }
  if (pugi::xml_node first = child(pattern, "FirstDayOfWeek")) {
    const auto day = parse_day_class(first.text().as_string());
    if (!day) return std::nullopt;
    p.first_day_of_week = *day;
  }
  if (pugi::xml_node index = child(pattern, "DayOfWeekIndex")) {
    const auto value = parse_index(index.text().as_string());
    if (!value) return std::nullopt;
    p.day_of_week_index = *value;
  }
  if (pugi::xml_node day = child(pattern, "DayOfMonth")) {
    const auto value = parse_int(day.text().as_string());
    if (!value || *value < 1 || *value > 31) return std::nullopt;
    p.day_of_month = *value;
  }
  if (pugi::xml_node month = child(pattern, "Month")) {
    const auto value = parse_month(month.text().as_string());
    if (!value) return std::nullopt;
    p.month = *value;
  }
  const bool relative =
      p.kind == PatternKind::kRelativeMonthly || p.kind == PatternKind::kRelativeYearly;
  if ((p.kind == PatternKind::kWeekly || relative) && p.days_of_week.empty()) return std::nullopt;
  if (relative && p.days_of_week.size() != 1) return std::nullopt;

  pugi::xml_node range;
  if ((range = child(element, "NoEndRecurrence"))) {
    out.range.kind = RangeKind::kNoEnd;
  } else if ((range = child(element, "EndDateRecurrence"))) {
    out.range.kind = RangeKind::kEndDate;
    const auto end = parse_date(child_text(range, "EndDate"));
    if (!end) return std::nullopt;
    out.range.end_date = *end;
  } else if ((range = child(element, "NumberedRecurrence"))) {
    out.range.kind = RangeKind::kNumbered;
    const auto count = parse_int(child_text(range, "NumberOfOccurrences"));
    if (!count || *count < 1) return std::nullopt;
    out.range.count = *count;
  } else {
    return std::nullopt;
  }
  const auto start = parse_date(child_text(range, "StartDate"));
  if (!start) return std::nullopt;
  out.range.start_date = *start;
  return out;
}

void write_recurrence(pugi::xml_node& element, const EwsRecurrence& recurrence) {
  const RecurrencePattern& p = recurrence.pattern;
  const char* name = "DailyRecurrence";
  for (const PatternName& candidate : kPatterns) {
    if (candidate.kind == p.kind) name = candidate.element;
  }
  pugi::xml_node pattern = element.append_child((std::string("t:") + name).c_str());
  // Element order per types.xsd: Interval first (not on yearly), then the pattern fields.
  switch (p.kind) {
    case PatternKind::kRelativeYearly:
      add_text(pattern, "t:DaysOfWeek", to_token(p.days_of_week.at(0)));
      add_text(pattern, "t:DayOfWeekIndex", index_token(p.day_of_week_index));
      add_text(pattern, "t:Month", kMonthTokens.at(p.month - 1));
      break;
    case PatternKind::kAbsoluteYearly:
      add_text(pattern, "t:DayOfMonth", std::to_string(p.day_of_month));
      add_text(pattern, "t:Month", kMonthTokens.at(p.month - 1));
      break;
    case PatternKind::kRelativeMonthly:
      add_text(pattern, "t:Interval", std::to_string(p.interval));
      add_text(pattern, "t:DaysOfWeek", to_token(p.days_of_week.at(0)));
      add_text(pattern, "t:DayOfWeekIndex", index_token(p.day_of_week_index));
      break;
    case PatternKind::kAbsoluteMonthly:
      add_text(pattern, "t:Interval", std::to_string(p.interval));
      add_text(pattern, "t:DayOfMonth", std::to_string(p.day_of_month));
      break;
    case PatternKind::kWeekly: {
      add_text(pattern, "t:Interval", std::to_string(p.interval));
      std::string days;
      for (const DayClass day : p.days_of_week) {
        if (!days.empty()) days += ' ';
        days += to_token(day);
      }
      add_text(pattern, "t:DaysOfWeek", days);
      add_text(pattern, "t:FirstDayOfWeek", to_token(p.first_day_of_week));
      break;
    }
    case PatternKind::kDaily:
      add_text(pattern, "t:Interval", std::to_string(p.interval));
      break;
  }
  const RecurrenceRange& r = recurrence.range;
  switch (r.kind) {
    case RangeKind::kNoEnd: {
      pugi::xml_node range = element.append_child("t:NoEndRecurrence");
      add_text(range, "t:StartDate", format_date(r.start_date));
      break;
    }
    case RangeKind::kEndDate: {
      pugi::xml_node range = element.append_child("t:EndDateRecurrence");
      add_text(range, "t:StartDate", format_date(r.start_date));
      add_text(range, "t:EndDate", format_date(r.end_date));
      break;
    }
    case RangeKind::kNumbered: {
      pugi::xml_node range = element.append_child("t:NumberedRecurrence");
      add_text(range, "t:StartDate", format_date(r.start_date));
      add_text(range, "t:NumberOfOccurrences", std::to_string(r.count));
      break;
    }
  }
}

}  // namespace agendasync::ews
