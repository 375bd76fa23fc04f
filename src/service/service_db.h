#pragma once
/// The service's own tables (API tokens, sealed secrets, webhooks, dead letters, sync status,
/// Graph subscriptions) in the agenda's SQLite file. The store's migrations have no extension
/// point, so these tables are created here with CREATE TABLE IF NOT EXISTS, all prefixed
/// `service_`, after the store has opened (and migrated) the file.
#include <filesystem>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "store/sqlite_connection.h"

namespace agendasync::service {

/// One connection shared by the service's stores; calls are serialised by a mutex because
/// an SQLite connection must not be used by two threads at once.
class ServiceDb {
 public:
  /// Opens `path` (which must exist: the store creates it) and creates the service tables.
  static Result<std::unique_ptr<ServiceDb>> open(const std::filesystem::path& path);

  /// Runs `body(connection)` under the lock.
  template <class F>
  auto with(F&& body) -> decltype(body(std::declval<store::sqlite::Connection&>())) {
    std::lock_guard lock(mutex_);
    return body(db_);
  }

 private:
  explicit ServiceDb(store::sqlite::Connection db) : db_(std::move(db)) {}
  std::mutex mutex_;
  store::sqlite::Connection db_;
};

/// Seconds since the Unix epoch, for the `*_at` columns.
std::int64_t unix_now();

}  // namespace agendasync::service
