// agendasync serve (R29, R23): the REST API, the scheduler wired to the app layer, EWS
// streaming wake-ups or Graph change notifications, the periodic safety net, graceful stop
// on SIGTERM/SIGINT.
#include <CLI/CLI.hpp>

#include <charconv>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "daemon/daemon.h"

namespace agendasync::cli {
namespace {

struct ServeOptions {
  std::string listen;  ///< HOST:PORT; empty = the configuration's [server]
  std::string secret_key_file;
  std::size_t workers = 4;
  int safety_net_minutes = 15;
  int safety_net_seconds = 0;  ///< > 0 overrides the minutes (tests, benchmarks)
  int watch_refresh_seconds = 30;
  bool no_streaming = false;
  bool fsync_every_write = false;
  int graph_lifetime_minutes = 4320;
  int graph_renew_before_minutes = 1440;
  int console_session_seconds = 0;  ///< 0 = [server] console_session_minutes
  std::string node_name;
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
  // The daemon serves every organisation: it runs on the node's configuration.
  auto config = context.load_node_config();
  if (!config) return context.fail(config.error(), kExitRuntime);

  daemon::DaemonOptions options;
  if (!flags.listen.empty()) {
    auto listen = parse_listen(flags.listen);
    if (!listen) return context.fail(listen.error(), kExitUsage);
    options.listen = *listen;
  }
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
  if (flags.console_session_seconds < 0 || flags.console_session_seconds > 43200 * 60) {
    return context.fail(Error::make(ErrorKind::kInvalidData,
                                    "--console-session-seconds must be 1..2592000 (30 days), or "
                                    "0 for [server] console_session_minutes"),
                        kExitUsage);
  }
  if (flags.safety_net_seconds < 0) {
    return context.fail(Error::make(ErrorKind::kInvalidData,
                                    "--safety-net-seconds must be 1 or more, or 0 for "
                                    "--safety-net-minutes"),
                        kExitUsage);
  }
  if (flags.console_session_seconds > 0) {
    options.console_session = std::chrono::seconds(flags.console_session_seconds);
  }
  options.secret_key_file = flags.secret_key_file;
  options.workers = flags.workers;
  options.safety_net = std::chrono::minutes(std::max(0, flags.safety_net_minutes));
  options.safety_net_seconds = std::chrono::seconds(flags.safety_net_seconds);
  options.watch_refresh = std::chrono::seconds(std::max(1, flags.watch_refresh_seconds));
  options.streaming = !flags.no_streaming;
  options.fsync_every_write = flags.fsync_every_write;
  options.graph_lifetime = std::chrono::minutes(flags.graph_lifetime_minutes);
  options.graph_renew_before = std::chrono::minutes(flags.graph_renew_before_minutes);
  options.config_file = context.config_file();
  options.node_name = flags.node_name;
  auto ran = daemon::run(*config, options);
  if (!ran) return context.fail(ran.error(), kExitRuntime);
  context.exit_code = *ran;
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
      ->add_option("--safety-net-seconds", flags->safety_net_seconds,
                   "The safety net's period in seconds, overriding --safety-net-minutes "
                   "(tests and benchmarks that need idle cycles within a minute; 0 = the "
                   "minutes)")
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
  serve
      ->add_option("--console-session-seconds", flags->console_session_seconds,
                   "Admin console sessions end this long after sign-in, overriding [server] "
                   "console_session_minutes (short-lived kiosks, tests; 0 = the file's)")
      ->capture_default_str();
  serve->add_option("--node-name", flags->node_name,
                    "This node's name among the nodes on one PostgreSQL database (its leases "
                    "are held under it; default: [server] node_name, else the host name)");
  serve->callback([&context, flags] { run_serve(context, *flags); });
}

}  // namespace agendasync::cli
