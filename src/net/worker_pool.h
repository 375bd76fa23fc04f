#pragma once
/// A few threads running posted jobs in order of posting: completion callbacks and bearer
/// token fetches, which must never run on (and so never block) the event loop.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace agendasync::net {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  /// Runs every job already posted, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void post(std::function<void()> job);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace agendasync::net
