// agendasync serve (R29, R23): the REST API, the scheduler wired to the app layer, EWS
// streaming wake-ups or Graph change notifications, the periodic safety net, graceful stop
// on SIGTERM/SIGINT.
#include <CLI/CLI.hpp>

#include <charconv>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/serve_sync_pool.h"
#include "cli/serve_watchers.h"
#include "service/log.h"
#include "service/server.h"

namespace agendasync::cli {
namespace {

struct ServeOptions {
  std::string listen;  ///< HOST:PORT; empty = the configuration's [server]
  std::string secret_key_file;
  std::size_t workers = 4;
  int safety_net_minutes = 15;
  int watch_refresh_seconds = 30;
  bool no_streaming = false;
  bool fsync_every_write = false;
  int graph_lifetime_minutes = 4320;
  int graph_renew_before_minutes = 1440;
};

/// Microsoft Graph keeps subscriptions on Outlook events for less than 7 days.
constexpr int kGraphMaxLifetimeMinutes = 10080;

/// "HOST:PORT" (PORT 0 = any free port). kInvalidData naming the flag otherwise.
Result<std::pair<std::string, int>> parse_listen(const std::string& text) {
  auto colon = text.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon > 0) {
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    auto [end, error] = std::from_chars(first, last, port);
    if (error != std::errc() || end != last || first == last) port = -1;
  }
  if (port < 0 || port > 65535) {
    return fail(ErrorKind::kInvalidData,
                "--listen \"" + text + "\" is not HOST:PORT (e.g. 127.0.0.1:8080; port 0 = any)");
  }
  return std::pair{text.substr(0, colon), port};
}

void run_serve(Context& context, const ServeOptions& flags) {
  auto config = context.load_config();
  if (!config) return context.fail(config.error(), kExitRuntime);
  if (!context.global.database_path.empty()) config->database = context.global.database_path;

  service::ServerOptions options;
  options.database = config->database;
  options.listen = config->server.listen;
  options.port = config->server.port;
  options.http_limits.max_connections = static_cast<std::size_t>(config->server.max_connections);
  if (!flags.listen.empty()) {
    auto listen = parse_listen(flags.listen);
    if (!listen) return context.fail(listen.error(), kExitUsage);
    std::tie(options.listen, options.port) = *listen;
  }
  options.secret_key_file = flags.secret_key_file;
  options.fsync_every_write = flags.fsync_every_write;
  options.scheduler.workers = std::max<std::size_t>(1, flags.workers);
  options.scheduler.safety_net = std::chrono::minutes(std::max(0, flags.safety_net_minutes));

  std::unique_ptr<SyncAppPool> pool;
  if (config->exchange.backend != config::ExchangeBackend::kNone) {
    auto opened = SyncAppPool::open(*config);
    if (!opened) return context.fail(opened.error(), kExitRuntime);
    pool = std::move(*opened);
    SyncAppPool* runner = pool.get();
    options.sync = [runner](const std::string& user) { return runner->run(user); };
  } else {
    service::log_event(spdlog::level::warn, "sync_not_configured",
                       {{"detail",
                         "[exchange] backend is \"none\": the API works, syncs fail until a "
                         "backend is configured"}});
  }
  options.audit = service::sqlite_audit_lookup(app::state_file(*config));

  const bool stream =
      !flags.no_streaming && config->exchange.backend == config::ExchangeBackend::kEws;
  const bool graph = config->exchange.backend == config::ExchangeBackend::kGraph;
  WatcherOptions watcher_options;
  watcher_options.refresh = std::chrono::seconds(std::max(1, flags.watch_refresh_seconds));
  if (flags.graph_lifetime_minutes < 1 || flags.graph_lifetime_minutes > kGraphMaxLifetimeMinutes ||
      flags.graph_renew_before_minutes < 1) {
    return context.fail(
        Error::make(ErrorKind::kInvalidData,
                    "--graph-lifetime-minutes must be 1.." +
                        std::to_string(kGraphMaxLifetimeMinutes) +
                        " (Graph's limit for Outlook events) and --graph-renew-before-minutes "
                        "at least 1"),
        kExitUsage);
  }
  service::GraphKeeperOptions graph_options;
  graph_options.refresh = watcher_options.refresh;
  graph_options.lifetime = std::chrono::minutes(flags.graph_lifetime_minutes);
  graph_options.renew_before = std::chrono::minutes(flags.graph_renew_before_minutes);
  const auto safety_net = std::chrono::minutes(std::max(0, flags.safety_net_minutes));
  const config::Config& loaded = *config;
  options.start_companions = [&loaded, stream, graph, watcher_options, graph_options, safety_net](
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
    if (graph) return start_graph_watch(loaded, server, graph_options, safety_net);
    if (!stream) return std::function<void()>([] {});
    auto watchers = MailboxWatchers::start(
        loaded, server.store(),
        [&scheduler](const std::string& user) {
          scheduler.trigger(user, service::Trigger::kNotification);
        },
        watcher_options);
    if (!watchers) return std::unexpected(watchers.error());
    std::shared_ptr<MailboxWatchers> running = std::move(*watchers);
    return std::function<void()>([running] { running->stop(); });
  };
  context.exit_code = service::run_server(*config, std::move(options));
}

}  // namespace

void add_serve_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<ServeOptions>();
  auto* serve = app.add_subcommand(
      "serve", "Run the daemon: REST API, scheduled and real-time syncs, webhooks, metrics");
  serve->add_option("--listen", flags->listen,
                    "HOST:PORT to listen on (default: [server] listen and port; port 0 = any)");
  serve->add_option("--secret-key-file", flags->secret_key_file,
                    "Key ring for secrets at rest (default: $AGENDASYNC_SECRET_KEY); make one "
                    "with `agendasync secrets new-key`");
  serve->add_option("--workers", flags->workers, "Pairs that may sync at the same time")
      ->capture_default_str();
  serve
      ->add_option("--safety-net-minutes", flags->safety_net_minutes,
                   "Sync every enabled user this often whatever the triggers (0 = off)")
      ->capture_default_str();
  serve
      ->add_option("--watch-refresh-seconds", flags->watch_refresh_seconds,
                   "How often the user list is re-read to start or stop mailbox watchers "
                   "(and Graph subscriptions)")
      ->capture_default_str();
  serve->add_flag("--no-streaming", flags->no_streaming,
                  "Do not open EWS streaming subscriptions (rely on the safety net)");
  serve->add_flag("--fsync-every-write", flags->fsync_every_write,
                  "API writes survive a power loss too (SQLite synchronous=FULL), at a lower "
                  "write rate; see docs/DECISIONS.md \"API write durability\"");
  serve
      ->add_option("--graph-lifetime-minutes", flags->graph_lifetime_minutes,
                   "Backend graph: lifetime asked for each change-notification subscription "
                   "(at most 10080)")
      ->capture_default_str();
  serve
      ->add_option("--graph-renew-before-minutes", flags->graph_renew_before_minutes,
                   "Backend graph: renew a subscription once less than this is left (checked "
                   "every --watch-refresh-seconds)")
      ->capture_default_str();
  serve->callback([&context, flags] { run_serve(context, *flags); });
}

}  // namespace agendasync::cli
