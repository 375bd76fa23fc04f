#pragma once
/// A fixed set of threads running posted tasks, some after a delay: the watchers' control
/// work (subscribing, reading stream news, reconnecting) for any number of groups, and of any
/// number of organisations, on a bounded number of threads. Streams themselves live on the
/// HTTP client's event loop. Each owner (an organisation's watchers) posts through its own
/// Lane, which it can stop alone: its pending tasks are dropped and its running ones waited
/// for, while the other lanes run on.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace agendasync::service {

class TaskQueue : public std::enable_shared_from_this<TaskQueue> {
 public:
  using Clock = std::chrono::steady_clock;
  class Lane;

  /// `threads` threads, started with the first task posted.
  explicit TaskQueue(std::size_t threads);
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  /// Runs `task` on one of the threads as soon as one is free (after `delay`). Tasks posted
  /// after stop() are dropped.
  void post(std::function<void()> task, std::chrono::milliseconds delay = {});
  /// A new lane on these threads (the queue must be owned by a shared_ptr).
  std::shared_ptr<Lane> lane();
  /// Drops the tasks not started yet, waits for the running ones and joins. Idempotent.
  void stop();
  std::size_t threads() const { return thread_count_; }

 private:
  struct Entry {
    std::uint64_t lane = 0;  ///< 0: posted on the queue itself
    std::function<void()> task;
  };
  void post_on(std::uint64_t lane, std::function<void()> task, std::chrono::milliseconds delay);
  void stop_lane(std::uint64_t lane);
  void forget_lane(std::uint64_t lane);
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::condition_variable finished_;  ///< a task ended (stop_lane waits for its lane's)
  std::multimap<Clock::time_point, Entry> due_;
  std::map<std::uint64_t, std::size_t> running_;  ///< lane -> tasks running now
  std::set<std::uint64_t> stopped_lanes_;         ///< lanes stopped and not yet destroyed
  std::uint64_t next_lane_ = 1;
  bool stopping_ = false;
  std::size_t thread_count_ = 0;
  std::vector<std::thread> threads_;
};

/// One owner's tasks on a shared TaskQueue.
class TaskQueue::Lane {
 public:
  Lane(std::shared_ptr<TaskQueue> queue, std::uint64_t id) : queue_(std::move(queue)), id_(id) {}
  ~Lane() {
    stop();
    queue_->forget_lane(id_);
  }
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  /// As TaskQueue::post; dropped once this lane stopped.
  void post(std::function<void()> task, std::chrono::milliseconds delay = {}) {
    queue_->post_on(id_, std::move(task), delay);
  }
  /// Drops this lane's tasks not started yet and waits for its running ones (not for the
  /// caller's own, when a task of this lane calls it). Idempotent.
  void stop() { queue_->stop_lane(id_); }

 private:
  std::shared_ptr<TaskQueue> queue_;
  std::uint64_t id_;
};

}  // namespace agendasync::service
