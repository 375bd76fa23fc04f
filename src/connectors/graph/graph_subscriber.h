#pragma once
/// Microsoft Graph change-notification subscriptions on mailbox calendars (R23): create (Graph
/// first calls the notification URL with a validationToken the daemon must echo), renew
/// (PATCH expirationDateTime) and delete. The daemon keeps the list and answers the
/// notifications (service/graph_keeper.h, service/graph_subscriptions.h); this is only the
/// protocol.
/// https://learn.microsoft.com/graph/api/subscription-post-subscriptions
#include <chrono>
#include <string>

#include "core/error.h"
#include "core/secret.h"
#include "net/http.h"

namespace agendasync::graph {

struct SubscriberOptions {
  std::string base_url = "https://graph.microsoft.com/v1.0";
  /// Where Graph posts change notifications and lifecycle notifications (one endpoint may take
  /// both; each lifecycle notification carries a lifecycleEvent member).
  std::string notification_url;
  std::string lifecycle_url;
};

/// A subscription as Graph created or renewed it.
struct Subscription {
  std::string id;
  std::chrono::sys_seconds expires{};
};

class Subscriber {
 public:
  /// `credentials` is Bearer (TokenProvider::credentials()).
  Subscriber(net::HttpClient& http, net::Credentials credentials, SubscriberOptions options);

  /// Subscribes to created, updated and deleted events of `mailbox`'s calendar
  /// (/users/{mailbox}/events) until `expires`. Graph validates the notification URL before it
  /// answers, so the daemon must already be listening there. Never retried by the transport
  /// (a retry could leave a second subscription behind).
  Result<Subscription> create(const std::string& mailbox, const Secret& client_state,
                              std::chrono::sys_seconds expires);
  /// Moves the expiry of subscription `id` to `expires`; returns the expiry Graph granted.
  /// kNotFound when Graph no longer knows the subscription (create a new one).
  Result<std::chrono::sys_seconds> renew(const std::string& id, std::chrono::sys_seconds expires);
  /// Deletes subscription `id`; one Graph no longer knows counts as deleted.
  Result<void> remove(const std::string& id);

 private:
  Result<net::Response> send(const std::string& method, const std::string& url, std::string body,
                             bool retry_allowed);

  net::HttpClient& http_;
  net::Credentials credentials_;
  SubscriberOptions options_;
};

}  // namespace agendasync::graph
