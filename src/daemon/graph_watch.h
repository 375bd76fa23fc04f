#pragma once
/// R23 for Graph: one change-notification subscription per synced mailbox
/// (service::GraphSubscriptionKeeper over the connector's graph::Subscriber); Graph posts to
/// the daemon's notification route.
#include <chrono>
#include <functional>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "daemon/synced_mailboxes.h"
#include "net/reloadable_client.h"
#include "service/graph_keeper.h"

namespace agendasync::service {
class Server;
}

namespace agendasync::daemon {

/// The path Graph posts change and lifecycle notifications to, after [server] public_url:
/// organisation default's (as before organisations, so its live subscriptions stay valid).
inline constexpr const char* kGraphNotificationPath = "/api/v1/notifications/graph";
/// The path for organisation `org`'s subscriptions.
std::string graph_notification_path(const std::string& org);

/// R23 for Graph: subscribes every synced mailbox at Graph with notifications to
/// `<[server] public_url>/api/v1/notifications/graph` (the server must be listening: Graph
/// validates the URL first), keeps the subscriptions renewed and follows the agenda. Without
/// public_url it logs once that notifications are off and that `safety_net` is the latency.
/// Returns the stop function (deletes the subscriptions at Graph). Only a Graph backend's
/// credential failing to load is an error; a missing key ring is logged and leaves
/// notifications off. `mailboxes`: which to subscribe; empty = every synced mailbox (a hybrid
/// organisation passes those routed to Graph). `trust`: the node's outgoing TLS trust
/// (reloaded by SIGHUP); null = a client of its own from the configuration's [tls]. `http`:
/// the node's client for every organisation's subscription calls (graph_subscription_client);
/// null = one of this organisation's own, made through `trust`.
Result<std::function<void()>> start_graph_watch(const config::Config& config,
                                                service::Server& server, const std::string& org,
                                                service::GraphKeeperOptions options,
                                                std::chrono::minutes safety_net,
                                                MailboxSource mailboxes = {},
                                                std::shared_ptr<net::TrustedClients> trust = {},
                                                std::shared_ptr<net::HttpClient> http = {});

/// The client options of Graph subscription calls for `calls` of them at once (a keeper's
/// concurrency, or the node's shared keeper threads) on [tls] `config`.
net::ClientOptions graph_subscription_client(const config::Config& config, std::size_t calls);

}  // namespace agendasync::daemon
