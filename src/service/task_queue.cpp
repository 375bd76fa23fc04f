#include "service/task_queue.h"

#include <algorithm>

namespace agendasync::service {
namespace {

/// The lane of the task this thread runs now (0: none), so a lane stopped from its own task
/// does not wait for itself.
thread_local std::uint64_t current_lane = 0;

}  // namespace

TaskQueue::TaskQueue(std::size_t threads) : thread_count_(std::max<std::size_t>(1, threads)) {}

TaskQueue::~TaskQueue() { stop(); }

void TaskQueue::post(std::function<void()> task, std::chrono::milliseconds delay) {
  post_on(0, std::move(task), delay);
}

std::shared_ptr<TaskQueue::Lane> TaskQueue::lane() {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_lane_++;
  }
  return std::make_shared<Lane>(shared_from_this(), id);
}

void TaskQueue::post_on(std::uint64_t lane, std::function<void()> task,
                        std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || (lane != 0 && stopped_lanes_.contains(lane))) return;
    due_.emplace(Clock::now() + delay, Entry{lane, std::move(task)});
    // Started with the first task: a node whose organisations never use these threads (no
    // Graph organisation, say) does not hold them.
    if (threads_.empty()) {
      for (std::size_t i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { run(); });
    }
  }
  changed_.notify_one();
}

void TaskQueue::stop_lane(std::uint64_t lane) {
  std::vector<std::function<void()>> dropped;  // destroyed outside the lock
  std::unique_lock lock(mutex_);
  stopped_lanes_.insert(lane);
  for (auto it = due_.begin(); it != due_.end();) {
    if (it->second.lane == lane) {
      dropped.push_back(std::move(it->second.task));
      it = due_.erase(it);
    } else {
      ++it;
    }
  }
  const std::size_t own = current_lane == lane ? 1 : 0;
  finished_.wait(lock, [&] {
    auto found = running_.find(lane);
    return found == running_.end() || found->second <= own;
  });
  lock.unlock();
  dropped.clear();
}

void TaskQueue::forget_lane(std::uint64_t lane) {
  std::lock_guard lock(mutex_);
  stopped_lanes_.erase(lane);
}

void TaskQueue::stop() {
  std::multimap<Clock::time_point, Entry> dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    dropped.swap(due_);
  }
  changed_.notify_all();
  dropped.clear();
  std::vector<std::thread> joining;
  {
    std::lock_guard lock(mutex_);
    joining.swap(threads_);
  }
  for (auto& thread : joining) {
    if (thread.joinable()) thread.join();
  }
}

void TaskQueue::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (due_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const auto next = due_.begin()->first;
    if (Clock::now() < next) {
      changed_.wait_until(lock, next);
      continue;
    }
    Entry entry = std::move(due_.begin()->second);
    due_.erase(due_.begin());
    ++running_[entry.lane];
    lock.unlock();
    current_lane = entry.lane;
    entry.task();
    // Let go of what the task captured before taking the lock again.
    entry.task = nullptr;
    current_lane = 0;
    lock.lock();
    if (--running_[entry.lane] == 0) running_.erase(entry.lane);
    finished_.notify_all();
  }
}

}  // namespace agendasync::service
