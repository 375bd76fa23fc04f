#include "store/sync_state/sqlite_state_store.h"

#include "store/sync_state/pair_lock.h"
#include "store/sync_state/sqlite_sync_state.h"

namespace agendasync::store {

namespace {

struct FileLockGuard final : PairGuard {
  explicit FileLockGuard(PairLock held) : lock(std::move(held)) {}
  PairLock lock;
};

}  // namespace

Result<std::shared_ptr<sqlite::Connection>> SqliteStateStore::database() {
  if (!db_) {
    auto opened = open_state_database(path_);
    if (!opened) return std::unexpected(opened.error());
    db_ = std::move(*opened);
  }
  return db_;
}

bool SqliteStateStore::exists() {
  std::error_code ec;
  return db_ || std::filesystem::exists(path_, ec);
}

Result<std::unique_ptr<sync::SyncState>> SqliteStateStore::state(const std::string& pair) {
  auto db = database();
  if (!db) return std::unexpected(db.error());
  return std::unique_ptr<sync::SyncState>(SqliteSyncState::over(*db, pair));
}

Result<std::unique_ptr<sync::AuditSink>> SqliteStateStore::audit() {
  auto db = database();
  if (!db) return std::unexpected(db.error());
  return std::unique_ptr<sync::AuditSink>(SqliteAuditSink::over(*db));
}

Result<void> SqliteStateStore::record_statuses(
    std::span<const std::pair<std::string, RunStatus>> statuses) {
  auto db = database();
  if (!db) return std::unexpected(db.error());
  return SqliteRunStatus(*db).record_all(statuses);
}

Result<std::optional<RunStatus>> SqliteStateStore::last_run(const std::string& pair) {
  auto db = database();
  if (!db) return std::unexpected(db.error());
  return SqliteRunStatus(*db).read(pair);
}

Result<std::unique_ptr<PairGuard>> SqliteStateStore::lock_pair(const std::string& pair,
                                                               std::chrono::milliseconds wait) {
  auto locked = locks_.acquire(pair, wait);
  if (!locked) return std::unexpected(locked.error());
  return std::unique_ptr<PairGuard>(std::make_unique<FileLockGuard>(std::move(*locked)));
}

}  // namespace agendasync::store
