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

TEST(HostSlotsTest, AKeyMetForTheFirstTimeTakesTheCapItAsksFor) {
  HostSlots slots(20);
  const std::string key = budget_slot_key("graph|app:a|mailbox:m");
  for (std::uint64_t id = 1; id <= 4; ++id) EXPECT_TRUE(slots.acquire(key, id, 4));
  EXPECT_FALSE(slots.acquire(key, 5, 4));
  EXPECT_FALSE(slots.acquire(key, 6, 8)) << "a later request does not change the cap";
  EXPECT_EQ(slots.limit(key), 4);
  EXPECT_TRUE(slots.acquire("https://graph.microsoft.com:443", 7)) << "the host is another key";
}

TEST(HostSlotsTest, BudgetKeysNeverNameAServer) {
  EXPECT_NE(budget_slot_key("https://host:443"), "https://host:443");
  EXPECT_TRUE(budget_slot_key("x").starts_with("budget:"));
}

TEST(HostSlotsTest, IdleKeysAreForgottenUnlessTheirCapWasChanged) {
  // One key per mailbox: a node with 100,000 mailboxes must not keep them all.
  HostSlots slots(20);
  EXPECT_TRUE(slots.acquire("m1", 1, 1));
  EXPECT_FALSE(slots.acquire("m1", 2, 1));
  EXPECT_TRUE(slots.acquire("m2", 3, 4));
  EXPECT_EQ(slots.keys(), 2u);
  EXPECT_TRUE(slots.forget("m1", 2));
  EXPECT_EQ(slots.keys(), 2u) << "m1 still has a request in flight";
  EXPECT_EQ(slots.release("m1"), Ids{});
  EXPECT_EQ(slots.keys(), 1u) << "m1 idle at its first cap: forgotten";
  slots.set_limit("m2", 2);  // lowered at run time (ErrorExceededConnectionCount)
  EXPECT_EQ(slots.release("m2"), Ids{});
  EXPECT_EQ(slots.keys(), 1u) << "a changed cap is kept while idle";
  EXPECT_EQ(slots.limit("m2"), 2);
}

}  // namespace
}  // namespace agendasync::net
