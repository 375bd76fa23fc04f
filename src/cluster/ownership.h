#pragma once
/// Real-time ownership (issue 17 §3): each organisation's real-time watchers (EWS streaming
/// groups, Graph subscriptions) and its safety net run on exactly one node at a time. A node
/// owns an organisation through a lease on its row of `org_owner` — taken with FOR UPDATE
/// SKIP LOCKED, renewed every tick (a third of the lease), each take raising the epoch —
/// and takes at most its fair share (organisations / live nodes, rounded up), so the load
/// spreads as nodes come and go: a node above its share gives the surplus back for one below
/// it. When a node dies its leases expire and the others take its organisations within the
/// lease time plus a tick. Why per organisation (not per stream group): docs/DECISIONS.md,
/// "Real-time ownership per organisation".
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/pg_pool.h"

namespace agendasync::cluster {

/// What one tick changed for this node.
struct OwnershipChanges {
  std::vector<std::string> gained;  ///< start the watchers
  std::vector<std::string> lost;    ///< stop the watchers (given back, taken over, expired)
};

/// ceil(orgs / live nodes); a node that sees no live node (its own heartbeat not written
/// yet) counts itself.
std::size_t fair_share(std::size_t orgs, std::size_t live_nodes);

class OrgOwnership {
 public:
  /// `pool` reaches the cluster schema; leases are held under `node` for `lease`.
  OrgOwnership(std::shared_ptr<store::pg::Pool> pool, std::string node,
               std::chrono::milliseconds lease)
      : pool_(std::move(pool)), node_(std::move(node)), lease_(lease) {}

  /// One round: renews what this node holds, gives back what it no longer serves (`orgs` are
  /// the organisations it serves now: the active ones) and what is above its fair share, and
  /// takes free organisations up to that share — or any organisation free for longer than two
  /// leases, so nothing stays unowned when the shares are miscounted. On an error nothing is
  /// reported lost here: owns() turns false on its own once the last renewal is a lease old.
  Result<OwnershipChanges> tick(const std::vector<std::string>& orgs, std::size_t live_nodes);
  /// Gives every organisation back at once (SIGTERM): the others need not wait for the
  /// expiry. Returns what this node held.
  Result<std::vector<std::string>> release_all();

  /// True while this node holds `org`'s lease: renewed less than a lease ago (a node that
  /// stalled stops believing it owns anything before it has heard it was taken over).
  bool owns(std::string_view org) const;
  /// The epoch of this node's lease on `org`; nullopt when it does not own it.
  std::optional<std::int64_t> epoch(std::string_view org) const;
  std::vector<std::string> owned() const;
  const std::string& node() const { return node_; }
  std::chrono::milliseconds lease() const { return lease_; }
  /// Lease renewals written since start (a metric: renewals per second).
  std::uint64_t renewals() const;

 private:
  using Clock = std::chrono::steady_clock;
  bool live(Clock::time_point now) const { return now < deadline_; }

  std::shared_ptr<store::pg::Pool> pool_;
  std::string node_;
  std::chrono::milliseconds lease_;
  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t, std::less<>> owned_;  ///< org -> epoch
  Clock::time_point deadline_{};                            ///< the last renewal's start + lease
  std::uint64_t renewals_ = 0;
  std::vector<std::string> rows_made_;  ///< orgs whose row exists (sorted)
};

/// `values` as a PostgreSQL text[] literal ({"a","b"}), each element quoted: for `= ANY($n)`.
std::string text_array(const std::vector<std::string>& values);

}  // namespace agendasync::cluster
