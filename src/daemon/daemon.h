#pragma once
/// `agendasync serve` without its command line: the REST API (service::Server) wired to the
/// app layer's syncs (SyncAppPool), real-time wake-ups (EWS streaming or Graph change
/// notifications), the catch-up at start and the safety net; returns at SIGTERM/SIGINT.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "config/config.h"
#include "core/error.h"

namespace agendasync::daemon {

struct DaemonOptions {
  /// HOST and PORT to listen on instead of the configuration's [server] (port 0 = any).
  std::optional<std::pair<std::string, int>> listen;
  std::string secret_key_file;          ///< key ring; empty = $AGENDASYNC_SECRET_KEY
  std::size_t workers = 4;              ///< pairs that may sync at the same time
  std::chrono::minutes safety_net{15};  ///< 0 = off
  /// The safety net's period instead of `safety_net` when above 0 (`--safety-net-seconds`:
  /// tests and benchmarks that need idle cycles within a minute).
  std::chrono::seconds safety_net_seconds{0};
  std::chrono::seconds watch_refresh{30};
  bool streaming = true;  ///< EWS streaming wake-ups (backend ews)
  bool fsync_every_write = false;
  std::chrono::minutes graph_lifetime{4320};
  std::chrono::minutes graph_renew_before{1440};
  /// The configuration file the daemon runs on: SIGHUP re-reads it (reload.h). Empty =
  /// SIGHUP reloads nothing.
  std::filesystem::path config_file;
  /// Many nodes on PostgreSQL (issue 17): this node's name among them (`--node-name`; empty =
  /// `[server] node_name`, else the host name). Its leases and heartbeats last `[cluster]
  /// lease_seconds`: a node silent this long is dead, and its work goes to the others.
  std::string node_name;
  /// The admin console's session lifetime instead of [server] console_session_minutes.
  std::optional<std::chrono::seconds> console_session;
};

/// The node name a daemon runs under: `flag`, else the configuration's `[server] node_name`,
/// else the host name.
std::string node_name(const std::string& flag, const config::Config& config);

/// Runs the daemon until SIGTERM/SIGINT and returns the process exit code; an Error when it
/// could not start (a wrong database, an unreadable service-account secret).
Result<int> run(const config::Config& config, const DaemonOptions& options);

}  // namespace agendasync::daemon
