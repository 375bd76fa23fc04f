#include "daemon/stream_groups.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace agendasync::daemon {
namespace {

WantedGroups mailboxes(int count, const std::string& key, int first = 0) {
  WantedGroups wanted;
  for (int i = first; i < first + count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "u%04d@example.com", i);
    wanted[name] = key;
  }
  return wanted;
}

TEST(StreamGroups, AtMostTheGroupSizePerGroupAndOneKeyPerGroup) {
  WantedGroups wanted = mailboxes(450, "ews|server-a");
  wanted.merge(mailboxes(50, "ews|server-b", 1000));
  const GroupPlacement placed = place_in_groups({}, wanted, 200);
  // ceil(450/200) + ceil(50/200) = 3 + 1
  ASSERT_EQ(placed.members.size(), 4u);
  for (const auto& [id, members] : placed.members) {
    EXPECT_LE(members.size(), 200u) << id;
    for (const auto& mailbox : members) EXPECT_EQ(wanted.at(mailbox), key_of_group(id));
  }
  EXPECT_EQ(placed.group_of.size(), 500u);
}

TEST(StreamGroups, AddingAndRemovingMailboxesLeavesTheOtherGroupsAlone) {
  WantedGroups wanted = mailboxes(400, "k");
  const GroupPlacement before = place_in_groups({}, wanted, 200);
  ASSERT_EQ(before.members.size(), 2u);
  // One mailbox of the first group leaves, two new ones arrive.
  const std::string leaving = *before.members.at("k#1").begin();
  wanted.erase(leaving);
  wanted.merge(mailboxes(2, "k", 5000));
  const GroupPlacement after = place_in_groups(before, wanted, 200);
  // Every mailbox that stayed kept its group.
  for (const auto& [mailbox, group] : before.group_of) {
    if (mailbox == leaving) continue;
    EXPECT_EQ(after.group_of.at(mailbox), group) << mailbox;
  }
  // The freed place in group 1 is taken, the second newcomer opens group 3.
  EXPECT_EQ(after.members.at("k#1").size(), 200u);
  EXPECT_EQ(after.members.at("k#2").size(), 200u);
  EXPECT_EQ(after.members.at("k#3").size(), 1u);
  EXPECT_FALSE(after.group_of.contains(leaving));
}

TEST(StreamGroups, AMailboxThatMovesServerChangesGroupAndEmptyGroupsDisappear) {
  WantedGroups wanted{{"a@x", "k1"}, {"b@x", "k1"}, {"c@x", "k2"}};
  const GroupPlacement before = place_in_groups({}, wanted, 200);
  wanted["c@x"] = "k1";  // moved to the other server's group
  const GroupPlacement after = place_in_groups(before, wanted, 200);
  EXPECT_EQ(after.group_of.at("c@x"), "k1#1");
  EXPECT_FALSE(after.members.contains("k2#1"));
}

}  // namespace
}  // namespace agendasync::daemon
