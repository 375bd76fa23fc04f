#pragma once
/// The SQLite schema as an ordered list of migrations, and the code that brings a database up
/// to date. The schema version is SQLite's `PRAGMA user_version`.
#include "core/error.h"
#include "store/sqlite_connection.h"

namespace agendasync::store::sqlite {

/// The schema version this build writes and understands.
int current_schema_version();

/// Applies every missing migration in one write transaction. A database from a newer
/// agendasync is refused (kUnsupported) before anything is written. Re-running on an up to
/// date database writes nothing.
Result<void> migrate(Connection& db);

}  // namespace agendasync::store::sqlite
