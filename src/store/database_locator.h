#pragma once
/// What `database` in a node's configuration names: an SQLite file (a path, the zero set-up
/// default) or a PostgreSQL server (a `postgresql://` / `postgres://` URI or a libpq keyword
/// string such as `host=db1 dbname=agendasync`), and the store it opens for an organisation.
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/agenda_store.h"
#include "store/pg_connection.h"

namespace agendasync::store {

/// True when `database` names a PostgreSQL server rather than an SQLite file.
bool is_postgres_locator(std::string_view database);

/// The schema holding organisation `org`'s tables on PostgreSQL: "org_" + the id with '-' as
/// '_' (ids never contain '_', so no two ids share a schema). kInvalidData for an id whose
/// schema name would pass PostgreSQL's 63-byte identifier limit (ids of 60+ characters).
Result<std::string> organisation_schema(std::string_view org);

/// The schema of the platform's tables on PostgreSQL (organisations, connections, API tokens,
/// console sessions): one per database, shared by every node. Organisation schemas start with
/// "org_", so no organisation id reaches it.
inline constexpr const char* kPlatformSchema = "agendasync_platform";

/// The platform's PostgreSQL target on the server `database` names.
pg::Target platform_target(std::string_view database);

/// The PostgreSQL target of organisation `org` on the server `database` names.
Result<pg::Target> organisation_target(std::string_view database, std::string_view org);

struct OpenOptions {
  /// Create what is missing: the SQLite file, or the PostgreSQL schema and tables
  /// (`agendasync init`, a new organisation, tests).
  bool create = false;
  /// See SqliteOptions::fsync_every_commit / PgStoreOptions::fsync_every_commit.
  bool fsync_every_commit = true;
};

/// Opens organisation `org`'s agenda where `database` says: the file itself for SQLite (each
/// organisation has its own file, platform/), the organisation's schema for PostgreSQL.
Result<std::unique_ptr<AgendaStore>> open_agenda_store(std::string_view database,
                                                       std::string_view org,
                                                       const OpenOptions& options = {});

}  // namespace agendasync::store
