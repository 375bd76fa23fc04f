#include "store/database_locator.h"

#include <algorithm>

#include "core/database_name.h"
#include "store/pg_agenda_store.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::store {

bool is_postgres_locator(std::string_view database) { return names_postgres_server(database); }

Result<std::string> organisation_schema(std::string_view org) {
  std::string schema = "org_" + std::string(org);
  std::replace(schema.begin(), schema.end(), '-', '_');
  if (schema.size() > 63) {
    return fail(ErrorKind::kInvalidData,
                "organisation id \"" + std::string(org) +
                    "\" is too long for PostgreSQL (its schema name would pass 63 bytes); use "
                    "an id of at most 59 characters");
  }
  return schema;
}

Result<pg::Target> organisation_target(std::string_view database, std::string_view org) {
  auto schema = organisation_schema(org);
  if (!schema) return std::unexpected(schema.error());
  return pg::Target{std::string(database), std::move(*schema)};
}

pg::Target platform_target(std::string_view database) {
  return pg::Target{std::string(database), kPlatformSchema};
}

Result<std::unique_ptr<AgendaStore>> open_agenda_store(std::string_view database,
                                                       std::string_view org,
                                                       const OpenOptions& options) {
  if (is_postgres_locator(database)) {
    auto target = organisation_target(database, org);
    if (!target) return std::unexpected(target.error());
    PgStoreOptions pg_options;
    pg_options.create = options.create;
    pg_options.fsync_every_commit = options.fsync_every_commit;
    return open_pg_agenda_store(*target, pg_options);
  }
  SqliteOptions sqlite_options;
  sqlite_options.create = options.create;
  sqlite_options.fsync_every_commit = options.fsync_every_commit;
  return open_sqlite_agenda_store(std::filesystem::path(database), sqlite_options);
}

}  // namespace agendasync::store
