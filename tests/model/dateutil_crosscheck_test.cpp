// Cross-check of expand() against python-dateutil (Debian python3-dateutil), an
// implementation nobody here wrote. 1000 random rules from a fixed seed, within the model:
// all four frequencies, intervals, WKST, BYDAY with and without ordinals, BYMONTHDAY
// (negative too), BYMONTH, BYSETPOS, COUNT or UNTIL; in UTC and in zones with DST.
// Every instance list must be identical; every mismatch is a failure.
//
// DTSTART semantics: the model, like Exchange/Graph, libical and dateutil, does not count a
// DTSTART that does not match its rule as an occurrence (RFC 5545 leaves that case
// undefined). So random DTSTARTs are compared as they are; a difference there would show
// up as a mismatch. One known difference is avoided instead: for WEEKLY;BYSETPOS dateutil
// picks positions in the first week among the days from DTSTART on, where RFC 5545, libical
// and the model use the whole week; such rules start on their week's first day. (The model's
// reading is pinned by the libical corpus case 'Weekly on Tuesday and Thursday' and by
// expand_test.) Times of day avoid 01:00-02:59, the DST gap and overlap hours of the
// zones used, where floating (dateutil) and zoned (model) times legitimately differ.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "calendar_text.h"
#include "core/expand.h"
#include "core/time_zone.h"

namespace agendasync {
namespace {

using namespace std::chrono;

constexpr int kRules = 1000;
constexpr std::uint32_t kSeed = 20241125;

/// One generated case: the series as the model holds it, and dateutil's input line.
struct GeneratedCase {
  Appointment item;
  std::string dtstart_floating;
  std::string rrule_floating;  ///< UNTIL as floating local time, as dateutil wants it
};

/// What the generated rules exercise; asserted so the generator cannot quietly narrow.
struct Coverage {
  std::map<Frequency, int> by_freq;
  int interval = 0, wkst = 0, ordinal = 0, plain_day = 0, month_day = 0, negative_month_day = 0,
      month = 0, set_pos = 0, count = 0, until = 0, all_day = 0, dst_zone = 0;
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

void tally(const GeneratedCase& c, Coverage& coverage) {
  const RecurrenceRule& r = c.item.recurrence->rule;
  ++coverage.by_freq[r.freq];
  coverage.interval += r.interval > 1;
  coverage.wkst += r.week_start != Monday;
  for (const auto& d : r.by_day) {
    coverage.ordinal += d.ordinal != 0;
    coverage.plain_day += d.ordinal == 0;
  }
  coverage.month_day += !r.by_month_day.empty();
  for (int d : r.by_month_day) coverage.negative_month_day += d < 0;
  coverage.month += !r.by_month.empty();
  coverage.set_pos += !r.by_set_pos.empty();
  coverage.count += r.count.has_value();
  coverage.until += r.until.has_value();
  coverage.all_day += c.item.all_day;
  coverage.dst_zone +=
      c.item.time_zone == "Europe/Amsterdam" || c.item.time_zone == "America/New_York";
}

/// The model's instances as floating wall-clock text in the series' zone.
std::string model_instances(const Appointment& item) {
  auto occurrences = expand(item, item.start - days(1), sys_days(year(9000) / 1 / 1), 5001);
  if (!occurrences) return "!" + occurrences.error().message;
  std::string out;
  for (const auto& o : *occurrences) {
    local_seconds local(o.start.time_since_epoch());
    if (!item.all_day) local = to_local(o.start, item.time_zone).value();
    out += (out.empty() ? "" : ",") + model_test::format_floating(local);
  }
  return out;
}

std::map<std::string, std::string> run_dateutil(const std::filesystem::path& in,
                                                const std::filesystem::path& out) {
  const std::string script = std::string(AGENDASYNC_SOURCE_DIR) + "/tests/model/dateutil_expand.py";
  const std::string command =
      "/usr/bin/python3 '" + script + "' '" + in.string() + "' '" + out.string() + "'";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command << " failed: is python3-dateutil installed?";
  std::map<std::string, std::string> results;
  std::ifstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    auto tab = line.find('\t');
    if (tab != std::string::npos) results[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return results;
}

TEST(DateutilCrossCheck, ThousandRandomRulesExpandIdentically) {
  RuleGenerator generator(kSeed);
  std::vector<GeneratedCase> cases;
  Coverage coverage;
  const auto dir = std::filesystem::path(testing::TempDir()) / "agendasync_dateutil";
  std::filesystem::create_directories(dir);
  {
    std::ofstream rules(dir / "rules.tsv");
    for (int i = 0; i < kRules; ++i) {
      cases.push_back(generator.next());
      tally(cases.back(), coverage);
      rules << i << '\t' << cases.back().dtstart_floating << '\t' << cases.back().rrule_floating
            << '\n';
    }
  }
  const auto expected = run_dateutil(dir / "rules.tsv", dir / "instances.tsv");
  ASSERT_EQ(expected.size(), cases.size()) << "dateutil answered for too few rules";

  int mismatches = 0;
  int total_instances = 0;
  for (int i = 0; i < kRules; ++i) {
    const GeneratedCase& c = cases[static_cast<std::size_t>(i)];
    // For a date DTSTART dateutil lists midnight date-times; the model's dates are written
    // the same way (model_instances), so all-day series compare as they are.
    const std::string want = expected.at(std::to_string(i));
    const std::string got = model_instances(c.item);
    total_instances += static_cast<int>(std::count(want.begin(), want.end(), ',')) + !want.empty();
    if (got != want) {
      ++mismatches;
      ADD_FAILURE() << "rule " << i << ": DTSTART " << c.dtstart_floating << " ("
                    << c.item.time_zone << ") RRULE " << c.rrule_floating
                    << "\n  dateutil: " << want << "\n  model:    " << got;
    }
  }
  EXPECT_EQ(mismatches, 0);
  // The comparison means something only if the rules produce instances.
  EXPECT_GE(total_instances, 8000);

  for (auto freq :
       {Frequency::kDaily, Frequency::kWeekly, Frequency::kMonthly, Frequency::kYearly}) {
    EXPECT_GE(coverage.by_freq[freq], 150) << static_cast<int>(freq);
  }
  EXPECT_GE(coverage.interval, 300);
  EXPECT_GE(coverage.wkst, 200);
  EXPECT_GE(coverage.ordinal, 100);
  EXPECT_GE(coverage.plain_day, 300);
  EXPECT_GE(coverage.month_day, 100);
  EXPECT_GE(coverage.negative_month_day, 30);
  EXPECT_GE(coverage.month, 200);
  EXPECT_GE(coverage.set_pos, 100);
  EXPECT_GE(coverage.count, 400);
  EXPECT_GE(coverage.until, 300);
  EXPECT_GE(coverage.all_day, 50);
  EXPECT_GE(coverage.dst_zone, 300);
}

}  // namespace
}  // namespace agendasync
