#include "store/pg_pool.h"

namespace agendasync::store::pg {

Borrowed::~Borrowed() {
  if (pool_ && connection_) pool_->give_back(std::move(connection_));
}

Result<std::shared_ptr<Pool>> Pool::open(Target target, PoolOptions options) {
  if (options.max_connections == 0) options.max_connections = 1;
  std::shared_ptr<Pool> pool(new Pool(std::move(target), options));
  auto first = pool->connect();
  if (!first) return std::unexpected(first.error());
  pool->where_ = (*first)->where();
  pool->open_ = 1;
  pool->idle_.push_back(std::move(*first));
  return pool;
}

Result<std::unique_ptr<Connection>> Pool::connect() {
  auto connection = Connection::open(target_);
  if (!connection) return connection;
  if (!options_.fsync_every_commit) {
    if (auto set = (*connection)->exec("SET synchronous_commit = off"); !set) {
      return std::unexpected(set.error());
    }
  }
  return connection;
}

Result<Borrowed> Pool::borrow() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + options_.wait;
  for (;;) {
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return Borrowed(this, std::move(connection));
    }
    if (open_ < options_.max_connections) {
      ++open_;
      lock.unlock();  // connecting takes a round trip or more; others may give back meanwhile
      auto connection = connect();
      if (!connection) {
        lock.lock();
        --open_;
        freed_.notify_one();
        return std::unexpected(connection.error());
      }
      return Borrowed(this, std::move(*connection));
    }
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.max_connections) {
      return fail(ErrorKind::kTransient,
                  "PostgreSQL " + where_ + ": all " + std::to_string(options_.max_connections) +
                      " connections of this node's pool stayed busy for " +
                      std::to_string(options_.wait.count()) +
                      " ms; the server is slow or a transaction hangs (pg_stat_activity shows "
                      "which)");
    }
  }
}

void Pool::give_back(std::unique_ptr<Connection> connection) {
  // A transaction left open (a caller returned mid-way) would hold its locks for the next
  // borrower: end it. A lost connection is dropped; the next borrow opens a new one.
  if (connection->healthy() && connection->in_transaction()) (void)connection->exec("ROLLBACK");
  std::lock_guard lock(mutex_);
  if (connection->healthy() && !connection->in_transaction()) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  freed_.notify_one();
}

}  // namespace agendasync::store::pg
