#include "net/curl_global.h"

#include <curl/curl.h>

#include <mutex>
#include <stdexcept>

namespace agendasync::net {

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Without it nothing network-related can work: a broken invariant, not a request error.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed: libcurl cannot start");
    }
  });
}

}  // namespace agendasync::net
