#pragma once
/// When the transport sends a request again, and how long it waits first: pure decisions,
/// so the policy is tested without sockets.
#include <chrono>
#include <cstdint>
#include <optional>

namespace agendasync::net {

struct RetryPolicy {
  int max_attempts = 4;  ///< absolute bound on attempts, whatever the server says
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{30'000};
};

/// What one attempt ended with, as far as the retry decision cares.
struct AttemptOutcome {
  bool transport_error = false;      ///< no complete HTTP response
  bool transport_retryable = false;  ///< connect/reset/timeout/truncated, not TLS or config
  long status = 0;                   ///< HTTP status when there was a response
  bool response_retryable = true;    ///< the request's own verdict on a 5xx (retry_response)
  std::optional<std::chrono::milliseconds> retry_after;  ///< Retry-After of a 429/503
};

struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds wait{0};
};

/// The exponential backoff cap before attempt `attempts_done + 1`: base * 2^(attempts_done-1),
/// at most backoff_max. Full jitter draws the real wait uniformly from [0, cap].
std::chrono::milliseconds backoff_cap(const RetryPolicy& policy, int attempts_done);

/// Full jitter: `random` is a uniformly distributed 64-bit number.
std::chrono::milliseconds backoff_with_full_jitter(const RetryPolicy& policy, int attempts_done,
                                                   std::uint64_t random);

/// Retry transport hiccups and 5xx (not other 4xx; 429 counts as a throttle, not a client
/// error), only when the request allows it and attempts remain. A Retry-After on 429/503 is
/// the wait; one longer than backoff_max is not waited out here but handed to the caller,
/// who can reschedule the work instead of holding a request open for minutes.
RetryDecision decide_retry(const RetryPolicy& policy, int attempts_done, bool retry_allowed,
                           const AttemptOutcome& outcome, std::uint64_t random);

}  // namespace agendasync::net
