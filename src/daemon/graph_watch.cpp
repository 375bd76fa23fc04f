#include "daemon/graph_watch.h"

#include <algorithm>

#include "app/exchange_connection.h"
#include "connectors/graph/graph_subscriber.h"
#include "connectors/graph/token.h"
#include "daemon/synced_mailboxes.h"
#include "platform/organisation.h"
#include "service/log.h"
#include "service/server.h"
#include "service/tenant.h"

namespace agendasync::daemon {

namespace {

/// What the Graph subscription calls need for as long as the keeper runs.
struct GraphLink {
  config::Config config;
  std::shared_ptr<net::HttpClient> http;
  std::unique_ptr<app::ExchangeConnection> connection;  ///< owns the app token
  std::unique_ptr<graph::Subscriber> subscriber;
};

service::GraphSubscriptionCalls graph_calls(std::shared_ptr<GraphLink> link) {
  using Seconds = std::chrono::sys_seconds;
  service::GraphSubscriptionCalls calls;
  calls.create = [link](const std::string& mailbox, const Secret& client_state,
                        std::int64_t expires_at) -> Result<service::GraphSubscription> {
    auto created =
        link->subscriber->create(mailbox, client_state, Seconds(std::chrono::seconds(expires_at)));
    if (!created) return std::unexpected(created.error());
    return service::GraphSubscription{created->id, "", created->expires.time_since_epoch().count()};
  };
  calls.renew = [link](const std::string& id, std::int64_t expires_at) -> Result<std::int64_t> {
    auto renewed = link->subscriber->renew(id, Seconds(std::chrono::seconds(expires_at)));
    if (!renewed) return std::unexpected(renewed.error());
    return renewed->time_since_epoch().count();
  };
  calls.remove = [link](const std::string& id) { return link->subscriber->remove(id); };
  return calls;
}

}  // namespace

std::string graph_notification_path(const std::string& org) {
  if (org == platform::kDefaultOrg) return kGraphNotificationPath;
  return "/api/v1/organisations/" + org + "/notifications/graph";
}

net::ClientOptions graph_subscription_client(const config::Config& config, std::size_t calls) {
  net::ClientOptions client;
  client.tls.ca_bundle_path = config.tls.ca_bundle.string();
  client.proxy = config.tls.proxy;
  // Graph answers a new subscription within its 10 s validation window; a shorter bound
  // than the sync's keeps a shutdown from waiting on a hung call.
  client.request_timeout = std::chrono::seconds(30);
  // One connection per call in flight; creations are never retried by the transport.
  client.max_concurrency_per_host = static_cast<int>(std::max<std::size_t>(1, calls));
  return client;
}

Result<std::function<void()>> start_graph_watch(
    const config::Config& config, service::Server& server, const std::string& org,
    service::GraphKeeperOptions options, std::chrono::minutes safety_net, MailboxSource mailboxes,
    std::shared_ptr<net::TrustedClients> trust, std::shared_ptr<net::HttpClient> http) {
  auto nothing = std::function<void()>([] {});
  if (config.server.public_url.empty()) {
    service::log_event(
        spdlog::level::warn, "graph_notifications_off",
        {{"detail",
          "[server] public_url is not set, so Microsoft Graph cannot notify this "
          "daemon: changes made in Outlook arrive with the safety-net sync, every " +
              std::to_string(safety_net.count()) +
              " minutes (--safety-net-minutes). Set public_url to the daemon's HTTPS "
              "address as Microsoft reaches it for real-time wake-ups"}});
    return nothing;
  }
  auto link = std::make_shared<GraphLink>();
  link->config = config;
  if (http) {
    link->http = std::move(http);
  } else {
    auto client = graph_subscription_client(config, options.concurrency);
    link->http = trust ? trust->make(std::move(client))
                       : std::shared_ptr<net::HttpClient>(net::make_curl_client(std::move(client)));
  }
  auto connection = app::ExchangeConnection::open(config, link->http);
  if (!connection) return std::unexpected(connection.error());
  link->connection = std::move(*connection);
  graph::TokenProvider* tokens = link->connection->graph_tokens();
  if (!tokens) {
    return fail(ErrorKind::kInvalidData,
                "Graph change notifications need [exchange] backend = \"graph\"");
  }
  graph::SubscriberOptions subscriber;
  subscriber.base_url = config.graph.graph_url;
  subscriber.notification_url = config.server.public_url + graph_notification_path(org);
  subscriber.lifecycle_url = subscriber.notification_url;
  link->subscriber = std::make_unique<graph::Subscriber>(*link->http, tokens->credentials(),
                                                         std::move(subscriber));

  auto tenant = server.tenant(org);
  if (!tenant) return fail(ErrorKind::kNotFound, "organisation " + org + " is not open");
  store::AgendaStore& store = tenant->store();
  service::Scheduler& scheduler = server.scheduler();
  service::Metrics& metrics = server.metrics();
  // Graph's subscription-write limits are per app per tenant and per tenant: organisations of
  // this node with the same app or tenant share those budgets.
  options.tenant = config.graph.tenant_id;
  options.app = config.graph.client_id;
  // Subscribed / unsubscribed mailboxes as gauges, so a dashboard shows mailboxes that are not
  // watched in real time (they wait for the safety net) without reading the log.
  options.on_progress = [&metrics, org](const service::GraphKeeperProgress& progress) {
    const auto unsubscribed =
        static_cast<double>(progress.wanted - std::min(progress.wanted, progress.subscribed));
    // One gauge for both backends (a hybrid organisation shows both rows), and the Graph
    // gauge it replaces, kept for dashboards built on it.
    metrics.set(service::metric::kWatchedMailboxes,
                {{"org", org}, {"backend", "graph"}, {"state", "watched"}},
                static_cast<double>(progress.subscribed));
    metrics.set(service::metric::kWatchedMailboxes,
                {{"org", org}, {"backend", "graph"}, {"state", "unwatched"}}, unsubscribed);
    metrics.set(service::metric::kGraphMailboxes, {{"org", org}, {"state", "subscribed"}},
                static_cast<double>(progress.subscribed));
    metrics.set(service::metric::kGraphMailboxes, {{"org", org}, {"state", "unsubscribed"}},
                unsubscribed);
    metrics.set(service::metric::kGraphThrottled, {{"org", org}},
                static_cast<double>(progress.throttled));
  };
  GraphLink* held = link.get();
  auto keeper = service::GraphSubscriptionKeeper::start(
      tenant->graph(), graph_calls(link),
      [held, &store, mailboxes = std::move(mailboxes)] {
        return mailboxes ? mailboxes() : synced_mailboxes(held->config, store);
      },
      [&scheduler, org](const std::string& user) {
        scheduler.trigger(service::PairRef{org, user}, service::Trigger::kSafetyNet);
      },
      options);
  if (!keeper) {
    service::log_event(
        spdlog::level::err, "graph_notifications_off",
        {{"error", keeper.error().message},
         {"detail", "changes made in Outlook arrive with the safety-net sync, every " +
                        std::to_string(safety_net.count()) + " minutes"}});
    return nothing;
  }
  service::log_event(
      spdlog::level::info, "graph_notifications_on",
      {{"org", org},
       {"notification_url", config.server.public_url + graph_notification_path(org)}});
  std::shared_ptr<service::GraphSubscriptionKeeper> running = std::move(*keeper);
  return std::function<void()>([running, link, tenant] { running->stop(); });
}

}  // namespace agendasync::daemon
