#pragma once
/// Graph change-notification subscriptions on mailbox events: POST /subscriptions with the
/// validation handshake (the notificationUrl must echo validationToken as text/plain within
/// 10 s), GET, PATCH (renew), DELETE; notifications with clientState delivered by a background
/// thread that follows the store's change log; lifecycle notifications (reauthorizationRequired,
/// subscriptionRemoved) to lifecycleNotificationUrl.
/// Reference: learn.microsoft.com/graph/api/resources/subscription,
/// graph/change-notifications-delivery-webhooks
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exsim/graph/graph_request.h"
#include "exsim/store/store.h"

namespace exsim {

/// Subscriptions and their delivery thread.
class GraphSubscriptions {
 public:
  explicit GraphSubscriptions(Store& store);
  ~GraphSubscriptions();
  /// Answers /subscriptions[/{id}] (`rest` = segments after "subscriptions").
  GraphReply handle(const GraphRequest& request, const std::vector<std::string>& rest);
  /// Sends a lifecycle notification of `event` (e.g. reauthorizationRequired) for `id`;
  /// false when no such subscription has a lifecycleNotificationUrl.
  bool send_lifecycle(const std::string& id, const std::string& event);

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
  void deliver_loop();

  Store& store_;
  std::mutex mutex_;
  std::map<std::string, Subscription> subscriptions_;
  std::set<std::string> reauthorize_sent_;  // ids told reauthorizationRequired already
  std::atomic<bool> stopping_{false};
  std::thread worker_;
};

/// POSTs `body` (JSON or text) to `url`; true on a 2xx answer. Only loopback hosts are
/// contacted (exsim runs in tests): other hosts fail. `response` receives the answer body.
bool post_to_url(const std::string& url, const std::string& body, const std::string& content_type,
                 int timeout_seconds, std::string* response);

}  // namespace exsim
