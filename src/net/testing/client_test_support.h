#pragma once
/// Small helpers shared by the curl client tests: waiting for async completions, counting
/// concurrent requests and connections on a test server.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace agendasync::net::testing {

/// Counts down completions; wait() is bounded.
class Completions {
 public:
  explicit Completions(int expected) : left_(expected) {}
  void done() {
    std::lock_guard lock(mutex_);
    if (--left_ == 0) all_done_.notify_all();
  }
  bool wait(std::chrono::milliseconds limit = std::chrono::milliseconds(60'000)) {
    std::unique_lock lock(mutex_);
    return all_done_.wait_for(lock, limit, [this] { return left_ <= 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_done_;
  int left_;
};

/// Tracks requests in flight on a server and the highest number seen at once.
class InFlight {
 public:
  void enter() {
    const int now = ++current_;
    int seen = peak_.load();
    while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
    }
  }
  void leave() { --current_; }
  /// Waits (bounded) until `target` requests are in flight together, so a test can see a cap
  /// reached without depending on how fast a loaded machine starts them.
  void hold_until(int target, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (current_.load() < target && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  int peak() const { return peak_.load(); }
  void reset_peak() { peak_ = current_.load(); }

 private:
  std::atomic<int> current_{0};
  std::atomic<int> peak_{0};
};

/// The distinct client connections (address:port) a server saw.
class Connections {
 public:
  void saw(const std::string& address, int port) {
    std::lock_guard lock(mutex_);
    seen_.emplace(address, port);
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return seen_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::pair<std::string, int>> seen_;
};

}  // namespace agendasync::net::testing
