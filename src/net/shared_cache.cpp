#include "net/shared_cache.h"

#include <stdexcept>

namespace agendasync::net {

SharedCache::SharedCache() {
  share_ = curl_share_init();
  if (share_ == nullptr) throw std::runtime_error("libcurl could not create a share handle");
  curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &SharedCache::lock);
  curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &SharedCache::unlock);
  curl_share_setopt(share_, CURLSHOPT_USERDATA, static_cast<void*>(this));
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  if (curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
    curl_share_cleanup(share_);
    throw std::runtime_error(
        "libcurl cannot share connections between threads; install libcurl 7.57 or later");
  }
}

SharedCache::~SharedCache() { curl_share_cleanup(share_); }

void SharedCache::lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
  static_cast<SharedCache*>(self)->mutexes_[static_cast<std::size_t>(data)].lock();
}

void SharedCache::unlock(CURL*, curl_lock_data data, void* self) {
  static_cast<SharedCache*>(self)->mutexes_[static_cast<std::size_t>(data)].unlock();
}

}  // namespace agendasync::net
