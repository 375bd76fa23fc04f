#pragma once
// What the watcher tests share (ews_watchers_test.cpp, ews_watchers_limits_test.cpp): a
// bounded wait, and the record of which users the watchers woke.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace agendasync::daemon::testing {

template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

struct Woken {
  std::mutex mutex;
  std::multiset<std::string> users;
  void add(const std::string& user) {
    std::lock_guard lock(mutex);
    users.insert(user);
  }
  std::size_t count(const std::string& user) {
    std::lock_guard lock(mutex);
    return users.count(user);
  }
  void clear() {
    std::lock_guard lock(mutex);
    users.clear();
  }
};

}  // namespace agendasync::daemon::testing
