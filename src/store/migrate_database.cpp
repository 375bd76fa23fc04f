#include "store/migrate_database.h"

#include "store/database_locator.h"
#include "store/pg_schema.h"
#include "store/sqlite_agenda_store.h"
#include "store/sqlite_connection.h"
#include "store/sqlite_schema.h"

namespace agendasync::store {

Result<MigrationReport> migrate_database(std::string_view database, std::string_view org) {
  if (is_postgres_locator(database)) {
    auto target = organisation_target(database, org);
    if (!target) return std::unexpected(target.error());
    auto db = pg::Connection::open(*target);
    if (!db) return std::unexpected(db.error());
    auto migrated = pg::migrate(**db);
    if (!migrated) return std::unexpected(migrated.error());
    return MigrationReport{(*db)->where(), migrated->from, migrated->to};
  }
  // SQLite migrates on open (one transaction, BEGIN IMMEDIATE: concurrent openers queue),
  // after refusing files that are not ours; the version read first lets the report say what
  // changed.
  const std::filesystem::path path(database);
  std::int64_t from = 0;
  {
    auto db = sqlite::Connection::open(path, /*create=*/false);
    if (!db) return std::unexpected(db.error());
    auto found = db->query_int("PRAGMA user_version");
    if (!found) return std::unexpected(found.error());
    from = found->value_or(0);
  }
  auto opened = open_sqlite_agenda_store(path);
  if (!opened) return std::unexpected(opened.error());
  return MigrationReport{path.string(), static_cast<int>(from), sqlite::current_schema_version()};
}

Result<MigrationReport> migrate_platform(std::string_view database) {
  auto db = pg::Connection::open(platform_target(database));
  if (!db) return std::unexpected(db.error());
  auto migrated = pg::migrate(**db, pg::SchemaKind::kPlatform);
  if (!migrated) return std::unexpected(migrated.error());
  return MigrationReport{(*db)->where(), migrated->from, migrated->to};
}

}  // namespace agendasync::store
