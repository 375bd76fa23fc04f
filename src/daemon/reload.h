#pragma once
/// What `systemctl reload agendasync` (SIGHUP) does: re-reads the configuration file, applies
/// what can change in a running daemon ([server] log_level, the TLS trust of [tls] for new
/// outgoing connections) and logs, naming the sections, what needs a restart; a file that no
/// longer parses is logged and the running settings stay.
#include <filesystem>
#include <functional>

#include "config/config.h"
#include "core/error.h"
#include "net/reloadable_client.h"

namespace agendasync::daemon {

/// Sets the daemon's log level from `level` (config::ServerConfig::log_level's names).
void apply_log_level(const std::string& level);

/// What a reload applies besides the log level.
struct ReloadTargets {
  /// Switches the outgoing clients to `tls` (CA bundle, proxy): new requests use it, those in
  /// flight finish as they started (net::TrustedClients::reload). An error (an unreadable
  /// bundle) keeps the running trust. Empty: a [tls] change waits for a restart.
  std::function<Result<void>(const config::TlsConfig& tls)> tls;
};

/// The [tls] target of a daemon whose outgoing clients are made through `trust`; `then` runs
/// after a successful switch (the daemon drops its syncs' cached configurations).
std::function<Result<void>(const config::TlsConfig&)> tls_reload_target(
    std::shared_ptr<net::TrustedClients> trust, std::function<void()> then = {});

/// The SIGHUP handler for a daemon started with `running`, read from `file`.
std::function<void()> make_reload(std::filesystem::path file, config::Config running,
                                  ReloadTargets targets = {});

}  // namespace agendasync::daemon
