#pragma once
/// Microsoft Graph change-notification subscriptions (R23): which mailbox each subscription
/// watches, its clientState (sealed at rest, compared in constant time) and its expiry, so
/// notifications wake only that mailbox; and the keeper that subscribes every synced mailbox,
/// renews before expiry and follows lifecycle notifications. No Graph protocol here: the
/// calls come in as functions (GraphSubscriptionCalls).
/// https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
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
  GraphSubscriptions(ServiceDb& db, SecretStore& secrets) : db_(db), secrets_(secrets) {}

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
  ServiceDb& db_;
  SecretStore& secrets_;
  std::mutex handler_mutex_;
  std::function<void(GraphLifecycle, const GraphSubscription&)> handler_;
};

/// What Graph does for the keeper; `serve` wires the Graph connector's Subscriber in.
struct GraphSubscriptionCalls {
  /// Subscribes to `mailbox`'s calendar with `client_state` until `expires_at` (Unix
  /// seconds); returns the subscription's id and the expiry Graph granted (user_name empty).
  std::function<Result<GraphSubscription>(const std::string& mailbox, const Secret& client_state,
                                          std::int64_t expires_at)>
      create;
  /// Moves subscription `id`'s expiry to `expires_at`; kNotFound when Graph forgot it.
  std::function<Result<std::int64_t>(const std::string& id, std::int64_t expires_at)> renew;
  /// Deletes subscription `id` at Graph; one Graph no longer knows counts as deleted.
  std::function<Result<void>(const std::string& id)> remove;
};

struct GraphKeeperOptions {
  /// How often the users are re-read (subscribe, unsubscribe) and expiries checked.
  std::chrono::milliseconds refresh{std::chrono::seconds(30)};
  /// Requested lifetime of a subscription (Outlook resources allow under 7 days).
  std::chrono::seconds lifetime{std::chrono::hours(72)};
  /// A subscription is renewed once less than this is left.
  std::chrono::seconds renew_before{std::chrono::hours(24)};
  /// Longest pause between attempts for a mailbox whose subscription keeps failing.
  std::chrono::milliseconds retry_max{std::chrono::minutes(30)};
  /// How long stop() may spend deleting subscriptions at Graph.
  std::chrono::milliseconds stop_budget{std::chrono::seconds(10)};
};

/// Keeps one Graph subscription per synced mailbox (R23): subscribes new users, unsubscribes
/// blocked and disabled ones (or a changed address), renews before expiry, acts on lifecycle
/// notifications (reauthorizationRequired: renew now; subscriptionRemoved: subscribe again)
/// and deletes its subscriptions on stop. All Graph calls run on its own thread.
class GraphSubscriptionKeeper {
 public:
  /// user -> mailbox of every user whose calendar should be watched now.
  using WantedFn = std::function<Result<std::map<std::string, std::string>>()>;

  /// Fails when clientStates cannot be sealed. Subscriptions recorded by an earlier run are
  /// deleted first (their notification URL may have changed); `wake(user)` runs the user's
  /// pair after each new subscription, for changes made before Graph reported them.
  static Result<std::unique_ptr<GraphSubscriptionKeeper>> start(
      GraphSubscriptions& records, GraphSubscriptionCalls calls, WantedFn wanted,
      std::function<void(const std::string&)> wake, GraphKeeperOptions options = {});
  ~GraphSubscriptionKeeper();
  /// Stops the thread, then deletes every subscription at Graph within the stop budget (what
  /// is left is deleted at the next start or lapses at expiry). Idempotent.
  void stop();

 private:
  GraphSubscriptionKeeper(GraphSubscriptions& records, GraphSubscriptionCalls calls,
                          WantedFn wanted, std::function<void(const std::string&)> wake,
                          GraphKeeperOptions options);
  void run(std::stop_token stop);
  void queue(GraphLifecycle event, const GraphSubscription& subscription);
  void handle(GraphLifecycle event, const GraphSubscription& subscription);
  void reconcile(std::stop_token stop);
  void subscribe(const std::string& user, const std::string& mailbox);
  void unsubscribe(const GraphSubscription& subscription, std::string_view reason);
  void forget(const std::string& id);

  GraphSubscriptions& records_;
  GraphSubscriptionCalls calls_;
  WantedFn wanted_;
  std::function<void(const std::string&)> wake_;
  GraphKeeperOptions options_;

  // Keeper thread only.
  std::map<std::string, std::string> mailbox_of_;  // subscription id -> mailbox
  struct Retry {
    std::chrono::steady_clock::time_point at;
    std::chrono::milliseconds delay{0};
  };
  std::map<std::string, Retry> retry_;  // by user, after a failed subscribe

  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::deque<std::pair<GraphLifecycle, GraphSubscription>> lifecycle_;
  bool stopped_ = false;
  std::jthread thread_;
};

}  // namespace agendasync::service
