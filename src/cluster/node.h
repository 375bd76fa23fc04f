#pragma once
/// One node of a cluster on PostgreSQL, as the daemon uses it: the registry row and its
/// heartbeat, the organisations this node owns (ownership.h), wake-ups to and from the other
/// nodes (wake_bus.h) and the shared back-offs (budget_holds.h), driven by two threads: one
/// ticks (heartbeat and ownership every third of the lease, so a slow start of watchers never
/// delays a renewal), one runs the gained/lost callbacks in order.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/budget_holds.h"
#include "cluster/node_registry.h"
#include "cluster/ownership.h"
#include "cluster/pg_listener.h"
#include "cluster/wake_bus.h"
#include "core/error.h"

namespace agendasync::cluster {

struct NodeOptions {
  std::string database;  ///< the server: a libpq URI or keyword string
  std::string schema = "agendasync_cluster";
  std::string name;     ///< unique per node (serve --node-name; default: the host name)
  std::string version;  ///< shown by GET /api/v1/nodes
  /// Ownership leases and heartbeats: a node silent this long is dead and its organisations
  /// go to the others. Tests use ~2 s.
  std::chrono::milliseconds lease{30'000};
};

/// What one tick saw, for metrics.
struct NodeTick {
  std::size_t live_nodes = 0;
  std::size_t owned = 0;
  std::uint64_t renewals = 0;  ///< since start
  bool ok = true;              ///< false: PostgreSQL failed this tick (logged by the caller)
  std::string error;
};

struct NodeCallbacks {
  /// The organisations this node serves now (the active ones); read every tick.
  std::function<std::vector<std::string>()> organisations;
  /// This node now owns `org` (start its watchers, catch up its pairs) / no longer does
  /// (stop them). On the node's changes thread, one at a time, in order.
  std::function<void(const std::string& org)> gained;
  std::function<void(const std::string& org)> lost;
  /// A wake-up for an organisation this node owns, sent by another node. On the listener's
  /// thread: queue the run, never block.
  std::function<void(const Wake& wake)> wake;
  /// The LISTEN connection came back: wakes sent meanwhile are lost, so every pair of `org`
  /// (each organisation this node owns) is due. On the listener's thread.
  std::function<void(const std::string& org)> rescan;
  /// After each tick.
  std::function<void(const NodeTick& tick)> ticked;
};

class Node {
 public:
  /// Connects, checks the cluster tables (missing: run `agendasync migrate`), writes this
  /// node's registry row and starts listening. Owns nothing until run().
  static Result<std::unique_ptr<Node>> open(NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Starts ticking with `callbacks`.
  void run(NodeCallbacks callbacks);
  /// Graceful (SIGTERM): leaves the registry, gives every organisation back (lost callbacks
  /// run), stops the threads. Idempotent.
  void stop();

  /// Whether a wake-up of (`org`, `user`) runs here. False: this node owns `org` (or the
  /// wake came from another node: it runs here whatever happened since). True: it was handed
  /// to the owner — or dropped, for the safety net (`safety_net`), which each owner runs
  /// for its own organisations.
  bool route(const std::string& org, const std::string& user, const std::string& why,
             bool safety_net);
  bool owns(const std::string& org) const { return ownership_.owns(org); }
  std::vector<std::string> owned() const { return ownership_.owned(); }

  /// Shared back-offs for the node's HTTP client (net::ClientOptions::budget_holds).
  std::shared_ptr<net::BudgetHolds> budget_holds() const { return holds_; }
  /// Every node with its leases (GET /api/v1/nodes); `orgs`: whose pair leases to list.
  Result<std::vector<NodeStatus>> nodes(const std::vector<std::string>& orgs) {
    return registry_.list(orgs);
  }
  const std::string& name() const { return options_.name; }
  const WakeBus& wakes() const { return *bus_; }
  const PgListener& listener() const { return listener_; }

 private:
  Node(NodeOptions options, std::shared_ptr<store::pg::Pool> pool);
  void tick_loop();
  void change_loop();
  void apply(const OwnershipChanges& changes);

  NodeOptions options_;
  std::shared_ptr<store::pg::Pool> pool_;
  NodeRegistry registry_;
  OrgOwnership ownership_;
  PgListener listener_;
  std::unique_ptr<WakeBus> bus_;
  std::shared_ptr<PgBudgetHolds> holds_;
  NodeCallbacks callbacks_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool running_ = false;
  bool last_changes_queued_ = false;         ///< stop() queued the final lost callbacks
  std::vector<std::string> previous_owned_;  ///< ticker thread only
  /// (org, gained?) in the order ticks decided them.
  std::deque<std::pair<std::string, bool>> changes_;
  std::thread ticker_;
  std::thread changer_;
};

}  // namespace agendasync::cluster
