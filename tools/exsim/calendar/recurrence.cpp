#include "exsim/calendar/recurrence.h"

#include <algorithm>
#include <array>
#include <sstream>

#include "exsim/store/ews_time.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using namespace std::chrono;

std::optional<weekday> weekday_from_name(std::string_view n) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  for (unsigned i = 0; i < 7; ++i) {
    if (kNames[i] == n) return weekday{i};
  }
  return std::nullopt;
}

bool parse_days(std::string_view text, std::vector<weekday>& out) {
  std::istringstream in{std::string(text)};
  std::string token;
  while (in >> token) {
    if (token == "Day") {
      for (unsigned i = 0; i < 7; ++i) out.push_back(weekday{i});
    } else if (token == "Weekday") {
      for (unsigned i = 1; i < 6; ++i) out.push_back(weekday{i});
    } else if (token == "WeekendDay") {
      out.push_back(Saturday);
      out.push_back(Sunday);
    } else if (auto d = weekday_from_name(token)) {
      out.push_back(*d);
    } else {
      return false;
    }
  }
  return !out.empty();
}

std::optional<int> week_index_from_name(std::string_view n) {
  if (n == "First") return 1;
  if (n == "Second") return 2;
  if (n == "Third") return 3;
  if (n == "Fourth") return 4;
  if (n == "Last") return 5;
  return std::nullopt;
}

std::optional<month> month_from_name(std::string_view n) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  for (unsigned i = 0; i < 12; ++i) {
    if (kNames[i] == n) return month{i + 1};
  }
  return std::nullopt;
}

bool contains(const std::vector<weekday>& days, weekday d) {
  return std::find(days.begin(), days.end(), d) != days.end();
}

// The nth (5 = last) day of year/month whose weekday is in `days`.
std::optional<year_month_day> nth_matching(year y, month m, const std::vector<weekday>& days,
                                           int index) {
  std::vector<year_month_day> matches;
  auto last = year_month_day_last{y, month_day_last{m}}.day();
  for (unsigned d = 1; d <= static_cast<unsigned>(last); ++d) {
    year_month_day ymd{y, m, day{d}};
    if (contains(days, weekday{sys_days{ymd}})) matches.push_back(ymd);
  }
  if (matches.empty()) return std::nullopt;
  if (index == 5) return matches.back();
  if (static_cast<size_t>(index) > matches.size()) return std::nullopt;
  return matches[static_cast<size_t>(index) - 1];
}

year_month_day clamped(year y, month m, int dom) {
  auto last =
      static_cast<int>(static_cast<unsigned>(year_month_day_last{y, month_day_last{m}}.day()));
  return year_month_day{y, m, day{static_cast<unsigned>(std::min(dom, last))}};
}

}  // namespace

std::optional<RecurrenceRule> parse_recurrence(pugi::xml_node rec, std::string& error) {
  RecurrenceRule r;
  pugi::xml_node pattern;
  pugi::xml_node range;
  for (pugi::xml_node c : element_children(rec)) {
    std::string_view n = local_name(c);
    if (n.ends_with("Recurrence") && n != "NoEndRecurrence" && n != "EndDateRecurrence" &&
        n != "NumberedRecurrence") {
      pattern = c;
    } else {
      range = c;
    }
  }
  if (!pattern || !range) {
    error =
        "Recurrence needs a pattern (e.g. WeeklyRecurrence) and a range (e.g. NoEndRecurrence).";
    return std::nullopt;
  }
  std::string_view pn = local_name(pattern);
  auto interval = [&]() { return child(pattern, "Interval").text().as_int(1); };
  if (pn == "DailyRecurrence") {
    r.pattern = RecurrenceRule::Pattern::kDaily;
    r.interval = interval();
  } else if (pn == "WeeklyRecurrence") {
    r.pattern = RecurrenceRule::Pattern::kWeekly;
    r.interval = interval();
    if (!parse_days(child_text(pattern, "DaysOfWeek"), r.days)) {
      error = "WeeklyRecurrence needs DaysOfWeek.";
      return std::nullopt;
    }
    if (auto f = weekday_from_name(child_text(pattern, "FirstDayOfWeek"))) r.first_day_of_week = *f;
  } else if (pn == "AbsoluteMonthlyRecurrence") {
    r.pattern = RecurrenceRule::Pattern::kAbsoluteMonthly;
    r.interval = interval();
    r.day_of_month = child(pattern, "DayOfMonth").text().as_int(0);
  } else if (pn == "RelativeMonthlyRecurrence") {
    r.pattern = RecurrenceRule::Pattern::kRelativeMonthly;
    r.interval = interval();
    auto idx = week_index_from_name(child_text(pattern, "DayOfWeekIndex"));
    if (!idx || !parse_days(child_text(pattern, "DaysOfWeek"), r.days)) {
      error = "RelativeMonthlyRecurrence needs DaysOfWeek and DayOfWeekIndex.";
      return std::nullopt;
    }
    r.week_index = *idx;
  } else if (pn == "AbsoluteYearlyRecurrence") {
    r.pattern = RecurrenceRule::Pattern::kAbsoluteYearly;
    r.day_of_month = child(pattern, "DayOfMonth").text().as_int(0);
    auto m = month_from_name(child_text(pattern, "Month"));
    if (!m) {
      error = "AbsoluteYearlyRecurrence needs Month.";
      return std::nullopt;
    }
    r.month = *m;
  } else if (pn == "RelativeYearlyRecurrence") {
    r.pattern = RecurrenceRule::Pattern::kRelativeYearly;
    auto idx = week_index_from_name(child_text(pattern, "DayOfWeekIndex"));
    auto m = month_from_name(child_text(pattern, "Month"));
    if (!idx || !m || !parse_days(child_text(pattern, "DaysOfWeek"), r.days)) {
      error = "RelativeYearlyRecurrence needs DaysOfWeek, DayOfWeekIndex and Month.";
      return std::nullopt;
    }
    r.week_index = *idx;
    r.month = *m;
  } else {
    error = "Recurrence pattern " + std::string(pn) + " is not a calendar recurrence pattern.";
    return std::nullopt;
  }
  if (r.interval < 1 || r.interval > 999) {
    error = "Recurrence Interval must be between 1 and 999.";
    return std::nullopt;
  }
  if ((r.pattern == RecurrenceRule::Pattern::kAbsoluteMonthly ||
       r.pattern == RecurrenceRule::Pattern::kAbsoluteYearly) &&
      (r.day_of_month < 1 || r.day_of_month > 31)) {
    error = "DayOfMonth must be between 1 and 31.";
    return std::nullopt;
  }

  std::string_view rn = local_name(range);
  auto start = parse_date(child_text(range, "StartDate"));
  if (!start) {
    error = "The recurrence range needs a StartDate.";
    return std::nullopt;
  }
  r.start_date = *start;
  if (rn == "NoEndRecurrence") {
    r.range = RecurrenceRule::Range::kNoEnd;
  } else if (rn == "EndDateRecurrence") {
    r.range = RecurrenceRule::Range::kEndDate;
    auto end = parse_date(child_text(range, "EndDate"));
    if (!end || sys_days{*end} < sys_days{*start}) {
      error = "EndDateRecurrence needs an EndDate on or after StartDate.";
      return std::nullopt;
    }
    r.end_date = *end;
  } else if (rn == "NumberedRecurrence") {
    r.range = RecurrenceRule::Range::kNumbered;
    r.count = child(range, "NumberOfOccurrences").text().as_int(0);
    if (r.count < 1 || r.count > 999) {
      error = "NumberOfOccurrences must be between 1 and 999.";
      return std::nullopt;
    }
  } else {
    error = "Unknown recurrence range " + std::string(rn) + ".";
    return std::nullopt;
  }
  return r;
}

std::vector<year_month_day> expand_dates(const RecurrenceRule& r, year_month_day until,
                                         size_t max) {
  std::vector<year_month_day> out;
  sys_days first{r.start_date};
  sys_days last{until};
  if (r.range == RecurrenceRule::Range::kEndDate) last = std::min(last, sys_days{r.end_date});
  size_t limit = max;
  if (r.range == RecurrenceRule::Range::kNumbered)
    limit = std::min(limit, static_cast<size_t>(r.count));
  // Returns false once the expansion is complete.
  auto take = [&](year_month_day d) {
    sys_days sd{d};
    if (sd < first) return true;
    if (sd > last || out.size() >= limit) return false;
    out.push_back(d);
    return out.size() < limit;
  };
  constexpr int kMaxPeriods = 20000;  // bounds NoEnd series far in the future
  using P = RecurrenceRule::Pattern;
  switch (r.pattern) {
    case P::kDaily:
      for (int i = 0; i < kMaxPeriods * 10; ++i) {
        if (!take(year_month_day{first + days{i * r.interval}})) break;
      }
      break;
    case P::kWeekly: {
      // Weeks are counted from the week (per FirstDayOfWeek) holding the start date.
      sys_days week0 = first - (weekday{first} - r.first_day_of_week);
      bool go = true;
      for (int w = 0; go && w < kMaxPeriods; ++w) {
        sys_days ws = week0 + days{7 * w * r.interval};
        if (ws > last) break;
        for (int k = 0; go && k < 7; ++k) {
          sys_days d = ws + days{k};
          if (contains(r.days, weekday{d})) go = take(year_month_day{d});
        }
      }
      break;
    }
    case P::kAbsoluteMonthly:
    case P::kRelativeMonthly: {
      year_month ym0{r.start_date.year(), r.start_date.month()};
      for (int i = 0; i < kMaxPeriods; ++i) {
        year_month ym = ym0 + months{i * r.interval};
        if (sys_days{ym / 1} > last) break;
        std::optional<year_month_day> d =
            r.pattern == P::kAbsoluteMonthly
                ? std::optional(clamped(ym.year(), ym.month(), r.day_of_month))
                : nth_matching(ym.year(), ym.month(), r.days, r.week_index);
        if (d && !take(*d)) break;
      }
      break;
    }
    case P::kAbsoluteYearly:
    case P::kRelativeYearly: {
      for (int i = 0; i < kMaxPeriods; ++i) {
        year y = r.start_date.year() + years{i};
        if (sys_days{y / r.month / 1} > last) break;
        std::optional<year_month_day> d = r.pattern == P::kAbsoluteYearly
                                              ? std::optional(clamped(y, r.month, r.day_of_month))
                                              : nth_matching(y, r.month, r.days, r.week_index);
        if (d && !take(*d)) break;
      }
      break;
    }
  }
  return out;
}

}  // namespace exsim
