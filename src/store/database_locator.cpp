#include "store/database_locator.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "store/pg_agenda_store.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::store {

bool is_postgres_locator(std::string_view database) {
  if (database.starts_with("postgresql://") || database.starts_with("postgres://")) return true;
  // A keyword string starts with a libpq keyword and '=' (a file named like that would be a
  // strange agenda; the libpq manual, "Connection Strings", lists the keywords).
  static constexpr std::array<std::string_view, 10> kKeywords = {
      "host",    "hostaddr", "port",    "dbname",           "user",
      "service", "sslmode",  "options", "application_name", "connect_timeout"};
  std::size_t start = 0;
  while (start < database.size() && std::isspace(static_cast<unsigned char>(database[start]))) {
    ++start;
  }
  const auto equals = database.find('=', start);
  if (equals == std::string_view::npos) return false;
  auto keyword = database.substr(start, equals - start);
  while (!keyword.empty() && std::isspace(static_cast<unsigned char>(keyword.back()))) {
    keyword.remove_suffix(1);
  }
  return std::find(kKeywords.begin(), kKeywords.end(), keyword) != kKeywords.end();
}

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
