#pragma once
/// Migration 3: text an earlier agendasync stored without checking that it was UTF-8 is
/// rewritten once, each ill-formed sequence replaced by U+FFFD (docs/DECISIONS.md, "Invalid
/// UTF-8 already in an agenda"). Runs inside the migration's write transaction.
#include "core/error.h"
#include "store/sqlite_connection.h"

namespace agendasync::store {

/// Repairs activity type names (and the appointments that name them), appointments (subject,
/// every text in the document) and users' display names. Every repaired appointment gets a
/// new revision and a feed entry, so the sync and the host application read it again.
Result<void> repair_invalid_utf8(sqlite::Connection& db);

}  // namespace agendasync::store
