#include "net/retry_policy.h"

#include <algorithm>

namespace agendasync::net {

std::chrono::milliseconds backoff_cap(const RetryPolicy& policy, int attempts_done) {
  const long long base = std::max<long long>(policy.backoff_base.count(), 0);
  const long long limit = std::max<long long>(policy.backoff_max.count(), 0);
  // Doubling past 2^30 overflows nothing but is meaningless; the cap is reached long before.
  const int doublings = std::clamp(attempts_done - 1, 0, 30);
  const long long cap = base << doublings;
  return std::chrono::milliseconds(std::min(cap, limit));
}

std::chrono::milliseconds backoff_with_full_jitter(const RetryPolicy& policy, int attempts_done,
                                                   std::uint64_t random) {
  const auto cap = static_cast<std::uint64_t>(backoff_cap(policy, attempts_done).count());
  return std::chrono::milliseconds(static_cast<long long>(random % (cap + 1)));
}

RetryDecision decide_retry(const RetryPolicy& policy, int attempts_done, bool retry_allowed,
                           const AttemptOutcome& outcome, std::uint64_t random) {
  if (!retry_allowed || attempts_done >= policy.max_attempts) return {};
  if (outcome.transport_error) {
    if (!outcome.transport_retryable) return {};
    return {true, backoff_with_full_jitter(policy, attempts_done, random)};
  }
  const bool throttled = outcome.status == 429 || outcome.status == 503;
  const bool server_error = outcome.status >= 500 && outcome.status <= 599;
  if (!throttled && !server_error) return {};
  if (server_error && !outcome.response_retryable) return {};
  if (throttled && outcome.retry_after) {
    if (*outcome.retry_after > policy.backoff_max) return {};
    return {true, *outcome.retry_after};
  }
  return {true, backoff_with_full_jitter(policy, attempts_done, random)};
}

}  // namespace agendasync::net
