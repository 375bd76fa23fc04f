#include "core/rule_shape.h"

#include <algorithm>
#include <array>

namespace agendasync::detail {
namespace {

constexpr std::array<int, 12> kMonthLength = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/// One day seen from inside its period.
struct DayInPeriod {
  int month;         ///< 1..12
  int day;           ///< 1..month_length
  int month_length;  ///< 28..31
  int weekday;       ///< 0 = Sunday (c_encoding)
  int day_of_year;   ///< 1..year_length
  int year_length;   ///< 365 or 366
};

bool contains(const std::vector<int>& values, int value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool matches_month_day(const RecurrenceRule& rule, const DayInPeriod& d) {
  return std::any_of(rule.by_month_day.begin(), rule.by_month_day.end(), [&](int wanted) {
    return wanted > 0 ? wanted == d.day : d.month_length + wanted + 1 == d.day;
  });
}

/// BYDAY; an ordinal counts within the month (MONTHLY, or YEARLY with BYMONTH) or the year.
bool matches_weekday(const RecurrenceRule& rule, const DayInPeriod& d) {
  const bool in_month = rule.freq == Frequency::kMonthly || !rule.by_month.empty();
  const int index = in_month ? d.day : d.day_of_year;
  const int length = in_month ? d.month_length : d.year_length;
  return std::any_of(rule.by_day.begin(), rule.by_day.end(), [&](const WeekdayNum& entry) {
    if (static_cast<int>(entry.day.c_encoding()) != d.weekday) return false;
    if (entry.ordinal > 0) return (index - 1) / 7 + 1 == entry.ordinal;
    if (entry.ordinal < 0) return (length - index) / 7 + 1 == -entry.ordinal;
    return true;
  });
}

bool is_candidate(const RecurrenceRule& rule, const DayInPeriod& d) {
  if (!rule.by_month.empty() && !contains(rule.by_month, d.month)) return false;
  if (!rule.by_month_day.empty()) {
    if (!matches_month_day(rule, d)) return false;
  } else if (rule.by_day.empty()) {
    // The day comes from DTSTART: assume the first of the month (every month has it).
    if (d.day != 1) return false;
    if (rule.freq == Frequency::kYearly && rule.by_month.empty() && d.month != 1) return false;
  }
  return rule.by_day.empty() || matches_weekday(rule, d);
}

/// Candidates in one month or one year whose first day falls on `first_weekday`.
int count_candidates(const RecurrenceRule& rule, bool leap, int first_weekday, int only_month) {
  const int year_length = leap ? 366 : 365;
  int count = 0;
  int day_of_year = 0;
  int weekday = first_weekday;
  for (int month = 1; month <= 12; ++month) {
    const int length = kMonthLength[static_cast<std::size_t>(month - 1)] + (leap && month == 2);
    if (only_month != 0 && month != only_month) {
      day_of_year += length;
      continue;
    }
    for (int day = 1; day <= length; ++day) {
      ++day_of_year;
      if (is_candidate(rule, DayInPeriod{month, day, length, weekday, day_of_year, year_length})) {
        ++count;
      }
      weekday = (weekday + 1) % 7;
    }
  }
  return count;
}

int distinct_weekdays(const RecurrenceRule& rule) {
  std::array<bool, 7> seen{};
  for (const auto& entry : rule.by_day) seen[entry.day.c_encoding() % 7] = true;
  return static_cast<int>(std::count(seen.begin(), seen.end(), true));
}

}  // namespace

int max_candidates_per_period(const RecurrenceRule& rule) {
  switch (rule.freq) {
    case Frequency::kDaily:
      return 1;
    case Frequency::kWeekly:
      return rule.by_day.empty() ? 1 : distinct_weekdays(rule);
    case Frequency::kMonthly: {
      int most = 0;
      for (int month = 1; month <= 12; ++month) {
        for (bool leap : {false, true}) {
          for (int weekday = 0; weekday < 7; ++weekday) {
            most = std::max(most, count_candidates(rule, leap, weekday, month));
          }
        }
      }
      return most;
    }
    case Frequency::kYearly: {
      int most = 0;
      for (bool leap : {false, true}) {
        for (int weekday = 0; weekday < 7; ++weekday) {
          most = std::max(most, count_candidates(rule, leap, weekday, 0));
        }
      }
      return most;
    }
  }
  return 0;
}

}  // namespace agendasync::detail
