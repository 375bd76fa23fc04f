#include "net/worker_pool.h"

#include <exception>

#include <spdlog/spdlog.h>

namespace agendasync::net {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void WorkerPool::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void WorkerPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      // Drain before stopping: every posted callback runs, so no caller waits forever.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // A throwing callback must not take the pool (and every later completion) down.
    try {
      job();
    } catch (const std::exception& e) {
      spdlog::error("net: a completion callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("net: a completion callback threw a non-exception");
    }
  }
}

}  // namespace agendasync::net
