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
/// listener by the socket. [tls] is listed only when no reload target applies it.
std::vector<std::string> needs_restart(const config::Config& running, const config::Config& now) {
  std::vector<std::string> changed;
  if (running.database != now.database) changed.push_back("database");
  if (running.exchange != now.exchange) changed.push_back("[exchange]");
  if (running.graph != now.graph) changed.push_back("[graph]");
  if (running.sync != now.sync) changed.push_back("[sync]");
  auto server = now.server;
  server.log_level = running.server.log_level;
  if (running.server != server) changed.push_back("[server]");
  if (running.cluster != now.cluster) changed.push_back("[cluster]");
  if (running.tls != now.tls) changed.push_back("[tls]");
  return changed;
}

/// Applies [tls] through `targets`: when it changed, and also when a bundle is set, since an
/// operator renewing a CA replaces the file in place and reloads. Logs either way.
void reload_tls(const ReloadTargets& targets, config::Config& running, const config::Config& now) {
  if (!targets.tls) return;
  if (running.tls == now.tls && now.tls.ca_bundle.empty()) return;
  if (auto applied = targets.tls(now.tls); !applied) {
    service::log_event(spdlog::level::err, "reload_failed",
                       {{"section", "[tls]"},
                        {"detail", applied.error().message +
                                       "; outgoing connections keep the running TLS trust"}});
    return;
  }
  running.tls = now.tls;
  service::log_event(spdlog::level::info, "tls_trust_reloaded",
                     {{"ca_bundle", now.tls.ca_bundle.string()},
                      {"proxy", now.tls.proxy.empty() ? "none" : "set"},
                      {"detail",
                       "new outgoing requests use this trust; requests in flight finish on the "
                       "connections they started on"}});
}

}  // namespace

std::function<Result<void>(const config::TlsConfig&)> tls_reload_target(
    std::shared_ptr<net::TrustedClients> trust, std::function<void()> then) {
  return [trust = std::move(trust), then = std::move(then)](const config::TlsConfig& tls) {
    auto switched = trust->reload(tls.ca_bundle.string(), tls.proxy);
    if (!switched) return Result<void>(std::unexpected(switched.error()));
    if (then) then();
    return Result<void>();
  };
}

std::function<void()> make_reload(std::filesystem::path file, config::Config running,
                                  ReloadTargets targets) {
  auto state = std::make_shared<std::pair<std::mutex, config::Config>>();
  state->second = std::move(running);
  return [file = std::move(file), state, targets = std::move(targets)] {
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
    reload_tls(targets, running, *now);
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
