#pragma once
/// Graph change-notification subscriptions on mailbox events: POST /subscriptions with the
/// validation handshake (the notificationUrl must echo validationToken as text/plain within
/// 10 s), GET, PATCH (renew), DELETE; notifications with clientState delivered by a background
/// thread that follows the store's change log, batched per URL (graph_delivery.h); lifecycle
/// notifications (reauthorizationRequired, subscriptionRemoved) to lifecycleNotificationUrl.
/// Graph's subscription limits apply (graph_limits.h): request rates (429 with Retry-After)
/// and 1,000 subscriptions per mailbox.
/// Reference: learn.microsoft.com/graph/api/resources/subscription,
/// graph/change-notifications-delivery-webhooks, graph/throttling-limits,
/// graph/outlook-change-notifications-overview
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exsim/graph/graph_delivery.h"
#include "exsim/graph/graph_limits.h"
#include "exsim/graph/graph_request.h"
#include "exsim/store/store.h"

namespace exsim {

/// Subscriptions and their delivery thread.
class GraphSubscriptions {
 public:
  /// `limits` must outlive this object (the server's config).
  GraphSubscriptions(Store& store, const GraphLimits& limits);
  ~GraphSubscriptions();
  /// Answers /subscriptions[/{id}] (`rest` = segments after "subscriptions").
  GraphReply handle(const GraphRequest& request, const std::vector<std::string>& rest);
  /// Sends a lifecycle notification of `event` (e.g. reauthorizationRequired) for `id`;
  /// false when no such subscription has a lifecycleNotificationUrl.
  bool send_lifecycle(const std::string& id, const std::string& event);
  /// Subscriptions, refusals by the limits and notification deliveries (admin endpoint).
  nlohmann::json stats();

 private:
  struct Subscription {
    std::string id;
    uint32_t mailbox = 0;
    std::string resource;
    std::string change_types;  // "created,updated,deleted"
    std::string notification_url;
    std::string lifecycle_url;
    std::string client_state;
    std::string tenant;
    std::string app;
    Seconds expires{};
    uint64_t seen_seq = 0;  // mailbox change sequence already notified
  };
  nlohmann::json to_json(const Subscription& s) const;
  GraphReply create(const GraphRequest& request);
  /// The 403 Graph answers when `mailbox` holds its 1,000 subscriptions already; nullopt when
  /// there is room. Called with mutex_ held.
  std::optional<GraphReply> mailbox_full(uint32_t mailbox) const;
  void deliver_loop();

  Store& store_;
  const GraphLimits& limits_;
  SubscriptionRateLimiter rate_;
  NotificationDelivery delivery_;
  std::size_t refused_full_ = 0;                 // creations refused by the per-mailbox cap
  std::size_t refused_validation_ = 0;           // creations refused because validation failed
  std::chrono::milliseconds max_validation_{0};  // slowest validation answer so far
  std::mutex mutex_;
  std::map<std::string, Subscription> subscriptions_;
  std::set<std::string> reauthorize_sent_;  // ids told reauthorizationRequired already
  std::atomic<bool> stopping_{false};
  std::thread worker_;
};

}  // namespace exsim
