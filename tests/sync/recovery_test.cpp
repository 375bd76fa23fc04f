// Recovery of an interrupted write batch (R28) costs one lookup per side, not one per item:
// a run whose write replies were lost leaves one journal entry per item, and under a 10%
// fault rate a lookup per entry would almost never all succeed in one run (the fault soak's
// slow convergence). Looked up together, the next run resolves them in a request or two.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "harness.h"
#include "sync/test_items.h"

namespace agendasync::sync::scenario {
namespace {

using testing::appointment;
using testing::at;

constexpr int kItems = 30;

Appointment host_item(int i) {
  Appointment item = appointment(fmt::format("Item {}", i), at(1 + i % 20, 8 + i % 8));
  item.activity_type = "Appointment";
  return item;
}

/// Host items whose creates landed in Exchange while every reply was lost.
void create_with_lost_replies(Pair& pair) {
  for (int i = 0; i < kItems; ++i) pair.host->user_create(host_item(i));
  pair.remote_memory().faults().lose_write_replies = kItems;
  (void)pair.sync();
  ASSERT_EQ(pair.remote_memory().size(), static_cast<std::size_t>(kItems))
      << "the creates landed; only their replies were lost";
}

TEST(Recovery, InterruptedCreatesAreLookedUpTogetherNotOneByOne) {
  Pair pair;
  create_with_lost_replies(pair);
  pair.remote_memory().calls() = {};

  auto report = pair.sync();
  ASSERT_TRUE(report) << report.error().message;

  const auto& calls = pair.remote_memory().calls();
  EXPECT_EQ(calls.find_by_key, 0u) << "a lookup per interrupted create";
  EXPECT_EQ(calls.find_by_keys, 1u);
  EXPECT_EQ(pair.remote_memory().size(), static_cast<std::size_t>(kItems)) << "nothing twice";
  EXPECT_TRUE(sides_agree(pair));
}

TEST(Recovery, InterruptedUpdatesAreReadTogetherNotOneByOne) {
  Pair pair;
  for (int i = 0; i < kItems; ++i) pair.host->user_create(host_item(i));
  ASSERT_TRUE(pair.sync());
  for (const SideItem& item : pair.host->items()) {
    pair.host->user_edit(item.ref, [](Appointment& a) { a.location = "Room 7"; });
  }
  pair.remote_memory().faults().lose_write_replies = kItems;
  (void)pair.sync();
  pair.remote_memory().calls() = {};

  auto report = pair.sync();
  ASSERT_TRUE(report) << report.error().message;

  EXPECT_LE(pair.remote_memory().calls().fetch, 3u) << "a read per interrupted update";
  for (const SideItem& item : pair.remote->items()) EXPECT_EQ(item.item.location, "Room 7");
  EXPECT_TRUE(sides_agree(pair));
}

TEST(Recovery, AFailedLookupLosesNothingAndTheNextRunResolvesEverything) {
  Pair pair;
  create_with_lost_replies(pair);
  pair.remote_memory().faults().fail_reads = 1;
  (void)pair.sync();  // the lookup fails: the run must not create anything again
  EXPECT_EQ(pair.remote_memory().size(), static_cast<std::size_t>(kItems));

  for (int run = 0; run < 2; ++run) ASSERT_TRUE(pair.sync());
  EXPECT_EQ(pair.remote_memory().size(), static_cast<std::size_t>(kItems)) << "nothing twice";
  EXPECT_TRUE(sides_agree(pair));
}

}  // namespace
}  // namespace agendasync::sync::scenario
