#pragma once
/// Client-side pacing of a budget key's request rate (Request::budget_rate): a sliding window
/// that answers "how long must a request of this cost wait so that the key never sends more
/// than N requests in any period of length T". Graph limits an app to 10,000 requests per
/// mailbox in 10 minutes (learn.microsoft.com/graph/throttling-limits#outlook-service-limits);
/// pacing below that is cheaper than meeting 429s, whose Retry-After can reach ten minutes.
///
/// The window counts in buckets (at most ~60 per key, never narrower than 100 ms), and a
/// bucket leaves the window only when its newest possible entry is older than T: the count
/// is never below the true one, so the client errs on the side of waiting. Owned and used by
/// one thread (the client's event loop).
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace agendasync::net {

/// N requests per period (Request::budget_rate). requests <= 0 or per <= 0: no pacing.
struct RequestRate {
  int requests = 0;
  std::chrono::milliseconds per{0};
  bool limited() const { return requests > 0 && per.count() > 0; }
};

class RateWindows {
 public:
  using Clock = std::chrono::steady_clock;

  /// How long a request costing `cost` must wait before it may go on `key` at `rate`:
  /// 0 when it fits now. nullopt when it can never fit (cost above the rate's requests).
  std::optional<std::chrono::milliseconds> wait_for(const std::string& key, RequestRate rate,
                                                    int cost, Clock::time_point now);
  /// Counts `cost` requests sent on `key` at `now`.
  void spend(const std::string& key, RequestRate rate, int cost, Clock::time_point now);

  /// Keys holding counts (idle keys are forgotten: one per mailbox would grow without bound).
  std::size_t keys() const { return windows_.size(); }

 private:
  struct Bucket {
    Clock::time_point start;
    int count = 0;
  };
  struct Window {
    std::deque<Bucket> buckets;
    int total = 0;
  };
  static std::chrono::milliseconds bucket_width(RequestRate rate);
  static void expire(Window& window, RequestRate rate, Clock::time_point now);
  void sweep(Clock::time_point now);

  std::unordered_map<std::string, Window> windows_;
  /// The longest period seen, for sweeping idle keys.
  std::chrono::milliseconds longest_{0};
  std::uint64_t spends_since_sweep_ = 0;
};

}  // namespace agendasync::net
