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

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "calendar_text.h"
#include "core/expand.h"
#include "core/time_zone.h"
#include "rule_generator.h"

namespace agendasync {
namespace {

using namespace std::chrono;
using model_test::GeneratedCase;
using model_test::RuleGenerator;

constexpr int kRules = 1000;
constexpr std::uint32_t kSeed = 20241125;

/// What the generated rules exercise; asserted so the generator cannot quietly narrow.
struct Coverage {
  std::map<Frequency, int> by_freq;
  int interval = 0, wkst = 0, ordinal = 0, plain_day = 0, month_day = 0, negative_month_day = 0,
      month = 0, set_pos = 0, count = 0, until = 0, all_day = 0, dst_zone = 0;
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
  const auto dir = std::filesystem::path(testing::TempDir()) /
                   ("agendasync_dateutil_" + std::to_string(::getpid()));
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
  std::filesystem::remove_all(dir);
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
