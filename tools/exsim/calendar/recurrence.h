#pragma once
/// EWS recurrence patterns and ranges (RecurrenceType in types.xsd) and their expansion into
/// occurrence dates. See
/// learn.microsoft.com/exchange/client-developer/web-service-reference/recurrence-recurrencetype
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <pugixml.hpp>

namespace exsim {

/// One recurrence as a value: the pattern and the range of a <t:Recurrence> element.
struct RecurrenceRule {
  enum class Pattern {
    kDaily,
    kWeekly,
    kAbsoluteMonthly,
    kRelativeMonthly,
    kAbsoluteYearly,
    kRelativeYearly
  };
  enum class Range { kNoEnd, kEndDate, kNumbered };

  Pattern pattern = Pattern::kDaily;
  int interval = 1;
  std::vector<std::chrono::weekday> days;  // DaysOfWeek ("Weekday" = Mon..Fri, ...)
  int day_of_month = 1;
  int week_index = 1;  // 1..4, 5 = Last
  std::chrono::month month{1};
  std::chrono::weekday first_day_of_week = std::chrono::Sunday;
  Range range = Range::kNoEnd;
  std::chrono::year_month_day start_date{};
  std::chrono::year_month_day end_date{};
  int count = 0;
};

/// Reads a <t:Recurrence>; on failure returns nullopt and says why in `error`.
std::optional<RecurrenceRule> parse_recurrence(pugi::xml_node recurrence, std::string& error);

/// Occurrence dates in order: from the range's start date, at most `max`, none after `until`.
std::vector<std::chrono::year_month_day> expand_dates(const RecurrenceRule& rule,
                                                      std::chrono::year_month_day until,
                                                      size_t max);

}  // namespace exsim
