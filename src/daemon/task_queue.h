#pragma once
/// A fixed set of threads running posted tasks, some after a delay: the watchers' control
/// work (subscribing, reading stream news, reconnecting) for any number of groups on a
/// bounded number of threads. Streams themselves live on the HTTP client's event loop.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace agendasync::daemon {

class TaskQueue {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TaskQueue(std::size_t threads);
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  /// Runs `task` on one of the threads as soon as one is free (after `delay`). Tasks posted
  /// after stop() are dropped.
  void post(std::function<void()> task, std::chrono::milliseconds delay = {});
  /// Drops the tasks not started yet, waits for the running ones and joins. Idempotent.
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<Clock::time_point, std::function<void()>> due_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace agendasync::daemon
