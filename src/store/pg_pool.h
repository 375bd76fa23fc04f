#pragma once
/// A small pool of PostgreSQL connections to one target (server + organisation schema): the
/// store's methods run on many threads, each borrows a connection for one transaction.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "store/pg_connection.h"

namespace agendasync::store::pg {

struct PoolOptions {
  /// Connections open at most at once. A node holds one pool per open organisation, so this
  /// stays small; PostgreSQL's max_connections must cover nodes x organisations x this.
  std::size_t max_connections = 4;
  /// How long a borrower waits for a free connection before kTransient.
  std::chrono::milliseconds wait{30'000};
  /// false: commits do not wait for the WAL flush (synchronous_commit = off), as SQLite's
  /// synchronous=NORMAL for the daemon's API (docs/DECISIONS.md "API write durability").
  bool fsync_every_commit = true;
};

class Pool;

/// A borrowed connection; goes back to the pool when destroyed (dropped when broken).
class Borrowed {
 public:
  Borrowed(Pool* pool, std::unique_ptr<Connection> connection)
      : pool_(pool), connection_(std::move(connection)) {}
  Borrowed(Borrowed&&) noexcept = default;
  Borrowed& operator=(Borrowed&&) = delete;
  ~Borrowed();
  Connection& operator*() { return *connection_; }
  Connection* operator->() { return connection_.get(); }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> connection_;
};

class Pool {
 public:
  /// Opens the first connection at once, so a wrong address or password fails here, naming
  /// what to fix, rather than at the first query.
  static Result<std::shared_ptr<Pool>> open(Target target, PoolOptions options = {});
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  Result<Borrowed> borrow();
  const Target& target() const { return target_; }
  const std::string& where() const { return where_; }

 private:
  friend class Borrowed;
  Pool(Target target, PoolOptions options) : target_(std::move(target)), options_(options) {}
  Result<std::unique_ptr<Connection>> connect();
  void give_back(std::unique_ptr<Connection> connection);

  Target target_;
  PoolOptions options_;
  std::string where_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
};

}  // namespace agendasync::store::pg
