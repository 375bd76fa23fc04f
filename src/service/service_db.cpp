#include "service/service_db.h"

#include <algorithm>
#include <chrono>

#include "store/database_locator.h"
#include "store/pg_schema.h"

namespace agendasync::service {

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS service_token(
  id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, label TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS service_secret(
  name TEXT PRIMARY KEY, sealed TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS service_webhook(
  id INTEGER PRIMARY KEY, url TEXT NOT NULL, secret_sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS service_dead_letter(
  id INTEGER PRIMARY KEY, webhook_id INTEGER NOT NULL, url TEXT NOT NULL,
  event_id TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL, failed_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS service_sync_status(
  user_name TEXT PRIMARY KEY COLLATE NOCASE, runs INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0, last_started INTEGER, last_finished INTEGER,
  last_success INTEGER, last_outcome TEXT NOT NULL DEFAULT '', counts TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS service_sync_error(
  id INTEGER PRIMARY KEY, user_name TEXT NOT NULL COLLATE NOCASE, at INTEGER NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS service_sync_error_user ON service_sync_error(user_name, id);
CREATE TABLE IF NOT EXISTS service_user_mode(
  user_name TEXT PRIMARY KEY COLLATE NOCASE, admin_managed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS service_graph_subscription(
  id TEXT PRIMARY KEY, user_name TEXT NOT NULL COLLATE NOCASE, client_state_sealed TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS service_state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS service_session(
  id_hash TEXT PRIMARY KEY, role TEXT NOT NULL, org TEXT NOT NULL, token_id TEXT NOT NULL,
  token_hash TEXT NOT NULL, csrf TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS service_session_expiry ON service_session(expires_at);
CREATE TABLE IF NOT EXISTS service_login_link(
  code_hash TEXT PRIMARY KEY, org TEXT NOT NULL, user_name TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
)sql";

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

/// Adds a column a file made by an earlier version lacks. Several processes may open such a
/// file at once: adding the column twice fails with "duplicate column", which means it is
/// there.
Result<void> add_column_once(store::sql::Database& db, const std::string& table,
                             const std::string& column, const std::string& definition) {
  auto has =
      db.query_int("SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2", {table, column});
  if (!has) return std::unexpected(has.error());
  if (has->value_or(0) != 0) return {};
  auto added = db.exec("ALTER TABLE " + table + " ADD COLUMN " + column + " " + definition);
  if (!added && added.error().message.find("duplicate column") == std::string::npos) {
    return std::unexpected(added.error());
  }
  return {};
}

/// A PostgreSQL schema's tables as this build needs them: nodes never migrate (issue 17 §2).
Result<std::unique_ptr<store::sql::Database>> open_pg(store::pg::Target target,
                                                      store::pg::SchemaKind kind,
                                                      std::size_t readers,
                                                      bool fsync_every_commit) {
  {
    auto probe = store::pg::Connection::open(target);
    if (!probe) return std::unexpected(probe.error());
    if (auto fits = store::pg::check_schema(**probe, kind); !fits) {
      return std::unexpected(fits.error());
    }
  }
  store::pg::PoolOptions options;
  // The writer and the readers of SQLite share one pool here. Its statements are single-row
  // lookups, so a few connections serve many requests; every open organisation of every node
  // holds one such pool, which the server's max_connections must cover.
  options.max_connections = std::clamp<std::size_t>(readers + 1, 2, 3);
  options.fsync_every_commit = fsync_every_commit;
  return store::sql::open_pg_database(std::move(target), options);
}

}  // namespace

Result<std::unique_ptr<ServiceDb>> ServiceDb::open(const std::filesystem::path& path,
                                                   std::size_t readers, bool fsync_every_commit,
                                                   std::chrono::milliseconds reader_idle_limit) {
  auto db =
      store::sql::open_sqlite_database(path, {readers, fsync_every_commit, reader_idle_limit});
  if (!db) return std::unexpected(db.error());
  if (auto schema = (*db)->exec(kSchema); !schema) return std::unexpected(schema.error());
  // Tokens belong to an organisation (issue 16); a token made before organisations existed is
  // organisation default's.
  if (auto added = add_column_once(**db, "service_token", "org", "TEXT NOT NULL DEFAULT 'default'");
      !added) {
    return std::unexpected(added.error());
  }
  // R41: the connection (ews/graph) a user's last run reached Exchange through.
  if (auto added =
          add_column_once(**db, "service_sync_status", "backend", "TEXT NOT NULL DEFAULT ''");
      !added) {
    return std::unexpected(added.error());
  }
  return std::unique_ptr<ServiceDb>(new ServiceDb(std::move(*db)));
}

Result<std::unique_ptr<ServiceDb>> ServiceDb::open_organisation(
    std::string_view database, std::string_view org, std::size_t readers, bool fsync_every_commit,
    std::chrono::milliseconds reader_idle_limit) {
  if (!store::is_postgres_locator(database)) {
    return open(std::filesystem::path(database), readers, fsync_every_commit, reader_idle_limit);
  }
  auto target = store::organisation_target(database, org);
  if (!target) return std::unexpected(target.error());
  auto db = open_pg(std::move(*target), store::pg::SchemaKind::kOrganisation, readers,
                    fsync_every_commit);
  if (!db) return std::unexpected(db.error());
  return std::unique_ptr<ServiceDb>(new ServiceDb(std::move(*db)));
}

Result<std::unique_ptr<ServiceDb>> ServiceDb::open_node(std::string_view database,
                                                        std::size_t readers,
                                                        bool fsync_every_commit) {
  if (!store::is_postgres_locator(database)) {
    return open(std::filesystem::path(database), readers, fsync_every_commit);
  }
  auto db = open_pg(store::platform_target(database), store::pg::SchemaKind::kPlatform, readers,
                    fsync_every_commit);
  if (!db) return std::unexpected(db.error());
  return std::unique_ptr<ServiceDb>(new ServiceDb(std::move(*db)));
}

}  // namespace agendasync::service
