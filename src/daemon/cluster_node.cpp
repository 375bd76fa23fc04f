#include "daemon/cluster_node.h"

#include <unistd.h>

#include "platform/platform.h"
#include "service/log.h"
#include "service/tenant.h"
#include "store/database_locator.h"

#ifndef AGENDASYNC_VERSION
#define AGENDASYNC_VERSION "0.0.0"
#endif

namespace agendasync::daemon {

namespace {

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "node";
  return host;
}

/// The active organisations: the ones whose watchers some node must run.
std::vector<std::string> active_organisations(platform::Platform& platform) {
  std::vector<std::string> out;
  auto listed = platform.organisations();
  if (!listed) return out;
  for (const auto& organisation : *listed) {
    if (organisation.state == platform::OrgState::kActive) out.push_back(organisation.id);
  }
  return out;
}

/// Every pair of `org` that syncs, queued as the safety net would (after a lost LISTEN).
void trigger_all(service::Server& server, const std::string& org) {
  auto tenant = server.tenant(org);
  if (!tenant) return;
  auto users = tenant->store().users();
  if (!users) return;
  for (const auto& user : *users) {
    if (user.sync_enabled && !user.blocked) {
      server.scheduler().trigger(service::PairRef{org, user.user_name},
                                 service::Trigger::kSafetyNet);
    }
  }
}

}  // namespace

Result<std::shared_ptr<cluster::Node>> open_cluster_node(const config::Config& config,
                                                         const ClusterSettings& settings) {
  if (!store::is_postgres_locator(config.database.string())) {
    return std::shared_ptr<cluster::Node>();
  }
  cluster::NodeOptions options;
  options.database = config.database.string();
  options.name = settings.node_name.empty() ? host_name() : settings.node_name;
  options.version = AGENDASYNC_VERSION;
  options.lease = settings.lease;
  auto node = cluster::Node::open(options);
  if (!node) return std::unexpected(node.error());
  service::log_event(spdlog::level::info, "cluster_joined",
                     {{"node", options.name}, {"lease_ms", options.lease.count()}});
  return std::shared_ptr<cluster::Node>(std::move(*node));
}

bool may_watch(const std::shared_ptr<cluster::Node>& node, const std::string& org) {
  return !node || node->owns(org);
}

void wire_cluster(std::shared_ptr<cluster::Node> node,
                  std::shared_ptr<platform::Platform> organisations,
                  service::ServerOptions& options) {
  options.scheduler.elsewhere = [node](const service::PairRef& pair, service::Trigger why) {
    return node->route(pair.org, pair.user, service::to_string(why),
                       why == service::Trigger::kSafetyNet);
  };
  options.nodes = [node, organisations]() {
    return node->nodes(active_organisations(*organisations));
  };
  auto previous = std::move(options.start_companions);
  options.start_companions = [node, organisations,
                              previous](service::Server& server) -> Result<std::function<void()>> {
    std::function<void()> stop_previous;
    if (previous) {
      auto started = previous(server);
      if (!started) return started;
      stop_previous = std::move(*started);
    }
    service::Metrics& metrics = server.metrics();
    metrics.set(service::metric::kNodeInfo,
                {{"node", node->name()}, {"version", AGENDASYNC_VERSION}}, 1);
    auto last_renewals = std::make_shared<std::uint64_t>(0);
    auto last_sent = std::make_shared<std::uint64_t>(0);
    auto last_received = std::make_shared<std::uint64_t>(0);
    cluster::NodeCallbacks callbacks;
    // The node keeps these callbacks: they hold its name, never the node itself (a
    // shared_ptr to it would keep it alive forever, LeakSanitizer found that).
    const std::string name = node->name();
    callbacks.organisations = [organisations] { return active_organisations(*organisations); };
    // Gaining or losing an organisation refreshes it: start_organisation starts its watchers
    // only while this node owns it (may_watch), and its catch-up runs here only then.
    callbacks.gained = [&server, name](const std::string& org) {
      service::log_event(spdlog::level::info, "organisation_owned", {{"org", org}, {"node", name}});
      (void)server.refresh_organisation(org);
    };
    callbacks.lost = [&server, name](const std::string& org) {
      service::log_event(spdlog::level::info, "organisation_given_up",
                         {{"org", org}, {"node", name}});
      (void)server.refresh_organisation(org);
    };
    callbacks.wake = [&server](const cluster::Wake& wake) {
      const auto why = service::parse_trigger(wake.why).value_or(service::Trigger::kSyncNow);
      server.scheduler().trigger(service::PairRef{wake.org, wake.user}, why);
    };
    callbacks.rescan = [&server](const std::string& org) {
      service::log_event(spdlog::level::warn, "cluster_rescan",
                         {{"org", org},
                          {"detail",
                           "the LISTEN connection dropped: wake-ups sent meanwhile "
                           "were lost, every pair of the organisation is due"}});
      trigger_all(server, org);
    };
    callbacks.ticked = [&metrics, name, weak = std::weak_ptr<cluster::Node>(node), last_renewals,
                        last_sent, last_received](const cluster::NodeTick& tick) {
      const service::Labels labels = {{"node", name}};
      const auto node = weak.lock();
      if (!node) return;
      if (!tick.ok) {
        service::log_event(spdlog::level::warn, "cluster_tick_failed",
                           {{"node", node->name()}, {"error", tick.error}});
        return;
      }
      metrics.set(service::metric::kLiveNodes, labels, static_cast<double>(tick.live_nodes));
      metrics.set(service::metric::kOwnedOrganisations, labels, static_cast<double>(tick.owned));
      metrics.add(service::metric::kLeaseRenewals, labels,
                  static_cast<double>(tick.renewals - *last_renewals));
      *last_renewals = tick.renewals;
      const auto sent = node->wakes().sent();
      const auto received = node->wakes().received();
      metrics.add(service::metric::kNodeWakeups, {{"node", node->name()}, {"direction", "sent"}},
                  static_cast<double>(sent - *last_sent));
      metrics.add(service::metric::kNodeWakeups,
                  {{"node", node->name()}, {"direction", "received"}},
                  static_cast<double>(received - *last_received));
      *last_sent = sent;
      *last_received = received;
    };
    node->run(std::move(callbacks));
    // At shutdown the node leaves and gives its organisations back first (their watchers
    // stop as each is lost), so the others take them at their next tick.
    return std::function<void()>([node, stop_previous] {
      node->stop();
      if (stop_previous) stop_previous();
    });
  };
}

}  // namespace agendasync::daemon
