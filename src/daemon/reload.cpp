#include "daemon/reload.h"

#include <memory>
#include <mutex>
#include <vector>

#include "service/log.h"

namespace agendasync::daemon {

void apply_log_level(const std::string& level) {
  service::service_logger()->set_level(spdlog::level::from_str(level));
}

namespace {

/// The sections of `now` that differ from `running` and only take effect at a restart: the
/// connections and sync defaults are captured by the organisations' syncs and watchers, the
/// listener by the socket, the TLS trust by the HTTP clients made at start.
std::vector<std::string> needs_restart(const config::Config& running, const config::Config& now) {
  std::vector<std::string> changed;
  if (running.database != now.database) changed.push_back("database");
  if (running.exchange != now.exchange) changed.push_back("[exchange]");
  if (running.graph != now.graph) changed.push_back("[graph]");
  if (running.sync != now.sync) changed.push_back("[sync]");
  auto server = now.server;
  server.log_level = running.server.log_level;
  if (running.server != server) changed.push_back("[server]");
  if (running.tls != now.tls) changed.push_back("[tls]");
  return changed;
}

}  // namespace

std::function<void()> make_reload(std::filesystem::path file, config::Config running) {
  auto state = std::make_shared<std::pair<std::mutex, config::Config>>();
  state->second = std::move(running);
  return [file = std::move(file), state] {
    std::lock_guard lock(state->first);
    auto now = config::load_config(file);
    if (!now) {
      service::log_event(spdlog::level::err, "reload_failed",
                         {{"file", file.string()},
                          {"detail", now.error().message + "; the running settings stay"}});
      return;
    }
    auto& running = state->second;
    if (now->server.log_level != running.server.log_level) {
      apply_log_level(now->server.log_level);
      running.server.log_level = now->server.log_level;
    }
    auto changed = needs_restart(running, *now);
    service::log_event(spdlog::level::info, "reloaded",
                       {{"file", file.string()}, {"log_level", running.server.log_level}});
    if (!changed.empty()) {
      // Said, not half-applied: these keep their running values until a restart.
      service::log_event(spdlog::level::warn, "reload_needs_restart",
                         {{"sections", changed},
                          {"detail",
                           "these changes apply at the next restart "
                           "(systemctl restart agendasync)"}});
    }
  };
}

}  // namespace agendasync::daemon
