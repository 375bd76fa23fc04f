#include "exsim/graph/graph_limits.h"

#include <algorithm>

#include <fmt/format.h>

namespace exsim {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// How long a relaxed deadline still waits: a hung test endpoint must not hang exsim forever.
constexpr std::chrono::seconds kRelaxedValidation{120};
constexpr std::chrono::seconds kRelaxedNotification{60};

/// Drops the requests that left the sliding window.
void expire(std::deque<Clock::time_point>& log, Clock::time_point now, Clock::duration window) {
  while (!log.empty() && log.front() <= now - window) log.pop_front();
}

}  // namespace

json GraphLimits::to_json() const {
  return {{"subscription_rate",
           {{"enforced", subscription_rate},
            {"writes_per_app", writes_per_app},
            {"writes_per_tenant", writes_per_tenant},
            {"requests_per_app", requests_per_app},
            {"requests_per_tenant", requests_per_tenant},
            {"window_seconds", rate_window.count()}}},
          {"mailbox_subscription_cap",
           {{"enforced", mailbox_subscription_cap},
            {"subscriptions_per_mailbox", subscriptions_per_mailbox}}},
          {"validation_deadline",
           {{"enforced", validation_deadline}, {"timeout_ms", validation_timeout.count()}}},
          {"notification_deadline",
           {{"enforced", notification_deadline},
            {"timeout_ms", notification_timeout.count()},
            {"slow_ms", notification_slow.count()},
            {"slow_sample", slow_sample},
            {"slow_throttle_share", slow_throttle_share},
            {"slow_drop_share", slow_drop_share},
            {"slow_flush_seconds", slow_flush.count()},
            {"throttle_delay_seconds", throttle_delay.count()},
            {"retry_delay_seconds", retry_delay.count()},
            {"retry_for_seconds", retry_for.count()}}},
          {"client_state_length",
           {{"enforced", client_state_length}, {"max_characters", client_state_max}}},
          {"mailbox_request_rate",
           {{"enforced", mailbox_request_rate},
            {"requests_per_mailbox", requests_per_mailbox},
            {"window_seconds", mailbox_request_window.count()}}},
          {"upload_volume",
           {{"enforced", upload_volume},
            {"bytes_per_mailbox", upload_bytes_per_mailbox},
            {"window_seconds", upload_window.count()}}},
          {"notification_batch_max", notification_batch_max}};
}

std::vector<std::string> graph_relax_switches() {
  return {kRelaxSubscriptionRate,     kRelaxMailboxSubscriptionCap, kRelaxValidationDeadline,
          kRelaxNotificationDeadline, kRelaxClientStateLength,      kRelaxMailboxRequestRate,
          kRelaxUploadVolume};
}

bool relax_graph_limit(GraphLimits& limits, const std::string& name) {
  if (name == kRelaxSubscriptionRate) {
    limits.subscription_rate = false;
  } else if (name == kRelaxMailboxSubscriptionCap) {
    limits.mailbox_subscription_cap = false;
  } else if (name == kRelaxValidationDeadline) {
    limits.validation_deadline = false;
    limits.validation_timeout = kRelaxedValidation;
  } else if (name == kRelaxNotificationDeadline) {
    limits.notification_deadline = false;
    limits.notification_timeout = kRelaxedNotification;
    limits.notification_slow = kRelaxedNotification;
  } else if (name == kRelaxClientStateLength) {
    limits.client_state_length = false;
  } else if (name == kRelaxMailboxRequestRate) {
    limits.mailbox_request_rate = false;
  } else if (name == kRelaxUploadVolume) {
    limits.upload_volume = false;
  } else {
    return false;
  }
  return true;
}

std::optional<std::string> read_graph_limits(const json& graph, GraphLimits& limits) {
  if (graph.contains("limits")) {
    const json& l = graph["limits"];
    limits.writes_per_app = l.value("writes_per_app", limits.writes_per_app);
    limits.writes_per_tenant = l.value("writes_per_tenant", limits.writes_per_tenant);
    limits.requests_per_app = l.value("requests_per_app", limits.requests_per_app);
    limits.requests_per_tenant = l.value("requests_per_tenant", limits.requests_per_tenant);
    limits.rate_window =
        std::chrono::seconds(l.value("rate_window_seconds", limits.rate_window.count()));
    limits.subscriptions_per_mailbox =
        l.value("subscriptions_per_mailbox", limits.subscriptions_per_mailbox);
    limits.validation_timeout = std::chrono::milliseconds(
        l.value("validation_timeout_ms", limits.validation_timeout.count()));
    limits.notification_timeout = std::chrono::milliseconds(
        l.value("notification_timeout_ms", limits.notification_timeout.count()));
    limits.notification_slow = std::chrono::milliseconds(
        l.value("notification_slow_ms", limits.notification_slow.count()));
    limits.slow_sample = l.value("slow_sample", limits.slow_sample);
    limits.slow_flush =
        std::chrono::seconds(l.value("slow_flush_seconds", limits.slow_flush.count()));
    limits.throttle_delay =
        std::chrono::seconds(l.value("throttle_delay_seconds", limits.throttle_delay.count()));
    limits.retry_delay =
        std::chrono::seconds(l.value("retry_delay_seconds", limits.retry_delay.count()));
    limits.retry_for = std::chrono::seconds(l.value("retry_for_seconds", limits.retry_for.count()));
    limits.requests_per_mailbox = l.value("requests_per_mailbox", limits.requests_per_mailbox);
    limits.mailbox_request_window = std::chrono::seconds(
        l.value("mailbox_request_window_seconds", limits.mailbox_request_window.count()));
    limits.upload_bytes_per_mailbox =
        l.value("upload_bytes_per_mailbox", limits.upload_bytes_per_mailbox);
    limits.upload_window =
        std::chrono::seconds(l.value("upload_window_seconds", limits.upload_window.count()));
    limits.notification_batch_max =
        std::max<std::size_t>(1, l.value("notification_batch_max", limits.notification_batch_max));
  }
  for (const auto& name : graph.value("relax", std::vector<std::string>{})) {
    if (!relax_graph_limit(limits, name)) {
      return fmt::format("graph.relax: unknown switch '{}' (known: {})", name,
                         fmt::join(graph_relax_switches(), ", "));
    }
  }
  return std::nullopt;
}

std::optional<SubscriptionRateLimiter::Refusal> SubscriptionRateLimiter::admit(
    const std::string& tenant, const std::string& app, bool write) {
  if (!limits_.subscription_rate) return std::nullopt;
  struct Bucket {
    std::string key;
    int limit;
    std::string text;
  };
  const auto window = limits_.rate_window;
  std::vector<Bucket> buckets = {{"a|" + app + "|" + tenant, limits_.requests_per_app,
                                  fmt::format("{} requests per app per tenant per {} s",
                                              limits_.requests_per_app, window.count())},
                                 {"a|" + tenant, limits_.requests_per_tenant,
                                  fmt::format("{} requests per tenant per {} s",
                                              limits_.requests_per_tenant, window.count())}};
  if (write) {
    buckets.push_back({"w|" + app + "|" + tenant, limits_.writes_per_app,
                       fmt::format("{} POST, PUT, PATCH, DELETE per app per tenant per {} s",
                                   limits_.writes_per_app, window.count())});
    buckets.push_back({"w|" + tenant, limits_.writes_per_tenant,
                       fmt::format("{} POST, PUT, PATCH, DELETE per tenant per {} s",
                                   limits_.writes_per_tenant, window.count())});
  }
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  for (const Bucket& bucket : buckets) {
    Log& log = logs_[bucket.key];
    expire(log, now, window);
    if (static_cast<int>(log.size()) < bucket.limit) continue;
    // Full: allowed again once the oldest request of the window leaves it (whole seconds,
    // rounded up, as Retry-After is written).
    const auto wait = log[log.size() - static_cast<std::size_t>(bucket.limit)] + window - now;
    ++refused_;
    return Refusal{std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(wait)),
                   bucket.text};
  }
  for (const Bucket& bucket : buckets) logs_[bucket.key].push_back(now);
  return std::nullopt;
}

std::size_t SubscriptionRateLimiter::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace exsim
