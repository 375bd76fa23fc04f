#pragma once
/// Idle curl easy handles of one client, for blocking sends run on the caller's thread. A
/// handle keeps what curl_easy_perform builds around it (its private multi handle with its
/// wake-up socket pair), so reusing one saves those allocations and system calls per request.
/// Connections are not kept here: they live in the client's share (shared_cache.h).
#include <curl/curl.h>

#include <cstddef>
#include <mutex>
#include <vector>

namespace agendasync::net {

class EasyPool {
 public:
  explicit EasyPool(std::size_t max_idle) : max_idle_(max_idle) {}
  ~EasyPool();
  EasyPool(const EasyPool&) = delete;
  EasyPool& operator=(const EasyPool&) = delete;

  /// An idle handle (to be curl_easy_reset by its user), or nullptr when none is idle.
  CURL* take();
  /// Keeps `easy` for a later take(), or frees it when max_idle handles are already idle.
  void give_back(CURL* easy);
  /// Frees every idle handle (before the share they are attached to is cleaned up).
  void clear();

 private:
  const std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<CURL*> idle_;
};

}  // namespace agendasync::net
