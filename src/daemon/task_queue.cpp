#include "daemon/task_queue.h"

#include <algorithm>

namespace agendasync::daemon {

TaskQueue::TaskQueue(std::size_t threads) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i) {
    threads_.emplace_back([this] { run(); });
  }
}

TaskQueue::~TaskQueue() { stop(); }

void TaskQueue::post(std::function<void()> task, std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    due_.emplace(Clock::now() + delay, std::move(task));
  }
  changed_.notify_one();
}

void TaskQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    due_.clear();
  }
  changed_.notify_all();
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
    auto task = std::move(due_.begin()->second);
    due_.erase(due_.begin());
    lock.unlock();
    task();
    // Let go of what the task captured before taking the lock again.
    task = nullptr;
    lock.lock();
  }
}

}  // namespace agendasync::daemon
