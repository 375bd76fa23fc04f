#pragma once
/// The service's own tables (API tokens, console sessions and login links, sealed secrets,
/// webhooks, dead letters, sync status, Graph subscriptions), written once for both engines
/// through store::sql::Database:
/// - SQLite: in the agenda's file. The store's migrations have no extension point, so these
///   tables are created here with CREATE TABLE IF NOT EXISTS, all prefixed `service_`, after
///   the store has opened (and migrated) the file.
/// - PostgreSQL: an organisation's tables in its schema (`org_<id>`), the node-wide ones
///   (tokens, sessions) in the platform schema; both made by `agendasync migrate`
///   (store/pg_schema.cpp). Opening checks the schema version and never changes it.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string_view>

#include "core/error.h"
#include "store/sql_database.h"

namespace agendasync::service {

/// Owns the database the service's stores share: one writer connection and a few readers for
/// the reads every request makes (token checks, status) on SQLite, a pool on PostgreSQL.
class ServiceDb {
 public:
  /// SQLite: opens `path` (which must exist: the store creates it) and creates the service
  /// tables. `fsync_every_commit` false: the writer commits with `synchronous = NORMAL` (see
  /// store::SqliteOptions::fsync_every_commit).
  static Result<std::unique_ptr<ServiceDb>> open(
      const std::filesystem::path& path, std::size_t readers = 4, bool fsync_every_commit = true,
      std::chrono::milliseconds reader_idle_limit = std::chrono::seconds(30));

  /// An organisation's service tables where `database` says: the SQLite file `database` (the
  /// organisation's agenda; `org` unused), or organisation `org`'s schema on the PostgreSQL
  /// server `database` names.
  /// SQLite readers are opened when needed and closed `reader_idle_limit` after their last use.
  static Result<std::unique_ptr<ServiceDb>> open_organisation(
      std::string_view database, std::string_view org, std::size_t readers = 4,
      bool fsync_every_commit = true,
      std::chrono::milliseconds reader_idle_limit = std::chrono::seconds(30));

  /// The node's service tables, which every organisation shares (API tokens, console
  /// sessions): the SQLite file `database` (organisation default's agenda, which must
  /// exist), or the platform schema on the PostgreSQL server it names (`agendasync init` or
  /// `agendasync migrate` makes it).
  static Result<std::unique_ptr<ServiceDb>> open_node(std::string_view database,
                                                      std::size_t readers = 4,
                                                      bool fsync_every_commit = true);

  store::sql::Database& sql() { return *db_; }
  store::sql::Engine engine() const { return db_->engine(); }

 private:
  explicit ServiceDb(std::unique_ptr<store::sql::Database> db) : db_(std::move(db)) {}
  std::unique_ptr<store::sql::Database> db_;
};

/// Seconds since the Unix epoch, for the `*_at` columns.
std::int64_t unix_now();

}  // namespace agendasync::service
