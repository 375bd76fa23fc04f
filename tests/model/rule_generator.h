#pragma once
/// Random recurrence rules within the model (fixed seed, reproducible) for the model suites:
/// all four frequencies, intervals, WKST, BYDAY with and without ordinals, BYMONTHDAY
/// (negative too), BYMONTH, BYSETPOS, COUNT or UNTIL; in UTC and in zones with DST; 10 %
/// all-day. Times of day avoid 01:00-02:59, the DST gap and overlap hours of those zones.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "calendar_text.h"
#include "core/appointment.h"
#include "core/time_zone.h"

namespace agendasync::model_test {

using namespace std::chrono;

/// One generated case: the series as the model holds it, and dateutil's input line.
struct GeneratedCase {
  Appointment item;
  std::string dtstart_floating;
  std::string rrule_floating;  ///< UNTIL as floating local time, as dateutil wants it
};

class RuleGenerator {
 public:
  explicit RuleGenerator(std::uint32_t seed) : rng_(seed) {}

  GeneratedCase next() {
    while (true) {
      GeneratedCase c = candidate();
      if (check_rule(c.item.recurrence->rule)) return c;
    }
  }

 private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  weekday any_day() { return weekday(static_cast<unsigned>(uniform(0, 6))); }

  std::vector<WeekdayNum> plain_days(int at_least, int at_most) {
    std::vector<WeekdayNum> out;
    const int n = uniform(at_least, at_most);
    std::vector<unsigned> all = {0, 1, 2, 3, 4, 5, 6};
    std::shuffle(all.begin(), all.end(), rng_);
    for (int i = 0; i < n; ++i) out.push_back(WeekdayNum{0, weekday(all[i])});
    return out;
  }

  std::vector<int> month_days(int n) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i) {
      int day = uniform(1, 31);
      out.push_back(chance(0.35) ? -day : day);
    }
    return out;
  }

  std::vector<int> months(int n) {
    std::vector<int> out;
    for (int i = 0; i < n; ++i) out.push_back(uniform(1, 12));
    return out;
  }

  std::vector<int> set_positions() {
    static const int kChoices[] = {1, 2, 3, -1, -2};
    std::vector<int> out{kChoices[uniform(0, 4)]};
    if (chance(0.2)) out.push_back(kChoices[uniform(0, 4)]);
    return out;
  }

  std::vector<WeekdayNum> ordinal_days(int max_ordinal) {
    std::vector<WeekdayNum> out;
    const int n = uniform(1, 2);
    for (int i = 0; i < n; ++i) {
      int ordinal = uniform(1, max_ordinal);
      if (chance(0.4)) ordinal = -uniform(1, std::min(2, max_ordinal));
      out.push_back(WeekdayNum{ordinal, any_day()});
    }
    return out;
  }

  RecurrenceRule rule_body() {
    RecurrenceRule rule;
    rule.freq = static_cast<Frequency>(uniform(0, 3));
    rule.interval = chance(0.5) ? 1 : uniform(2, rule.freq == Frequency::kDaily ? 5 : 3);
    if (chance(0.3)) rule.week_start = any_day();
    switch (rule.freq) {
      case Frequency::kDaily:
        if (chance(0.2)) rule.by_month = months(uniform(1, 3));
        if (chance(0.3)) rule.by_day = plain_days(1, 4);
        if (chance(0.15)) rule.by_month_day = month_days(uniform(1, 3));
        break;
      case Frequency::kWeekly:
        if (chance(0.85)) rule.by_day = plain_days(1, 4);
        if (chance(0.1)) rule.by_month = months(uniform(2, 6));
        if (rule.by_day.size() >= 2 && chance(0.25)) rule.by_set_pos = set_positions();
        break;
      case Frequency::kMonthly:
        switch (uniform(0, 3)) {
          case 0:
            rule.by_month_day = month_days(uniform(1, 3));
            break;
          case 1:
            rule.by_day = ordinal_days(4);
            break;
          case 2:
            rule.by_day = plain_days(2, 5);
            rule.by_set_pos = set_positions();
            break;
          default:
            break;  // DTSTART's day of the month
        }
        if (chance(0.2)) rule.by_month = months(uniform(2, 5));
        break;
      case Frequency::kYearly:
        if (chance(0.85)) rule.by_month = months(uniform(1, 2));
        switch (uniform(0, 3)) {
          case 0:
            rule.by_month_day = month_days(uniform(1, 2));
            break;
          case 1:
            rule.by_day = ordinal_days(rule.by_month.empty() ? 20 : 4);
            break;
          case 2:
            rule.by_day = plain_days(1, 3);
            rule.by_set_pos = set_positions();
            if (rule.by_month.empty()) rule.by_month = months(1);
            break;
          default:
            break;
        }
        break;
    }
    return rule;
  }

  GeneratedCase candidate() {
    static const char* kZones[] = {"UTC", "Europe/Amsterdam", "America/New_York", "Asia/Tokyo"};
    GeneratedCase c;
    Appointment& item = c.item;
    item.subject = "generated";
    item.all_day = chance(0.1);
    item.time_zone = kZones[uniform(0, 3)];
    RecurrenceRule rule = rule_body();

    local_days day = local_days(year(uniform(1995, 2030)) / 1 / 1) + days(uniform(0, 364));
    if (rule.freq == Frequency::kWeekly && !rule.by_set_pos.empty()) {
      // dateutil takes BYSETPOS in the first week from DTSTART's day on, not from the week's
      // first day as RFC 5545 (and libical, and the model) do: start such rules on WKST.
      day -= days((weekday(day).c_encoding() + 7 - rule.week_start.c_encoding()) % 7);
    }
    int hour = uniform(0, 21);
    if (hour >= 1) hour += 2;  // never 01:00-02:59 (see the file comment)
    local_seconds start_local = day + hours(hour) + minutes(15 * uniform(0, 3));
    if (item.all_day) start_local = day;

    const bool by_count = chance(0.55);
    local_seconds until_local{};
    if (by_count) {
      rule.count = uniform(1, 25);
    } else {
      until_local =
          local_days(day + days(uniform(20, rule.freq == Frequency::kYearly ? 4000 : 900))) +
          (item.all_day ? hours(0) : hours(3 + uniform(0, 20)));
    }
    if (item.all_day) {
      item.start = sys_seconds(start_local.time_since_epoch());
      item.end = item.start + days(1);
      if (!by_count) rule.until = sys_seconds(until_local.time_since_epoch());
    } else {
      item.start = to_utc(start_local, item.time_zone).value();
      item.end = item.start + minutes(45);
      if (!by_count) rule.until = to_utc(until_local, item.time_zone).value();
    }
    item.recurrence = Recurrence{rule, {}, {}};

    c.dtstart_floating = item.all_day ? model_test::format_date(start_local)
                                      : model_test::format_floating(start_local);
    RecurrenceRule open = rule;
    open.until.reset();
    c.rrule_floating = format_rrule(open);
    if (!by_count) {
      c.rrule_floating += ";UNTIL=" + (item.all_day ? model_test::format_date(until_local)
                                                    : model_test::format_floating(until_local));
    }
    return c;
  }

  std::mt19937 rng_;
};

}  // namespace agendasync::model_test
