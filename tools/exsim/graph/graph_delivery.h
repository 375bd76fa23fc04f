#pragma once
/// Delivery of change and lifecycle notifications the way Microsoft Graph publishes them over
/// webhooks (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks):
/// - notifications pending for the same URL go out together, one POST {"value": [...]}
///   ("a collection of change notifications"), at most notification_batch_max per POST;
/// - "an HTTP client with a 3-second timeout": no 2xx within it is a failed delivery, retried
///   after retry_delay ("retried again in 10 minutes") for up to retry_for ("up to 4 hours"),
///   then discarded;
/// - an answer after 2,900 ms is slow; once an endpoint has received slow_sample (100)
///   notifications, a slow share of 10% throttles it (its notifications wait throttle_delay)
///   and 15% drops them; the counts start afresh every slow_flush (10 minutes).
/// The switch "notification-deadline" turns the deadline and the slow accounting off.
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exsim/graph/graph_limits.h"

namespace exsim {

class NotificationDelivery {
 public:
  explicit NotificationDelivery(const GraphLimits& limits) : limits_(limits) {}

  /// Queues one notification (a member of value[]) for `url`. A throttled endpoint's
  /// notification waits throttle_delay; a dropping endpoint's is discarded at once.
  void queue(const std::string& url, nlohmann::json notification);
  /// POSTs every notification that is due, batched per URL; failed ones are queued again.
  /// Called by one thread (the subscriptions' delivery thread).
  void deliver_due();
  /// Counters since start (admin endpoint).
  nlohmann::json stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    std::string url;
    nlohmann::json notification;
    Clock::time_point first;  // first attempt planned (the 4-hour bound counts from here)
    Clock::time_point due;
    bool retry = false;
  };
  struct Endpoint {
    Clock::time_point window_start;
    std::size_t seen = 0;
    std::size_t slow = 0;
  };
  enum class EndpointState { kNormal, kThrottled, kDropping };
  EndpointState state_of(const std::string& url, Clock::time_point now);
  void account(const std::string& url, std::size_t notifications, bool slow, Clock::time_point now);

  const GraphLimits& limits_;
  mutable std::mutex mutex_;
  std::vector<Pending> pending_;
  std::map<std::string, Endpoint> endpoints_;
  // Counters.
  std::size_t posts_ = 0;
  std::size_t delivered_ = 0;  // notifications answered 2xx in time
  std::size_t failed_ = 0;     // notifications whose delivery attempt failed
  std::size_t retried_ = 0;    // notifications sent again after a failure
  std::size_t dropped_ = 0;    // discarded: 4 hours of failures, or a dropping endpoint
  std::size_t slow_ = 0;       // notifications answered after notification_slow
  std::size_t delayed_ = 0;    // held back throttle_delay because the endpoint was slow
  std::size_t max_batch_ = 0;
  std::chrono::milliseconds max_elapsed_{0};
};

}  // namespace exsim
