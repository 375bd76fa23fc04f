#pragma once
/// The node registry (issue 17 §6): every node on one PostgreSQL writes its row (name,
/// version, start) and a heartbeat every few seconds; a node whose heartbeat is older than the
/// lease time is dead. Ownership counts the live nodes to know its fair share; GET
/// /api/v1/nodes lists the nodes with what they hold. Time is the server's (now()), so the
/// nodes' clocks need not agree.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "store/pg_pool.h"

namespace agendasync::cluster {

/// A lease some node holds: an organisation's ownership, or a pair's sync lease.
struct HeldLease {
  std::string org;
  std::string pair;  ///< empty for an organisation's ownership
  std::int64_t epoch = 0;
  double expires_in_seconds = 0;
};

/// One node as the registry sees it.
struct NodeStatus {
  std::string name;
  std::string version;
  std::int64_t started_at = 0;    ///< unix seconds
  std::int64_t heartbeat_at = 0;  ///< unix seconds
  double heartbeat_age_seconds = 0;
  bool alive = false;                    ///< heartbeat younger than the lease time and not stopped
  bool stopped = false;                  ///< left gracefully (SIGTERM)
  std::vector<HeldLease> organisations;  ///< the organisations whose watchers it runs
  std::vector<HeldLease> pairs;          ///< the pairs it is syncing right now
};

class NodeRegistry {
 public:
  /// `pool` reaches the cluster schema (cluster_schema.h). A node is dead once its heartbeat
  /// is older than `lease`.
  NodeRegistry(std::shared_ptr<store::pg::Pool> pool, std::string name, std::string version,
               std::chrono::milliseconds lease)
      : pool_(std::move(pool)),
        name_(std::move(name)),
        version_(std::move(version)),
        lease_(lease) {}

  /// Writes this node's row: started now, alive. A node restarting under the same name
  /// takes its row over.
  Result<void> join();
  /// Marks this node alive now (and writes its row again if an operator deleted it).
  Result<void> heartbeat();
  /// Marks this node stopped: it no longer counts as live, at once (SIGTERM).
  Result<void> leave();
  /// The nodes whose heartbeat is younger than the lease time.
  Result<std::size_t> live_nodes();
  /// Every node with its leases: organisations from the ownership table, pairs from the
  /// sync leases of the organisations `orgs` (their `org_<id>` schemas; the missing skipped).
  Result<std::vector<NodeStatus>> list(const std::vector<std::string>& orgs);

  const std::string& name() const { return name_; }
  std::chrono::milliseconds lease() const { return lease_; }

 private:
  std::shared_ptr<store::pg::Pool> pool_;
  std::string name_;
  std::string version_;
  std::chrono::milliseconds lease_;
};

}  // namespace agendasync::cluster
