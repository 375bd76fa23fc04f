#include "store/sync_state/pg_state_store.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "store/sync_state/pg_sync_state.h"

namespace agendasync::store {

namespace {

std::int64_t seconds_of(Instant at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

}  // namespace

/// Renews every lease this process's runs hold, on one thread (issue 14 §4: a thread per run
/// cost a clone and a join per idle run). Each lease is renewed every ttl/3 from when it was
/// taken (a run may last longer than the ttl; a node that stops renewing, because it died or
/// stalled, loses the pair). One slow renewal delays the others by its duration, far below
/// ttl/3; a hung database loses every lease, which fencing makes safe. The thread starts at
/// the first lease and lives as long as the process; a forked child starts its own.
class LeaseRenewer {
 public:
  static LeaseRenewer& instance() {
    static std::mutex guard;
    static LeaseRenewer* current = nullptr;
    std::lock_guard lock(guard);
    // Never deleted: the thread waits on it until the process ends. A child of fork() has no
    // thread: it gets a renewer of its own (the parent's copy is left alone).
    if (current == nullptr || current->pid_ != ::getpid()) current = new LeaseRenewer();
    return *current;
  }

  std::uint64_t add(std::shared_ptr<PgLeases> leases, Lease lease, std::chrono::milliseconds ttl) {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    const auto every = std::max(ttl / 3, std::chrono::milliseconds(1));
    const std::uint64_t id = next_id_++;
    held_.emplace(id, Held{std::move(leases), std::move(lease), every,
                           std::chrono::steady_clock::now() + every});
    changed_.notify_all();
    return id;
  }

  /// Once it returns, the lease is not renewed again (a renewal under way has ended).
  void remove(std::uint64_t id) {
    std::unique_lock lock(mutex_);
    held_.erase(id);
    changed_.wait(lock, [&] { return renewing_ != id; });
  }

 private:
  struct Held {
    std::shared_ptr<PgLeases> leases;
    Lease lease;
    std::chrono::milliseconds every;
    std::chrono::steady_clock::time_point due;
  };

  LeaseRenewer() : pid_(::getpid()) {}

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (held_.empty()) {
        changed_.wait(lock);
        continue;
      }
      auto next = held_.begin();
      for (auto it = held_.begin(); it != held_.end(); ++it) {
        if (it->second.due < next->second.due) next = it;
      }
      const auto now = std::chrono::steady_clock::now();
      if (next->second.due > now) {
        // A copy: while this waits, remove() may erase the entry (ASan caught the wait
        // reading a freed node through the reference).
        const auto due = next->second.due;
        changed_.wait_until(lock, due);
        continue;
      }
      const std::uint64_t id = next->first;
      auto leases = next->second.leases;
      const Lease lease = next->second.lease;
      next->second.due = now + next->second.every;
      renewing_ = id;
      lock.unlock();
      auto renewed = leases->renew(lease);
      lock.lock();
      renewing_ = 0;
      // Lost (taken over): nothing to renew any more; the fence refuses this run's writes.
      if (renewed && !*renewed) held_.erase(id);
      changed_.notify_all();
    }
  }

  const pid_t pid_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Held> held_;
  std::uint64_t next_id_ = 1;
  std::uint64_t renewing_ = 0;  ///< the lease being renewed now (0: none)
  std::thread thread_;
};

/// Holds a pair's lease for one run: renewed by the LeaseRenewer while the run lasts, and
/// given back by the destructor so the next run need not wait for the expiry.
class LeaseGuard final : public PairGuard {
 public:
  LeaseGuard(PgStateStore& store, std::shared_ptr<PgLeases> leases, Lease lease,
             std::chrono::milliseconds ttl)
      : store_(store),
        leases_(std::move(leases)),
        lease_(std::move(lease)),
        renewal_(LeaseRenewer::instance().add(leases_, lease_, ttl)),
        renewer_(LeaseRenewer::instance()) {}
  ~LeaseGuard() override {
    renewer_.remove(renewal_);
    store_.forget_lease(lease_.pair);
    (void)leases_->release(lease_);
  }

 private:
  PgStateStore& store_;
  std::shared_ptr<PgLeases> leases_;
  Lease lease_;
  std::uint64_t renewal_;
  LeaseRenewer& renewer_;
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
