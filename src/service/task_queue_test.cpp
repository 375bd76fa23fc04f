// The shared task threads: tasks run in due order, a stop drops what has not started, and a
// lane stops alone (waiting for its running task, not for itself) while the others run on.
#include "service/task_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

namespace agendasync::service {
namespace {

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

std::size_t thread_count() {
  std::size_t threads = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ++threads;
  return threads;
}

TEST(TaskQueue, StartsItsThreadsWithTheFirstTask) {
  const std::size_t before = thread_count();
  auto queue = std::make_shared<TaskQueue>(3);
  auto lane = queue->lane();
  EXPECT_EQ(thread_count(), before) << "a queue nothing was posted to holds no thread";
  std::atomic<bool> ran{false};
  lane->post([&] { ran = true; });
  for (int i = 0; i < 200 && !ran; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(ran);
  EXPECT_EQ(thread_count(), before + 3);
  lane->stop();
  queue->stop();
  EXPECT_EQ(thread_count(), before);
}

}  // namespace
}  // namespace agendasync::service
