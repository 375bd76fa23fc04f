#pragma once
/// Schema versions of an organisation's schema on PostgreSQL, and their compatibility window
/// (rolling upgrades, issue 17 §2): migrations run only through `agendasync migrate` (or when a
/// store is created), under an advisory lock, never from nodes as they start.
#include <string>

#include "core/error.h"
#include "store/pg_connection.h"

namespace agendasync::store::pg {

/// Which set of migrations a schema follows: an organisation's (`org_<id>`: its agenda, sync
/// state and service tables) or the platform's (kPlatformSchema in database_locator.h:
/// organisations, connections, tokens, console sessions).
enum class SchemaKind { kOrganisation, kPlatform };

/// The schema version this build writes and reads.
int current_schema_version(SchemaKind kind = SchemaKind::kOrganisation);

/// What an organisation's schema records about itself (table agendasync_schema).
struct SchemaVersion {
  int version = 0;  ///< 0: the schema or its tables do not exist
  /// The oldest build (by its current_schema_version()) that still works on this schema: an
  /// expanding migration keeps it, a contracting one (dropping what old builds use) raises it.
  int compatible_from = 0;
};

/// Reads the recorded version (0 when the schema is not there).
Result<SchemaVersion> schema_version(Connection& db);

/// Whether a build at `mine` may run on `found`: the same version, or a newer one whose
/// window still includes `mine`. Otherwise an error that says what to do: migrate (the schema
/// is older) or upgrade this node (the schema left its window). `where` names the schema.
Result<void> check_compatible(const SchemaVersion& found, int mine, const std::string& where);

/// What migrate() did, for `agendasync migrate` to report.
struct MigrationOutcome {
  int from = 0;
  int to = 0;
};

/// Creates the schema when missing and applies every migration it lacks, all in one
/// transaction under a transaction-scoped advisory lock keyed by the schema: nodes or
/// commands migrating at once queue, and the second finds nothing left to do. A schema newer
/// than this build is left untouched (kUnsupported when outside the window).
Result<MigrationOutcome> migrate(Connection& db, SchemaKind kind = SchemaKind::kOrganisation);

/// What a node does at start instead of migrating: reads the connection's schema version and
/// refuses one outside this build's window (check_compatible), naming `agendasync migrate`.
Result<void> check_schema(Connection& db, SchemaKind kind = SchemaKind::kOrganisation);

}  // namespace agendasync::store::pg
