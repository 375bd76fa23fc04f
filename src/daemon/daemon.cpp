#include "daemon/daemon.h"

#include <unistd.h>

#include <memory>

#include "daemon/cluster_node.h"
#include "daemon/console_operations.h"
#include "daemon/ews_watchers.h"
#include "daemon/graph_watch.h"
#include "daemon/reload.h"
#include "daemon/sync_pool.h"
#include "platform/platform.h"
#include "service/log.h"
#include "service/secrets/key_ring.h"
#include "service/server.h"
#include "service/sync_progress.h"
#include "service/tenant.h"
#include "store/database_locator.h"

namespace agendasync::daemon {

namespace {

/// Threads every organisation's Graph subscription keeper shares on a node: calls in flight at
/// once for all of them (each keeper still at most its own `concurrency`). Graph takes a few
/// hundred ms per creation (it validates the notification URL first), so 16 reach its
/// 1,000 writes per 20 s per app from one node.
constexpr std::size_t kGraphKeeperThreads = 16;

/// Grouped EWS streams (issue 14) over `watcher_options.mailboxes` (empty: every synced
/// mailbox), waking the organisation's pairs.
Result<std::function<void()>> start_ews_watchers(service::Server& server, const std::string& org,
                                                 const config::Config& config, bool streaming,
                                                 WatcherOptions watcher_options) {
  if (!streaming) return std::function<void()>([] {});
  auto tenant = server.tenant(org);
  if (!tenant) return fail(ErrorKind::kNotFound, "organisation " + org + " is not open");
  watcher_options.metrics = &server.metrics();
  watcher_options.org = org;
  service::Scheduler& scheduler = server.scheduler();
  auto watchers = MailboxWatchers::start(
      config, tenant->store(),
      [&scheduler, org](const std::string& user) {
        scheduler.trigger(service::PairRef{org, user}, service::Trigger::kNotification);
      },
      watcher_options);
  if (!watchers) return std::unexpected(watchers.error());
  std::shared_ptr<MailboxWatchers> running = std::move(*watchers);
  // The tenant stays open while its watchers read its agenda.
  return std::function<void()>([running, tenant] { running->stop(); });
}

/// R41: a hybrid organisation watches each mailbox where it is routed — EWS streams for the
/// mailboxes on premises, Graph subscriptions for those in Exchange Online. Each refresh
/// re-reads the routes, so a mailbox that moved (its pair re-routed by a sync) leaves one
/// watcher and joins the other.
Result<std::function<void()>> start_hybrid_watchers(service::Server& server, const std::string& org,
                                                    const config::Config& config, bool streaming,
                                                    WatcherOptions watcher_options,
                                                    service::GraphKeeperOptions graph_options,
                                                    std::shared_ptr<net::HttpClient> graph_http,
                                                    std::chrono::minutes safety_net) {
  auto tenant = server.tenant(org);
  if (!tenant) return fail(ErrorKind::kNotFound, "organisation " + org + " is not open");
  watcher_options.mailboxes =
      routed_mailboxes(config, tenant->store(), app::RemoteBackend::kEws, org);
  auto ews = start_ews_watchers(server, org, config, streaming, watcher_options);
  if (!ews) return ews;
  auto graph =
      start_graph_watch(config, server, org, graph_options, safety_net,
                        routed_mailboxes(config, tenant->store(), app::RemoteBackend::kGraph, org),
                        watcher_options.trust, std::move(graph_http));
  if (!graph) {
    (*ews)();
    return graph;
  }
  return std::function<void()>([ews = std::move(*ews), graph = std::move(*graph), tenant] {
    ews();
    graph();
  });
}

/// The real-time watchers of one organisation, on its own configuration: Graph subscriptions,
/// grouped EWS streams, or both (hybrid), waking that organisation's pairs only.
Result<std::function<void()>> start_watchers(service::Server& server, const std::string& org,
                                             const config::Config& config, bool streaming,
                                             WatcherOptions watcher_options,
                                             service::GraphKeeperOptions graph_options,
                                             std::shared_ptr<net::HttpClient> graph_http,
                                             std::chrono::minutes safety_net) {
  switch (config.exchange.backend) {
    case config::ExchangeBackend::kNone:
      service::log_event(spdlog::level::warn, "sync_not_configured",
                         {{"org", org},
                          {"detail",
                           "the organisation has no connection to Exchange: the API works, "
                           "syncs fail until one is set (PUT /api/v1/organisations/" +
                               org + "/connection)"}});
      return std::function<void()>([] {});
    case config::ExchangeBackend::kGraph:
      return start_graph_watch(config, server, org, graph_options, safety_net, {},
                               watcher_options.trust, std::move(graph_http));
    case config::ExchangeBackend::kHybrid:
      return start_hybrid_watchers(server, org, config, streaming, watcher_options, graph_options,
                                   std::move(graph_http), safety_net);
    case config::ExchangeBackend::kEws:
      break;
  }
  return start_ews_watchers(server, org, config, streaming, watcher_options);
}

}  // namespace

std::string node_name(const std::string& flag, const config::Config& config) {
  if (!flag.empty()) return flag;
  if (!config.server.node_name.empty()) return config.server.node_name;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "agendasync";
  return host;
}

Result<int> run(const config::Config& config, const DaemonOptions& flags) {
  service::ServerOptions options;
  options.database = config.database;
  options.node = config;
  options.listen = config.server.listen;
  options.port = config.server.port;
  options.http_limits.max_connections = static_cast<std::size_t>(config.server.max_connections);
  if (flags.listen) std::tie(options.listen, options.port) = *flags.listen;
  options.secret_key_file = flags.secret_key_file;
  options.fsync_every_write = flags.fsync_every_write;
  options.scheduler.workers = std::max<std::size_t>(1, flags.workers);
  options.scheduler.safety_net = flags.safety_net;
  if (flags.safety_net_seconds.count() > 0) options.scheduler.safety_net = flags.safety_net_seconds;
  options.sessions.lifetime =
      flags.console_session.value_or(std::chrono::minutes(config.server.console_session_minutes));
  apply_log_level(config.server.log_level);

  // The syncs resolve each organisation's configuration through their own view of the
  // platform tables (the server opens its own once it starts).
  auto ring = service::secrets::load_key_ring(flags.secret_key_file);
  if (!ring) return std::unexpected(ring.error());
  auto platform = platform::Platform::open(config, std::move(*ring));
  if (!platform) return std::unexpected(platform.error());
  std::shared_ptr<platform::Platform> organisations(std::move(*platform));
  // Many nodes on PostgreSQL (issue 17): the node's name and lease time serve both its
  // pair leases (sync runs) and its cluster membership (heartbeats, organisation ownership).
  const std::string this_node = node_name(flags.node_name, config);
  const auto lease_time = std::chrono::seconds(config.cluster.lease_seconds);
  // Null on SQLite, where nothing below changes.
  auto node = open_cluster_node(config, ClusterSettings{this_node, lease_time});
  if (!node) return std::unexpected(node.error());
  std::shared_ptr<cluster::Node> cluster_node = std::move(*node);
  // Every outgoing client that trusts [tls] is made through `trust`, so SIGHUP can move them
  // all to a new CA bundle or proxy (issue 19).
  auto trust =
      std::make_shared<net::TrustedClients>(config.tls.ca_bundle.string(), config.tls.proxy);
  net::ClientOptions sync_client;
  // A back-off Exchange asked of any node holds this node's syncs on that budget too.
  if (cluster_node) sync_client.budget_holds = cluster_node->budget_holds();
  // PostgreSQL: this node's runs hold their pairs' leases under its name, for the configured
  // time (issue 17 §3). Two processes given one name stay apart: a lease records the name,
  // and a second holder under the same name still waits for the live lease.
  store::LeaseOptions leases;
  leases.node = this_node;
  leases.ttl = lease_time;
  auto pools = std::make_shared<OrganisationPools>(
      [organisations, trust](const std::string& org) {
        auto org_config = organisations->organisation_config(org);
        // The connectivity test reads [tls] from the configuration: the reloaded one.
        if (org_config) org_config->tls = {trust->ca_bundle_path(), trust->proxy()};
        return org_config;
      },
      trust->make(sync_client), leases);
  if (!flags.config_file.empty()) {
    ReloadTargets targets;
    // The syncs' apps hold their organisation's configuration (and its [tls]): the next run
    // opens them again.
    targets.tls = tls_reload_target(trust, [pools] { pools->reset_all(); });
    options.reload = make_reload(flags.config_file, config, std::move(targets));
  }
  service::log_event(spdlog::level::info, "node",
                     {{"node_name", leases.node}, {"lease_seconds", config.cluster.lease_seconds}});
  // R31: each run reports where it is, for the status API's progress (the console's bar).
  auto progress = std::make_shared<service::ProgressBoard>();
  options.scheduler.progress = progress;
  options.sync = [pools, progress](const service::PairRef& pair) {
    return pools->run(pair, [&pair, &progress](const app::Progress& at) {
      const char* phase = at.phase == app::Progress::Phase::kReading   ? "reading"
                          : at.phase == app::Progress::Phase::kWriting ? "writing"
                                                                       : "done";
      progress->set(pair.org, pair.user, {phase, at.done, at.total});
    });
  };
  // Idle runs' statuses that waited a second are written even while long runs go on.
  options.on_feed_poll = [pools] { pools->flush_due(); };
  options.offboard = [pools](const std::string& org) { return pools->offboard(org); };
  options.operations = console_operations(pools);
  options.audit = [](const std::filesystem::path& database,
                     const std::string& org) -> service::AuditLookup {
    if (store::is_postgres_locator(database.string())) {
      auto target = store::organisation_target(database.string(), org);
      if (!target) {
        return [error = target.error()](store::AppointmentId) {
          return Result<std::vector<sync::AuditRecord>>(std::unexpected(error));
        };
      }
      return service::pg_audit_lookup(std::move(*target));
    }
    config::Config at;
    at.database = database;
    return service::sqlite_audit_lookup(app::state_file(at));
  };

  WatcherOptions watcher_options;
  watcher_options.trust = trust;
  // Every organisation's EWS watchers on this node share these few threads and one streaming
  // client: a node of many small customers must not hold a set of threads per organisation.
  watcher_options.shared = WatcherThreads::make(watcher_options.control_threads, 2,
                                                watcher_client_options(config), trust);
  watcher_options.refresh =
      std::max<std::chrono::milliseconds>(std::chrono::seconds(1), flags.watch_refresh);
  service::GraphKeeperOptions graph_options;
  // Likewise every organisation's Graph subscription keeper: a lane each on these threads,
  // and one client for all their calls (a set of each per organisation held ten threads).
  graph_options.threads = std::make_shared<service::TaskQueue>(kGraphKeeperThreads);
  auto graph_http = trust->make(graph_subscription_client(config, kGraphKeeperThreads));
  graph_options.refresh = watcher_options.refresh;
  graph_options.lifetime = flags.graph_lifetime;
  graph_options.renew_before = flags.graph_renew_before;
  const auto safety_net = flags.safety_net;
  const bool streaming = flags.streaming;
  options.start_organisation =
      [pools, streaming, watcher_options, graph_options, graph_http, safety_net, cluster_node](
          service::Server& server, const std::string& org, const config::Config& org_config) {
        // A new connection (or a resumed organisation) syncs on a fresh app.
        pools->reset(org);
        // Many nodes: the watchers run on the organisation's owner only (cluster_node.h).
        if (!may_watch(cluster_node, org)) {
          return Result<std::function<void()>>([pools, org] { pools->reset(org); });
        }
        // Stopped because another node owns it now: its keeper keeps the Graph subscriptions.
        auto handed_over = std::make_shared<std::atomic<bool>>(false);
        service::GraphKeeperOptions org_graph = graph_options;
        org_graph.handed_over = handed_over;
        auto stop = start_watchers(server, org, org_config, streaming, watcher_options, org_graph,
                                   graph_http, safety_net);
        if (!stop) return stop;
        // Stopping the organisation (suspended, deleted, a new connection) also closes its
        // syncs' databases; a run in flight keeps its own until it ends.
        return Result<std::function<void()>>(
            [pools, org, watchers = std::move(*stop), handed_over, cluster_node] {
              handed_over->store(!may_watch(cluster_node, org));
              watchers();
              pools->reset(org);
            });
      };
  if (cluster_node) wire_cluster(cluster_node, organisations, options);
  return service::run_server(config, std::move(options));
}

}  // namespace agendasync::daemon
