#pragma once
/// The SQLite implementation of AgendaStore (the default, zero set-up store, R33).
#include <chrono>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "store/agenda_store.h"

namespace agendasync::store {

struct SqliteOptions {
  /// Create the file (and the schema) when it does not exist. Off: a missing file is
  /// kNotFound.
  bool create = false;
  /// How long a writer waits for another writer's lock before failing with kTransient.
  std::chrono::milliseconds busy_timeout{10'000};
  /// true (the default): every commit waits for fsync (`synchronous = FULL`), so an
  /// acknowledged write survives a power loss. false (`synchronous = NORMAL`, what the daemon's
  /// API connection uses): commits return once in the WAL; a power loss (not a process crash)
  /// may drop the last acknowledged writes, but the file never corrupts. See
  /// docs/DECISIONS.md, "API write durability".
  bool fsync_every_commit = true;
};

/// Opens (and migrates) the agenda database at `path`: WAL journal, foreign keys on, the
/// schema brought up to date in one transaction. Fails with a message naming the file, and
/// without changing it, when the file is not an SQLite database, is corrupt, belongs to
/// another application, or comes from a newer agendasync.
Result<std::unique_ptr<AgendaStore>> open_sqlite_agenda_store(const std::filesystem::path& path,
                                                              const SqliteOptions& options = {});

}  // namespace agendasync::store
