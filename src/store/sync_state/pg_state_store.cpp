#include "store/sync_state/pg_state_store.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <stop_token>
#include <thread>

#include "store/sync_state/pg_sync_state.h"

namespace agendasync::store {

namespace {

std::int64_t seconds_of(Instant at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

}  // namespace

/// Holds a pair's lease for one run: a thread renews it every ttl/3 (a run may last longer
/// than the ttl; a node that stops renewing, because it died or stalled, loses the pair), and
/// the destructor gives it back so the next run need not wait for the expiry.
class LeaseGuard final : public PairGuard {
 public:
  LeaseGuard(PgStateStore& store, std::shared_ptr<PgLeases> leases, Lease lease,
             std::chrono::milliseconds ttl)
      : store_(store), leases_(std::move(leases)), lease_(std::move(lease)) {
    renewer_ = std::jthread([this, ttl](std::stop_token stop) {
      std::mutex mutex;
      std::condition_variable_any wake;
      std::unique_lock lock(mutex);
      while (!stop.stop_requested()) {
        wake.wait_for(lock, stop, ttl / 3, [] { return false; });
        if (stop.stop_requested()) return;
        auto renewed = leases_->renew(lease_);
        // Lost (taken over): nothing to renew any more; the fence refuses this run's writes.
        if (renewed && !*renewed) return;
      }
    });
  }
  ~LeaseGuard() override {
    renewer_.request_stop();
    renewer_.join();
    store_.forget_lease(lease_.pair);
    (void)leases_->release(lease_);
  }

 private:
  PgStateStore& store_;
  std::shared_ptr<PgLeases> leases_;
  Lease lease_;
  std::jthread renewer_;
};

std::string default_node_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  return std::string(host) + ":" + std::to_string(::getpid());
}

PgStateStore::PgStateStore(pg::Target target, LeaseOptions leases)
    : target_(std::move(target)), leases_(std::move(leases)) {
  if (leases_.node.empty()) leases_.node = default_node_name();
}

void PgStateStore::forget_lease(const std::string& pair) {
  std::lock_guard lock(held_mutex_);
  held_.erase(pair);
}

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
  auto state = PgSyncState::over(*opened, pair);
  std::lock_guard lock(held_mutex_);
  if (auto held = held_.find(pair); held != held_.end()) state->fence(held->second);
  return std::unique_ptr<sync::SyncState>(std::move(state));
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
  // Statuses need no flush of their own (as SQLite's synchronous=NORMAL for them): losing
  // the newest status line to a crash is harmless, the state's commits stay durable. So the
  // transaction that writes them commits with synchronous_commit off: set_config(..., true)
  // lasts until its end, and PostgreSQL writes the commit record before it resets settings.
  // One status (a daemon's run) is one statement, its own transaction: it was four (BEGIN,
  // SET LOCAL, the upsert, COMMIT).
  constexpr const char* kUpsert =
      "INSERT INTO sync_run_status(pair, at, outcome, summary, last_error, last_success) "
      "SELECT $1::text, $2::bigint, $3::text, $4::text, $5::text, $6::bigint "
      "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed "
      // A late batch of the daemon's idle statuses keeps a newer run recorded meanwhile (by
      // another node or the CLI) and still moves last_success (run_status_table.cpp).
      "ON CONFLICT (pair) DO UPDATE SET at = GREATEST(sync_run_status.at, EXCLUDED.at), "
      "outcome = CASE WHEN EXCLUDED.at >= sync_run_status.at THEN EXCLUDED.outcome "
      "ELSE sync_run_status.outcome END, "
      "summary = CASE WHEN EXCLUDED.at >= sync_run_status.at THEN EXCLUDED.summary "
      "ELSE sync_run_status.summary END, "
      "last_error = CASE WHEN EXCLUDED.at >= sync_run_status.at THEN EXCLUDED.last_error "
      "ELSE sync_run_status.last_error END, "
      "last_success = GREATEST(sync_run_status.last_success, EXCLUDED.last_success)";
  auto upsert = [&](const std::string& pair, const RunStatus& status) -> Result<void> {
    auto row = conn.run(kUpsert, {pair, seconds_of(status.at), status.outcome, status.summary,
                                  status.last_error, seconds_of(status.last_success)});
    if (!row) return std::unexpected(row.error());
    return {};
  };
  if (statuses.size() == 1) return upsert(statuses.front().first, statuses.front().second);
  return pg::transaction(conn, [&]() -> Result<void> {
    for (const auto& [pair, status] : statuses) {
      if (auto written = upsert(pair, status); !written) return written;
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
  auto opened = pool();
  if (!opened) return std::unexpected(opened.error());
  auto leases = std::make_shared<PgLeases>(*opened, leases_.node, leases_.ttl);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto taken = leases->acquire(pair);
    if (!taken) return std::unexpected(taken.error());
    if (*taken) {
      {
        std::lock_guard lock(held_mutex_);
        held_[pair] = **taken;
      }
      return std::unique_ptr<PairGuard>(
          std::make_unique<LeaseGuard>(*this, std::move(leases), std::move(**taken), leases_.ttl));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(ErrorKind::kTransient, "the pair of " + pair +
                                             " is being synced by another process or node (its "
                                             "lease on " +
                                             (*opened)->where() + " is held) and stayed busy for " +
                                             std::to_string(wait.count()) +
                                             " ms; it is tried again at the next run");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace agendasync::store
