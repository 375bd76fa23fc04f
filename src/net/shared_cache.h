#pragma once
/// The client's curl share: DNS cache, TLS sessions and the connection cache, used by the
/// event loop's multi handle and by blocking sends on callers' threads at once, so a
/// kept-alive connection opened by one is reused by the other. libcurl locks each kind of
/// shared data through the callbacks installed here (one mutex per kind).
#include <curl/curl.h>

#include <array>
#include <mutex>

namespace agendasync::net {

class SharedCache {
 public:
  /// Throws std::runtime_error when libcurl cannot make the share (out of memory) or lacks
  /// connection sharing (libcurl before 7.57).
  SharedCache();
  ~SharedCache();
  SharedCache(const SharedCache&) = delete;
  SharedCache& operator=(const SharedCache&) = delete;

  CURLSH* get() const { return share_; }

 private:
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self);
  static void unlock(CURL*, curl_lock_data data, void* self);

  CURLSH* share_ = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> mutexes_;
};

}  // namespace agendasync::net
