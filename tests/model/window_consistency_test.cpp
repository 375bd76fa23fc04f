// expand() over a window must give exactly the occurrences a full walk of the series gives
// in that window. expand() skips ahead for far windows (libical's set_start, plus our own
// week handling), so this checks the skipping on the generated rules, made endless, with an
// exdate and an override added, in windows far from the start.
#include <gtest/gtest.h>

#include "core/expand.h"
#include "rule_generator.h"

namespace agendasync {
namespace {

using namespace std::chrono;

std::string describe(const std::vector<Occurrence>& occurrences) {
  std::string out;
  for (const auto& o : occurrences) {
    out += (out.empty() ? "" : ",") +
           model_test::format_floating(local_seconds(o.start.time_since_epoch()));
    if (o.overridden) out += "*";
  }
  return out;
}

TEST(WindowConsistency, FarWindowsMatchAFullWalk) {
  model_test::RuleGenerator generator(7);
  int compared_occurrences = 0;
  for (int i = 0; i < 300; ++i) {
    auto generated = generator.next();
    Appointment item = generated.item;
    item.recurrence->rule.count.reset();
    item.recurrence->rule.until.reset();
    const Instant horizon = item.start + days(6 * 366);
    auto all = expand(item, item.start, horizon, 100000);
    ASSERT_TRUE(all) << generated.rrule_floating << ": " << all.error().message;
    if (all->size() < 4) continue;
    // Delete the second occurrence, move the third far into the future.
    const Occurrence second = (*all)[1];
    const Occurrence third = (*all)[2];
    item.recurrence->exdates = {second.recurrence_id};
    OccurrenceOverride moved{};
    moved.recurrence_id = third.recurrence_id;
    moved.start = item.start + days(4 * 366);
    moved.end = moved.start + hours(1);
    item.recurrence->overrides = {moved};
    auto walked = expand(item, item.start, horizon, 100000);
    ASSERT_TRUE(walked);

    for (int years : {2, 4}) {
      const Instant from = item.start + days(years * 366) - days(20);
      const Instant to = from + days(60);
      std::vector<Occurrence> expected;
      for (const auto& o : *walked) {
        const bool inside =
            o.start == o.end ? (o.start >= from && o.start < to) : (o.start < to && o.end > from);
        if (inside) expected.push_back(o);
      }
      auto window = expand(item, from, to);
      ASSERT_TRUE(window);
      compared_occurrences += static_cast<int>(expected.size());
      EXPECT_EQ(describe(*window), describe(expected))
          << "rule " << i << ": DTSTART " << generated.dtstart_floating << " (" << item.time_zone
          << ") " << format_rrule(item.recurrence->rule) << ", window +" << years << "y";
    }
  }
  EXPECT_GE(compared_occurrences, 3000);
}

}  // namespace
}  // namespace agendasync
