#pragma once
/// Where the libcurl client runs a blocking send() (make_curl_client in http.h runs it on
/// the caller's thread). Tests make both kinds to check that each honours every rule.
#include <cstddef>
#include <memory>

#include "net/http.h"

namespace agendasync::net {

enum class BlockingSends {
  /// curl_easy_perform on the calling thread, with the loop's slots, pacing, holds, retries
  /// and connection cache: no hand-off to the loop thread and back.
  kOnCallersThread,
  /// Handed to the event loop like send_async, the caller waiting for the answer.
  kOnTheLoop,
};

/// Limits the product keeps fixed, lowered by tests (a decompression bomb of 512 MiB would
/// take a test too long).
struct CurlClientLimits {
  std::size_t max_response_bytes = std::size_t{512} << 20;  ///< decoded; kMaxResponseBytes
};

std::unique_ptr<HttpClient> make_curl_client(ClientOptions options, BlockingSends blocking,
                                             CurlClientLimits limits = {});

}  // namespace agendasync::net
