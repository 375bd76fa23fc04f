#pragma once
/// The service's own tables (API tokens, sealed secrets, webhooks, dead letters, sync status,
/// Graph subscriptions) in the agenda's SQLite file. The store's migrations have no extension
/// point, so these tables are created here with CREATE TABLE IF NOT EXISTS, all prefixed
/// `service_`, after the store has opened (and migrated) the file.
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "store/sqlite_connection.h"

namespace agendasync::service {

/// The service's stores share one writer connection, serialised by a mutex because an SQLite
/// connection must not be used by two threads at once, and a few reader connections for the
/// reads every request makes (token checks, status): under WAL they run alongside each other
/// and the writer instead of queueing behind it.
class ServiceDb {
 public:
  /// Opens `path` (which must exist: the store creates it) and creates the service tables.
  /// `fsync_every_commit` false: the writer commits with `synchronous = NORMAL` (see
  /// store::SqliteOptions::fsync_every_commit).
  static Result<std::unique_ptr<ServiceDb>> open(const std::filesystem::path& path,
                                                 std::size_t readers = 4,
                                                 bool fsync_every_commit = true);

  /// Runs `body(connection)` on the writer connection, under its lock.
  template <class F>
  auto with(F&& body) -> decltype(body(std::declval<store::sqlite::Connection&>())) {
    std::lock_guard lock(mutex_);
    return body(db_);
  }

  /// Runs `body(connection)` on an idle reader connection (waiting when all are busy), or on
  /// the writer when opened with no readers. Only for statements that do not write.
  template <class F>
  auto read(F&& body) -> decltype(body(std::declval<store::sqlite::Connection&>())) {
    if (reader_count_ == 0) return with(std::forward<F>(body));
    std::unique_ptr<store::sqlite::Connection> reader;
    {
      std::unique_lock lock(readers_mutex_);
      reader_idle_.wait(lock, [this] { return !readers_.empty(); });
      reader = std::move(readers_.back());
      readers_.pop_back();
    }
    auto result = body(*reader);
    {
      std::lock_guard lock(readers_mutex_);
      readers_.push_back(std::move(reader));
    }
    reader_idle_.notify_one();
    return result;
  }

 private:
  explicit ServiceDb(store::sqlite::Connection db) : db_(std::move(db)) {}
  std::mutex mutex_;
  store::sqlite::Connection db_;
  std::mutex readers_mutex_;
  std::condition_variable reader_idle_;
  std::vector<std::unique_ptr<store::sqlite::Connection>> readers_;
  std::size_t reader_count_ = 0;
};

/// Seconds since the Unix epoch, for the `*_at` columns.
std::int64_t unix_now();

}  // namespace agendasync::service
