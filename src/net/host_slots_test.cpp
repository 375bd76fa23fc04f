#include "net/host_slots.h"

#include <gtest/gtest.h>

namespace agendasync::net {
namespace {

using Ids = std::vector<std::uint64_t>;

TEST(HostSlotsTest, AdmitsUpToTheCapAndQueuesTheRestInOrder) {
  HostSlots slots(2);
  EXPECT_TRUE(slots.acquire("a", 1));
  EXPECT_TRUE(slots.acquire("a", 2));
  EXPECT_FALSE(slots.acquire("a", 3));
  EXPECT_FALSE(slots.acquire("a", 4));
  EXPECT_EQ(slots.in_flight("a"), 2);
  EXPECT_EQ(slots.queued("a"), 2u);
  EXPECT_EQ(slots.release("a"), Ids{3});
  EXPECT_EQ(slots.release("a"), Ids{4});
  EXPECT_EQ(slots.release("a"), Ids{});
  EXPECT_EQ(slots.in_flight("a"), 1);
}

TEST(HostSlotsTest, ServersHaveIndependentCaps) {
  HostSlots slots(1);
  EXPECT_TRUE(slots.acquire("a", 1));
  EXPECT_TRUE(slots.acquire("b", 2));
  EXPECT_FALSE(slots.acquire("a", 3));
}

TEST(HostSlotsTest, LoweringTheCapLetsRunningRequestsFinishAndHoldsNewOnes) {
  HostSlots slots(4);
  for (std::uint64_t id = 1; id <= 4; ++id) EXPECT_TRUE(slots.acquire("a", id));
  EXPECT_EQ(slots.set_limit("a", 2), Ids{});
  EXPECT_FALSE(slots.acquire("a", 5));
  EXPECT_EQ(slots.release("a"), Ids{});  // 3 in flight, cap 2
  EXPECT_EQ(slots.release("a"), Ids{});  // 2 in flight
  EXPECT_EQ(slots.release("a"), Ids{5});
  EXPECT_EQ(slots.in_flight("a"), 2);
}

TEST(HostSlotsTest, RaisingTheCapAdmitsWaitingRequests) {
  HostSlots slots(1);
  EXPECT_TRUE(slots.acquire("a", 1));
  EXPECT_FALSE(slots.acquire("a", 2));
  EXPECT_FALSE(slots.acquire("a", 3));
  EXPECT_EQ(slots.set_limit("a", 3), (Ids{2, 3}));
  EXPECT_EQ(slots.limit("a"), 3);
}

TEST(HostSlotsTest, ACapBelowOneCountsAsOne) {
  HostSlots slots(0);
  EXPECT_EQ(slots.limit("a"), 1);
  slots.set_limit("a", -5);
  EXPECT_EQ(slots.limit("a"), 1);
  EXPECT_TRUE(slots.acquire("a", 1));
  EXPECT_FALSE(slots.acquire("a", 2));
}

TEST(HostSlotsTest, ForgetDropsAQueuedRequest) {
  HostSlots slots(1);
  EXPECT_TRUE(slots.acquire("a", 1));
  EXPECT_FALSE(slots.acquire("a", 2));
  EXPECT_TRUE(slots.forget("a", 2));
  EXPECT_FALSE(slots.forget("a", 2));
  EXPECT_EQ(slots.release("a"), Ids{});
}

}  // namespace
}  // namespace agendasync::net
