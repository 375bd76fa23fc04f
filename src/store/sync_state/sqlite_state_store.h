#pragma once
/// StateStore over the SQLite state file (`<agenda>.sync.db`), opened on first use and kept
/// open: a cycle over many pairs opens no file per pair. Pair locks are OFD locks beside it.
#include "store/sqlite_connection.h"
#include "store/sync_state/pair_lock.h"
#include "store/sync_state/state_store.h"

namespace agendasync::store {

class SqliteStateStore final : public StateStore {
 public:
  explicit SqliteStateStore(std::filesystem::path path) : path_(path), locks_(std::move(path)) {}

  bool exists() override;
  Result<std::unique_ptr<sync::SyncState>> state(const std::string& pair) override;
  Result<std::unique_ptr<sync::AuditSink>> audit() override;
  Result<void> record_statuses(
      std::span<const std::pair<std::string, RunStatus>> statuses) override;
  Result<std::optional<RunStatus>> last_run(const std::string& pair) override;
  Result<std::unique_ptr<PairGuard>> lock_pair(const std::string& pair,
                                               std::chrono::milliseconds wait) override;

 private:
  Result<std::shared_ptr<sqlite::Connection>> database();
  std::filesystem::path path_;
  std::shared_ptr<sqlite::Connection> db_;
  /// The lock file, opened at the first lock and kept (not opened and closed per pair).
  PairLockFile locks_;
};

}  // namespace agendasync::store
