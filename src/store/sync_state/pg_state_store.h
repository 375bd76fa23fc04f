#pragma once
/// StateStore in an organisation's PostgreSQL schema: the pool opens on first use, run
/// statuses are rows of sync_run_status, and a pair's lock is a session advisory lock on a
/// connection of its own, so it excludes runs on every node and the server drops it when the
/// holder's connection dies (a killed node). It does not fence a holder that stalls while its
/// connection stays up: leases with an epoch checked on every commit do (issue 17 §3).
#include "store/pg_pool.h"
#include "store/sync_state/state_store.h"

namespace agendasync::store {

class PgStateStore final : public StateStore {
 public:
  explicit PgStateStore(pg::Target target) : target_(std::move(target)) {}

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
  Result<std::shared_ptr<pg::Pool>> pool();
  pg::Target target_;
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace agendasync::store
