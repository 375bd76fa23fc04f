#pragma once
/// Microsoft Graph change-notification subscriptions (R23): which mailbox each subscription
/// watches, its clientState (sealed at rest, compared in constant time) and its expiry, so
/// notifications wake only that mailbox. The keeper that subscribes every synced mailbox is
/// graph_keeper.h. No Graph protocol here.
/// https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "service/secret_store.h"
#include "service/service_db.h"

namespace agendasync::service {

struct GraphSubscription {
  std::string id;
  std::string user_name;
  std::int64_t expires_at = 0;  ///< Unix seconds
};

/// The lifecycle notifications Graph sends about a subscription itself.
/// https://learn.microsoft.com/graph/change-notifications-lifecycle-events
enum class GraphLifecycle { kReauthorizationRequired, kSubscriptionRemoved, kMissed };
/// "reauthorizationRequired", "subscriptionRemoved", "missed"; nullopt for anything else.
std::optional<GraphLifecycle> parse_graph_lifecycle(std::string_view text);
const char* to_string(GraphLifecycle event);

/// Renews one subscription at Graph (PATCH /subscriptions/{id} with a new expirationDateTime)
/// and returns the new expiry. Supplied by the Graph connector.
using GraphRenewFn = std::function<Result<std::int64_t>(const GraphSubscription&)>;

class GraphSubscriptions {
 public:
  GraphSubscriptions(ServiceDb& db, SecretStore& secrets) : db_(db.sql()), secrets_(secrets) {}

  /// Records a subscription the Graph connector created with `client_state`.
  Result<void> add(const GraphSubscription& subscription, const Secret& client_state);
  Result<void> remove(const std::string& id);
  /// The user whose mailbox `id` watches when `client_state` matches; nullopt for an unknown
  /// subscription or a wrong clientState (the notification is then not from our Graph).
  Result<std::optional<std::string>> verify(const std::string& id, std::string_view client_state);
  /// Subscriptions expiring before `now + margin`.
  Result<std::vector<GraphSubscription>> expiring(std::int64_t now, std::int64_t margin_seconds);
  Result<void> set_expiry(const std::string& id, std::int64_t expires_at);
  /// Every recorded subscription, soonest expiry first.
  Result<std::vector<GraphSubscription>> all();
  /// Renews every subscription expiring within `margin_seconds`; returns how many were
  /// renewed. A failed renewal is logged and retried on the next call; a subscription Graph
  /// no longer knows (kNotFound) is forgotten, so the keeper creates a new one.
  std::size_t renew_due(const GraphRenewFn& renew, std::int64_t margin_seconds);
  /// Fails, saying how to configure a key, when clientStates cannot be sealed (no key ring).
  Result<void> check_sealing() const;

  /// Who acts on verified lifecycle notifications (the keeper); empty = nobody.
  void on_lifecycle(std::function<void(GraphLifecycle, const GraphSubscription&)> handler);
  /// Hands a verified lifecycle notification to the handler; false when there is none.
  bool lifecycle(GraphLifecycle event, const GraphSubscription& subscription);

 private:
  store::sql::Database& db_;
  SecretStore& secrets_;
  std::mutex handler_mutex_;
  std::function<void(GraphLifecycle, const GraphSubscription&)> handler_;
};

}  // namespace agendasync::service
