#include "exsim/server/thread_pool.h"

#include <algorithm>

namespace exsim {

ElasticThreadPool::ElasticThreadPool(size_t initial, size_t max) : max_(std::max<size_t>(1, max)) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < std::min(std::max<size_t>(1, initial), max_); ++i) spawn();
}

ElasticThreadPool::~ElasticThreadPool() { shutdown(); }

void ElasticThreadPool::spawn() {
  threads_.emplace_back([this] { work(); });
}

void ElasticThreadPool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(fn));
    // Every worker busy (the queued jobs outnumber the idle ones): add one, so that no
    // connection waits behind long-held streams.
    if (jobs_.size() > idle_ && threads_.size() < max_) spawn();
  }
  wake_.notify_one();
}

void ElasticThreadPool::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (shutdown_ && threads_.empty()) return;
    shutdown_ = true;
  }
  wake_.notify_all();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

size_t ElasticThreadPool::size() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void ElasticThreadPool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      ++idle_;
      wake_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
      --idle_;
      // Like httplib's own pool: finish the queued connections, then stop.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace exsim
