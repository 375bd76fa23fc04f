#pragma once
/// Paces the daemon's writes to Microsoft Graph's subscription service (create, renew and
/// delete a subscription) under its limit of 1,000 POST/PUT/PATCH/DELETE per app per tenant in
/// 20 s (https://learn.microsoft.com/graph/throttling-limits#subscription-service-limits):
/// at most `per_window` writes start in any `window` (a sliding window, so a burst can never
/// go over), and a 429's Retry-After holds every writer until it has passed, since the limit
/// is the app's, not one mailbox's. Thread-safe.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

namespace agendasync::service {

class GraphWritePacer {
 public:
  using Clock = std::chrono::steady_clock;

  /// `per_window` writes per `window` (0 = no pacing).
  GraphWritePacer(std::size_t per_window, Clock::duration window)
      : per_window_(per_window), window_(window) {}

  /// Waits until a write may start and counts it. False when `stop` was requested first.
  bool acquire(std::stop_token stop);
  /// The same, giving up (false) at `deadline`.
  bool acquire_until(Clock::time_point deadline);
  /// Waits until a write may start under both `a` and `b` (two different pacers: an app's and
  /// its tenant's) and counts it in both at the same moment; false when `stop` was requested
  /// or the moment would be after `deadline`.
  static bool acquire_both(GraphWritePacer& a, GraphWritePacer& b, std::stop_token stop,
                           Clock::time_point deadline = Clock::time_point::max());
  /// Without waiting: when a write may start now under `a` and `b` (null: `a` alone), counts it
  /// in both and returns nullopt; otherwise counts nothing and returns when to ask again. For
  /// keepers on shared threads, which must not block one waiting for its turn.
  static std::optional<Clock::time_point> try_acquire(GraphWritePacer& a, GraphWritePacer* b);
  /// Graph answered 429: no write starts before `retry_after` from now. Returns true when this
  /// moved the hold later (the caller logs the pause once, not once per waiting write).
  bool hold(Clock::duration retry_after);
  /// When writes may start again after a 429 (a past time when none holds).
  Clock::time_point held_until() const;
  /// Writes started in the last window.
  std::size_t in_window() const;

 private:
  /// When the next write may start, given the state now; `now` or earlier when it may at once.
  Clock::time_point next_start(Clock::time_point now);

  const std::size_t per_window_;
  const Clock::duration window_;
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  std::deque<Clock::time_point> started_;  // within the last window, oldest first
  Clock::time_point held_until_{};
};

/// The pacer every keeper of this process shares for `key` (one app of a tenant, or a whole
/// tenant): Graph counts its limits per app per tenant and per tenant, not per organisation
/// of ours, so organisations that share an app registration or a tenant share the budget.
/// The first caller's `per_window` and `window` make it; it lives while a keeper holds it.
std::shared_ptr<GraphWritePacer> shared_write_pacer(const std::string& key, std::size_t per_window,
                                                    GraphWritePacer::Clock::duration window);

}  // namespace agendasync::service
