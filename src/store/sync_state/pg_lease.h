#pragma once
/// Leases with fencing on PostgreSQL (issue 17 §3): which node syncs a pair now. A node takes
/// a pair's lease for a time (`ttl`), renews it while it works and gives it back when done; a
/// lease whose node died (or stalled past its expiry) can be taken by another node, and every
/// take raises the pair's epoch. Commits of the pair's state carry the epoch they were made
/// under (PgSyncState::fence): a node that stalled, lost its lease and wakes up has its batch
/// refused instead of writing over the new holder's work. Time is the server's (now()), so
/// nodes' clocks need not agree.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/pg_pool.h"

namespace agendasync::store {

struct Lease {
  std::string pair;
  std::string holder;
  std::int64_t epoch = 0;
};

class PgLeases {
 public:
  /// Leases of the organisation `pool` reaches, held under the name `node` for `ttl`.
  PgLeases(std::shared_ptr<pg::Pool> pool, std::string node, std::chrono::milliseconds ttl)
      : pool_(std::move(pool)), node_(std::move(node)), ttl_(ttl) {}

  /// Takes `pair` when nobody holds it: never leased, expired, or given back. nullopt while
  /// another node's lease is live, or another node is taking it this very moment (SKIP
  /// LOCKED: nobody waits on a pair someone else is busy with).
  Result<std::optional<Lease>> acquire(const std::string& pair);
  /// Takes up to `limit` pairs whose leases are free (expired or given back), the longest
  /// free first; nodes asking at once get disjoint pairs (FOR UPDATE SKIP LOCKED).
  Result<std::vector<Lease>> acquire_due(std::size_t limit);
  /// Extends a live lease by `ttl`. false: the lease is no longer this one (taken over).
  Result<bool> renew(const Lease& lease);
  /// Gives the pair back at once (the next node need not wait for the expiry).
  Result<void> release(const Lease& lease);

  const std::string& node() const { return node_; }

 private:
  std::shared_ptr<pg::Pool> pool_;
  std::string node_;
  std::chrono::milliseconds ttl_;
};

}  // namespace agendasync::store
