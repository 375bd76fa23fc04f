#pragma once
/// Where an app keeps its organisation's sync state, audit trail, run statuses and pair locks:
/// the SQLite state file beside the agenda, or the organisation's PostgreSQL schema. The app
/// asks for what it needs per pair and never learns which one it is. One thread at a time.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "store/sync_state/run_status_table.h"
#include "sync/audit.h"
#include "sync/sync_state.h"

namespace agendasync::store {

/// Held while a pair runs; destroying it lets the next run of the pair in.
class PairGuard {
 public:
  virtual ~PairGuard() = default;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  /// False while nothing was ever stored (no state file yet): a dry run then plans against
  /// empty memory and status reports no runs, creating nothing (R37).
  virtual bool exists() = 0;
  virtual Result<std::unique_ptr<sync::SyncState>> state(const std::string& pair) = 0;
  virtual Result<std::unique_ptr<sync::AuditSink>> audit() = 0;
  /// Records the runs of many pairs at once (RunStatus: last_success carries over when a run
  /// did not succeed).
  virtual Result<void> record_statuses(
      std::span<const std::pair<std::string, RunStatus>> statuses) = 0;
  virtual Result<std::optional<RunStatus>> last_run(const std::string& pair) = 0;
  /// One run of `pair` at a time across threads, processes and (on PostgreSQL) nodes,
  /// waiting up to `wait`; kTransient when it stays taken. The holder's death releases it.
  virtual Result<std::unique_ptr<PairGuard>> lock_pair(const std::string& pair,
                                                       std::chrono::milliseconds wait) = 0;
};

/// How a node holds its pairs on PostgreSQL (pg_lease.h); unused on SQLite.
struct LeaseOptions {
  /// The name leases are held under (`serve --node-name`, `[server] node_name`); empty:
  /// host:pid.
  std::string node;
  /// How long a lease lasts without renewal (`[cluster] lease_seconds`); the run renews it
  /// every ttl/3.
  std::chrono::milliseconds ttl{30'000};
};

/// The state store of organisation `org` where `database` says: the organisation's schema on
/// a PostgreSQL server (opened on first use, its pairs leased as `leases` say), else the
/// SQLite file `sqlite_state_path`.
Result<std::unique_ptr<StateStore>> open_state_store(std::string_view database,
                                                     std::string_view org,
                                                     const std::filesystem::path& sqlite_state_path,
                                                     const LeaseOptions& leases = {});

}  // namespace agendasync::store
