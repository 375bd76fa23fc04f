#include "store/sync_state/pg_state_store.h"

#include <thread>

#include "store/sync_state/pg_sync_state.h"

namespace agendasync::store {

namespace {

std::int64_t seconds_of(Instant at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

/// The advisory lock class of pair locks (the other key is the pair's hash); the migration
/// lock uses another class, so the two never meet.
constexpr std::int64_t kPairLockClass = 0x41475350;  // "AGSP"

/// Holds the session advisory lock on its own connection; closing the connection releases it
/// (also when the process dies: the server ends the session).
struct AdvisoryLockGuard final : PairGuard {
  AdvisoryLockGuard(std::unique_ptr<pg::Connection> held, std::string locked_pair)
      : connection(std::move(held)), pair(std::move(locked_pair)) {}
  ~AdvisoryLockGuard() override {
    (void)connection->query("SELECT pg_advisory_unlock($1::integer, hashtext($2::text))",
                            {kPairLockClass, pair});
  }
  std::unique_ptr<pg::Connection> connection;
  std::string pair;
};

}  // namespace

Result<std::shared_ptr<pg::Pool>> PgStateStore::pool() {
  if (!pool_) {
    auto opened = open_pg_state_pool(target_);
    if (!opened) return std::unexpected(opened.error());
    pool_ = std::move(*opened);
  }
  return pool_;
}

Result<std::unique_ptr<sync::SyncState>> PgStateStore::state(const std::string& pair) {
  auto opened = pool();
  if (!opened) return std::unexpected(opened.error());
  return std::unique_ptr<sync::SyncState>(PgSyncState::over(*opened, pair));
}

Result<std::unique_ptr<sync::AuditSink>> PgStateStore::audit() {
  auto opened = pool();
  if (!opened) return std::unexpected(opened.error());
  return std::unique_ptr<sync::AuditSink>(PgAuditSink::over(*opened));
}

Result<void> PgStateStore::record_statuses(
    std::span<const std::pair<std::string, RunStatus>> statuses) {
  if (statuses.empty()) return {};
  auto opened = pool();
  if (!opened) return std::unexpected(opened.error());
  auto db = (*opened)->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg::transaction(conn, [&]() -> Result<void> {
    // Statuses need no flush of their own (as SQLite's synchronous=NORMAL for them): losing
    // the newest status line to a crash is harmless, the state's commits stay durable.
    if (auto relaxed = conn.exec("SET LOCAL synchronous_commit = off"); !relaxed) return relaxed;
    for (const auto& [pair, status] : statuses) {
      auto row = conn.run(
          "INSERT INTO sync_run_status(pair, at, outcome, summary, last_error, last_success) "
          "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (pair) DO UPDATE SET at = EXCLUDED.at, "
          "outcome = EXCLUDED.outcome, summary = EXCLUDED.summary, "
          "last_error = EXCLUDED.last_error, "
          "last_success = CASE WHEN EXCLUDED.last_success = 0 "
          "THEN sync_run_status.last_success ELSE EXCLUDED.last_success END",
          {pair, seconds_of(status.at), status.outcome, status.summary, status.last_error,
           seconds_of(status.last_success)});
      if (!row) return std::unexpected(row.error());
    }
    return {};
  });
}

Result<std::optional<RunStatus>> PgStateStore::last_run(const std::string& pair) {
  auto opened = pool();
  if (!opened) return std::unexpected(opened.error());
  auto db = (*opened)->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(
      "SELECT at, outcome, summary, last_error, last_success FROM sync_run_status "
      "WHERE pair = $1",
      {pair});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<RunStatus>{};
  RunStatus status;
  status.at = Instant{std::chrono::seconds{rows->int_at(0, 0)}};
  status.outcome = rows->text_at(0, 1);
  status.summary = rows->text_at(0, 2);
  status.last_error = rows->text_at(0, 3);
  status.last_success = Instant{std::chrono::seconds{rows->int_at(0, 4)}};
  return std::optional<RunStatus>{std::move(status)};
}

Result<std::unique_ptr<PairGuard>> PgStateStore::lock_pair(const std::string& pair,
                                                           std::chrono::milliseconds wait) {
  auto connection = pg::Connection::open(target_);
  if (!connection) return std::unexpected(connection.error());
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    // try + poll rather than a blocking pg_advisory_lock: the wait stays bounded without a
    // statement_timeout that would also cut the caller's own statements short.
    auto taken = (*connection)
                     ->query("SELECT pg_try_advisory_lock($1::integer, hashtext($2::text))",
                             {kPairLockClass, pair});
    if (!taken) return std::unexpected(taken.error());
    if (taken->bool_at(0, 0)) {
      return std::unique_ptr<PairGuard>(
          std::make_unique<AdvisoryLockGuard>(std::move(*connection), pair));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(ErrorKind::kTransient, "the pair of " + pair +
                                             " is being synced elsewhere (another process or node "
                                             "on " +
                                             (*connection)->where() + ") and stayed busy for " +
                                             std::to_string(wait.count()) +
                                             " ms; it is tried again at the next run");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace agendasync::store
