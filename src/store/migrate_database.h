#pragma once
/// `agendasync migrate`: brings one organisation's tables up to this build's schema version,
/// wherever `database` says they live. On PostgreSQL this is the only way a schema changes
/// (nodes never migrate as they start); on SQLite opening the file already migrates it.
#include <string>
#include <string_view>

#include "core/error.h"

namespace agendasync::store {

struct MigrationReport {
  std::string where;  ///< the file, or the server and schema (no password)
  int from = 0;       ///< the version found (0: nothing there yet)
  int to = 0;         ///< the version now
};

/// Migrates organisation `org`'s agenda and sync state. PostgreSQL: creates the schema when
/// missing, all in one transaction under an advisory lock, so several `migrate` commands (or
/// nodes' operators) running at once make the change once. SQLite: the file must exist
/// (`agendasync init` makes it).
Result<MigrationReport> migrate_database(std::string_view database, std::string_view org);

/// PostgreSQL only: migrates the platform schema (kPlatformSchema: organisations, connections,
/// tokens, console sessions) on the server `database` names, the same way.
Result<MigrationReport> migrate_platform(std::string_view database);

}  // namespace agendasync::store
