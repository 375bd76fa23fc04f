#include "daemon/stream_groups.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/task_queue.h"

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

TEST(TaskQueue, RunsTasksInDueOrderAndDropsWhatIsLeftAtStop) {
  std::mutex mutex;
  std::vector<int> ran;
  TaskQueue queue(2);
  queue.post(
      [&] {
        std::lock_guard lock(mutex);
        ran.push_back(2);
      },
      std::chrono::milliseconds(100));
  queue.post([&] {
    std::lock_guard lock(mutex);
    ran.push_back(1);
  });
  queue.post(
      [&] {
        std::lock_guard lock(mutex);
        ran.push_back(3);
      },
      std::chrono::hours(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  queue.stop();
  std::lock_guard lock(mutex);
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(TaskQueue, ALaneStopsAloneWaitingForItsRunningTaskWhileOtherLanesRunOn) {
  auto queue = std::make_shared<TaskQueue>(2);
  auto first = queue->lane();
  auto second = queue->lane();
  std::atomic<bool> release{false}, started{false}, finished{false};
  std::atomic<int> second_ran{0}, dropped_ran{0};
  first->post([&] {
    started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    finished = true;
  });
  first->post([&] { ++dropped_ran; }, std::chrono::hours(1));
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  std::thread stopping([&] { first->stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(finished) << "stop() returned before the lane's running task ended";
  second->post([&] { ++second_ran; });
  for (int i = 0; i < 100 && second_ran == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(second_ran, 1) << "another lane waits for a stopping one";
  release = true;
  stopping.join();
  EXPECT_TRUE(finished);

  first->post([&] { ++dropped_ran; });  // after stop: dropped
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(dropped_ran, 0);
  // A lane may be stopped from one of its own tasks without waiting for itself.
  std::atomic<bool> self_stopped{false};
  second->post([&] {
    second->stop();
    self_stopped = true;
  });
  for (int i = 0; i < 200 && !self_stopped; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(self_stopped);
  queue->stop();
}

}  // namespace
}  // namespace agendasync::daemon
