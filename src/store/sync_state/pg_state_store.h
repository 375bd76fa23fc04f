#pragma once
/// StateStore in an organisation's PostgreSQL schema: the pool opens on first use, run
/// statuses are rows of sync_run_status, and a pair is locked by a lease with fencing
/// (pg_lease.h): taken for `ttl`, renewed by the process's one renewer thread while the run
/// lasts, given back when it ends, and every write of the pair's state made while it is held
/// checks its epoch. A node that dies holds its pairs until the ttl runs out; one that stalls
/// past it has its late writes refused.
#include <map>
#include <mutex>

#include "store/pg_pool.h"
#include "store/sync_state/pg_lease.h"
#include "store/sync_state/state_store.h"

namespace agendasync::store {

/// host:pid, the default node name: unique per process on a machine.
std::string default_node_name();

class PgStateStore final : public StateStore {
 public:
  explicit PgStateStore(pg::Target target, LeaseOptions leases = {});

  /// The schema must exist: a dry run reads it, never creates it.
  bool exists() override { return true; }
  Result<std::unique_ptr<sync::SyncState>> state(const std::string& pair) override;
  Result<std::unique_ptr<sync::AuditSink>> audit() override;
  Result<void> record_statuses(
      std::span<const std::pair<std::string, RunStatus>> statuses) override;
  Result<std::optional<RunStatus>> last_run(const std::string& pair) override;
  Result<std::unique_ptr<PairGuard>> lock_pair(const std::string& pair,
                                               std::chrono::milliseconds wait) override;

 private:
  friend class LeaseGuard;
  Result<std::shared_ptr<pg::Pool>> pool();
  void forget_lease(const std::string& pair);

  pg::Target target_;
  LeaseOptions leases_;
  std::shared_ptr<pg::Pool> pool_;
  /// The leases this store's runs hold now, by pair: state(pair) fences with them.
  std::mutex held_mutex_;
  std::map<std::string, Lease> held_;
};

}  // namespace agendasync::store
