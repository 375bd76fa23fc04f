#include "net/request_rate.h"

#include <algorithm>

namespace agendasync::net {
namespace {

using std::chrono::milliseconds;

/// Buckets per period; the window holds at most this many (+1) per key.
constexpr int kBucketsPerPeriod = 60;
constexpr milliseconds kNarrowestBucket{100};
/// Spends between sweeps of idle keys.
constexpr std::uint64_t kSweepEvery = 4096;

}  // namespace

milliseconds RateWindows::bucket_width(RequestRate rate) {
  return std::max(kNarrowestBucket, rate.per / kBucketsPerPeriod);
}

void RateWindows::expire(Window& window, RequestRate rate, Clock::time_point now) {
  const milliseconds width = bucket_width(rate);
  // A bucket's entries are at most `width` younger than its start: it leaves once even its
  // youngest possible entry is a whole period old.
  while (!window.buckets.empty() && window.buckets.front().start + width + rate.per <= now) {
    window.total -= window.buckets.front().count;
    window.buckets.pop_front();
  }
}

std::optional<milliseconds> RateWindows::wait_for(const std::string& key, RequestRate rate,
                                                  int cost, Clock::time_point now) {
  if (!rate.limited() || cost <= 0) return milliseconds(0);
  if (cost > rate.requests) return std::nullopt;
  auto found = windows_.find(key);
  if (found == windows_.end()) return milliseconds(0);
  Window& window = found->second;
  expire(window, rate, now);
  const int excess = window.total + cost - rate.requests;
  if (excess <= 0) return milliseconds(0);
  // Wait until the oldest buckets holding `excess` requests have left the window.
  const milliseconds width = bucket_width(rate);
  int freed = 0;
  for (const Bucket& bucket : window.buckets) {
    freed += bucket.count;
    if (freed >= excess) {
      const auto leaves = bucket.start + width + rate.per;
      return std::max(milliseconds(1), std::chrono::ceil<milliseconds>(leaves - now));
    }
  }
  return rate.per + width;  // unreachable while total counts the buckets; stays safe
}

void RateWindows::spend(const std::string& key, RequestRate rate, int cost, Clock::time_point now) {
  if (!rate.limited() || cost <= 0) return;
  longest_ = std::max(longest_, rate.per + bucket_width(rate));
  Window& window = windows_[key];
  expire(window, rate, now);
  if (window.buckets.empty() || window.buckets.back().start + bucket_width(rate) <= now) {
    window.buckets.push_back(Bucket{now, 0});
  }
  window.buckets.back().count += cost;
  window.total += cost;
  if (++spends_since_sweep_ >= kSweepEvery) sweep(now);
}

void RateWindows::sweep(Clock::time_point now) {
  spends_since_sweep_ = 0;
  std::erase_if(windows_, [&](const auto& entry) {
    const auto& buckets = entry.second.buckets;
    return buckets.empty() || buckets.back().start + longest_ <= now;
  });
}

}  // namespace agendasync::net
