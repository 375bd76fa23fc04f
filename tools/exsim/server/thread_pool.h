#pragma once
/// The HTTP server's worker pool. cpp-httplib runs each connection on one worker for as long as
/// the client keeps it open, so a GetStreamingEvents stream (up to 30 minutes) or an idle
/// keep-alive connection holds a worker. A fixed pool would let a few hundred streams starve
/// every other request; this one starts with `initial` workers and adds one whenever a
/// connection arrives while all are busy, up to `max`.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace exsim {

class ElasticThreadPool final : public httplib::TaskQueue {
 public:
  ElasticThreadPool(size_t initial, size_t max);
  ~ElasticThreadPool() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;
  /// Workers started so far (they are kept until shutdown).
  size_t size() const;

 private:
  void spawn();  // caller holds mutex_
  void work();

  size_t max_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool shutdown_ = false;
};

}  // namespace exsim
