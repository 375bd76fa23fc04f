#include "daemon/daemon.h"

#include <memory>

#include "daemon/ews_watchers.h"
#include "daemon/graph_watch.h"
#include "daemon/sync_pool.h"
#include "service/log.h"
#include "service/server.h"

namespace agendasync::daemon {

Result<int> run(const config::Config& config, const DaemonOptions& flags) {
  service::ServerOptions options;
  options.database = config.database;
  options.listen = config.server.listen;
  options.port = config.server.port;
  options.http_limits.max_connections = static_cast<std::size_t>(config.server.max_connections);
  if (flags.listen) std::tie(options.listen, options.port) = *flags.listen;
  options.secret_key_file = flags.secret_key_file;
  options.fsync_every_write = flags.fsync_every_write;
  options.scheduler.workers = std::max<std::size_t>(1, flags.workers);
  options.scheduler.safety_net = flags.safety_net;

  std::unique_ptr<SyncAppPool> pool;
  if (config.exchange.backend != config::ExchangeBackend::kNone) {
    auto opened = SyncAppPool::open(config);
    if (!opened) return std::unexpected(opened.error());
    pool = std::move(*opened);
    SyncAppPool* runner = pool.get();
    options.sync = [runner](const std::string& user) { return runner->run(user); };
  } else {
    service::log_event(spdlog::level::warn, "sync_not_configured",
                       {{"detail",
                         "[exchange] backend is \"none\": the API works, syncs fail until a "
                         "backend is configured"}});
  }
  options.audit = service::sqlite_audit_lookup(app::state_file(config));

  const bool stream = flags.streaming && config.exchange.backend == config::ExchangeBackend::kEws;
  const bool graph = config.exchange.backend == config::ExchangeBackend::kGraph;
  WatcherOptions watcher_options;
  watcher_options.refresh =
      std::max<std::chrono::milliseconds>(std::chrono::seconds(1), flags.watch_refresh);
  service::GraphKeeperOptions graph_options;
  graph_options.refresh = watcher_options.refresh;
  graph_options.lifetime = flags.graph_lifetime;
  graph_options.renew_before = flags.graph_renew_before;
  const auto safety_net = flags.safety_net;
  options.start_companions = [&config, stream, graph, watcher_options, graph_options, safety_net](
                                 service::Server& server) -> Result<std::function<void()>> {
    service::Scheduler& scheduler = server.scheduler();
    // Catch up once at start: whatever changed while the daemon was down.
    if (auto users = server.store().users()) {
      for (const auto& user : *users) {
        if (user.sync_enabled && !user.blocked) {
          scheduler.trigger(user.user_name, service::Trigger::kSafetyNet);
        }
      }
    }
    if (graph) return start_graph_watch(config, server, graph_options, safety_net);
    if (!stream) return std::function<void()>([] {});
    WatcherOptions watching = watcher_options;
    watching.metrics = &server.metrics();
    auto watchers = MailboxWatchers::start(
        config, server.store(),
        [&scheduler](const std::string& user) {
          scheduler.trigger(user, service::Trigger::kNotification);
        },
        watching);
    if (!watchers) return std::unexpected(watchers.error());
    std::shared_ptr<MailboxWatchers> running = std::move(*watchers);
    return std::function<void()>([running] { running->stop(); });
  };
  return service::run_server(config, std::move(options));
}

}  // namespace agendasync::daemon
