#pragma once
/// Many nodes on PostgreSQL (issue 17): the daemon's side of src/cluster. When `database`
/// names PostgreSQL the node joins the cluster and the hooks below make the rest of the
/// daemon follow it; on SQLite open_cluster_node returns null and nothing changes.
///   - scheduler: a wake-up of another node's organisation goes to its owner over NOTIFY;
///     the safety net runs only for the organisations this node owns;
///   - watchers: an organisation's EWS streams and Graph subscriptions start only while this
///     node owns it (start_organisation asks may_watch), and restart as ownership moves;
///   - HTTP: Retry-After / ErrorServerBusy back-offs are shared (net budget holds);
///   - API: GET /api/v1/nodes; metrics: agendasync_node_info and the cluster gauges.
#include <chrono>
#include <memory>
#include <string>

#include "cluster/node.h"
#include "config/config.h"
#include "core/error.h"
#include "service/server.h"

namespace agendasync::platform {
class Platform;
}

namespace agendasync::daemon {

struct ClusterSettings {
  std::string node_name;  ///< empty: the host name
  std::chrono::milliseconds lease{30'000};
};

/// Joins the cluster when `config.database` is PostgreSQL (null on SQLite). Fails when the
/// cluster tables are missing (run `agendasync migrate`) or the server is unreachable.
Result<std::shared_ptr<cluster::Node>> open_cluster_node(const config::Config& config,
                                                         const ClusterSettings& settings);

/// Sets the hooks in `options` (scheduler hand-over, the node listing, the node's ticking once
/// the server listens and its give-back first at shutdown). `organisations` lists the active
/// organisations.
void wire_cluster(std::shared_ptr<cluster::Node> node,
                  std::shared_ptr<platform::Platform> organisations,
                  service::ServerOptions& options);

/// Whether this node runs `org`'s real-time watchers now: always without a cluster.
bool may_watch(const std::shared_ptr<cluster::Node>& node, const std::string& org);

}  // namespace agendasync::daemon
