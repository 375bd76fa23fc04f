#pragma once
/// What `systemctl reload agendasync` (SIGHUP) does: re-reads the configuration file, applies
/// what can change in a running daemon ([server] log_level) and logs, naming the sections,
/// what needs a restart; a file that no longer parses is logged and the running settings stay.
#include <filesystem>
#include <functional>

#include "config/config.h"

namespace agendasync::daemon {

/// Sets the daemon's log level from `level` (config::ServerConfig::log_level's names).
void apply_log_level(const std::string& level);

/// The SIGHUP handler for a daemon started with `running`, read from `file`.
std::function<void()> make_reload(std::filesystem::path file, config::Config running);

}  // namespace agendasync::daemon
