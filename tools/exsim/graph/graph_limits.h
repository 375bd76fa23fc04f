#pragma once
/// The limits Microsoft Graph puts on change-notification subscriptions, which exsim enforces
/// by default, and the named switches that relax one each for a test that needs it:
/// - subscription service request rates (writes and any request, per app per tenant and per
///   tenant, in a sliding 20 s window; 429 TooManyRequests with Retry-After):
///   https://learn.microsoft.com/graph/throttling-limits#subscription-service-limits
/// - at most 1,000 active subscriptions per mailbox for all applications:
///   https://learn.microsoft.com/graph/outlook-change-notifications-overview
/// - clientState at most 128 characters:
///   https://learn.microsoft.com/graph/api/resources/subscription
/// - Outlook's 10,000 requests per 10 minutes and 150 MB of uploads per 5 minutes per app ID
///   and mailbox (graph_mailbox_rate.h):
///   https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits
/// - the validation request answered within 10 s, notifications answered 2xx within 3 s
///   (slow above 2,900 ms, failed deliveries retried for up to 4 hours, slow endpoints
///   throttled and dropped):
///   https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace exsim {

/// Names of the switches (config "graph": {"relax": [...]}, flag --graph-relax).
inline constexpr const char* kRelaxSubscriptionRate = "subscription-rate";
inline constexpr const char* kRelaxMailboxSubscriptionCap = "mailbox-subscription-cap";
inline constexpr const char* kRelaxValidationDeadline = "validation-deadline";
inline constexpr const char* kRelaxNotificationDeadline = "notification-deadline";
inline constexpr const char* kRelaxClientStateLength = "client-state-length";
inline constexpr const char* kRelaxMailboxRequestRate = "mailbox-request-rate";
inline constexpr const char* kRelaxUploadVolume = "upload-volume";

/// Graph's subscription limits as exsim applies them. The defaults are Microsoft's numbers;
/// the numeric fields may be lowered by tests ("graph": {"limits": {...}}) so that a limit is
/// reached quickly; the switches turn one off.
struct GraphLimits {
  // Subscription service limits (throttling-limits#subscription-service-limits).
  int writes_per_app = 1000;     ///< POST, PUT, PATCH, DELETE per app per tenant per window
  int writes_per_tenant = 2000;  ///< the same for all apps of a tenant
  int requests_per_app = 5000;   ///< any request on /subscriptions per app per tenant
  int requests_per_tenant = 10000;
  std::chrono::seconds rate_window{20};
  bool subscription_rate = true;  ///< off: switch "subscription-rate"

  // outlook-change-notifications-overview: per mailbox, all applications together.
  std::size_t subscriptions_per_mailbox = 1000;
  bool mailbox_subscription_cap = true;  ///< off: switch "mailbox-subscription-cap"

  // change-notifications-delivery-webhooks.
  std::chrono::milliseconds validation_timeout{10'000};
  bool validation_deadline = true;  ///< off: switch "validation-deadline" (waits 120 s)
  std::chrono::milliseconds notification_timeout{3'000};  ///< "an HTTP client with a 3-second
                                                          ///< timeout"
  std::chrono::milliseconds notification_slow{2'900};     ///< "greater than 2900 ms ... slow"
  std::size_t slow_sample = 100;             ///< slow share judged after this many notifications
  double slow_throttle_share = 0.10;         ///< flagged slow: deliveries delayed
  double slow_drop_share = 0.15;             ///< notifications dropped
  std::chrono::seconds slow_flush{600};      ///< "flushed every 10 minutes"
  std::chrono::seconds throttle_delay{600};  ///< throttled endpoints: "a delay of 10 minutes"
  std::chrono::seconds retry_delay{600};     ///< failed deliveries: "retried again in 10 minutes"
  std::chrono::seconds retry_for{4 * 3600};  ///< "for up to 4 hours", then discarded
  /// off: switch "notification-deadline" (waits 60 s, never slow, never throttled).
  bool notification_deadline = true;
  // subscription resource: clientState "The maximum length is 128 characters."
  std::size_t client_state_max = 128;
  bool client_state_length = true;  ///< off: switch "client-state-length"

  // throttling-limits#outlook-service-limits: "10,000 API requests in a 10 minute period"
  // per app ID and mailbox combination.
  int requests_per_mailbox = 10000;
  std::chrono::seconds mailbox_request_window{600};
  bool mailbox_request_rate = true;  ///< off: switch "mailbox-request-rate"
  // throttling-limits#outlook-service-limits: "150 megabytes (MB) upload (PATCH, PUT, POST)
  // in a 5 minute period" per app ID and mailbox. Counted in decimal megabytes, the smaller
  // reading of "MB" (the page does not say which).
  std::size_t upload_bytes_per_mailbox = 150'000'000;
  std::chrono::seconds upload_window{300};
  bool upload_volume = true;  ///< off: switch "upload-volume"

  /// exsim's own cap on entries per POST: Microsoft documents batching ("a collection of
  /// change notifications") but no maximum.
  std::size_t notification_batch_max = 100;

  /// The effective limits and switches, for the admin endpoint and tests.
  nlohmann::json to_json() const;
};

/// Turns off the limit named `name` (a kRelax* value); false when no such switch exists.
bool relax_graph_limit(GraphLimits& limits, const std::string& name);
/// The switch names, for messages.
std::vector<std::string> graph_relax_switches();
/// Reads the config file's "graph" section ("limits" numbers and "relax" names) over `limits`.
/// Returns an error message for an unknown switch.
std::optional<std::string> read_graph_limits(const nlohmann::json& graph, GraphLimits& limits);

/// The subscription service's request rates, counted in a sliding window per app+tenant and
/// per tenant. Thread-safe.
class SubscriptionRateLimiter {
 public:
  explicit SubscriptionRateLimiter(const GraphLimits& limits) : limits_(limits) {}
  /// Counts a request of `app` in `tenant` when every limit allows it and returns nullopt;
  /// otherwise counts nothing and returns the wait until it would be allowed (Retry-After)
  /// and which limit was hit.
  struct Refusal {
    std::chrono::seconds retry_after;
    std::string limit;  ///< e.g. "1000 POST, PUT, PATCH, DELETE per app per tenant per 20 s"
  };
  std::optional<Refusal> admit(const std::string& tenant, const std::string& app, bool write);
  /// Requests refused so far.
  std::size_t refused() const;

 private:
  using Clock = std::chrono::steady_clock;
  using Log = std::deque<Clock::time_point>;
  const GraphLimits& limits_;
  mutable std::mutex mutex_;
  std::map<std::string, Log> logs_;  // by "w|app|tenant", "w|tenant", "a|app|tenant", "a|tenant"
  std::size_t refused_ = 0;
};

}  // namespace exsim
