#pragma once
/// The node's SQLite files as one unit for operations (issue 19): which files hold its data,
/// an online backup of all of them, a restore, and the schema migration of its agendas. Used
/// by `agendasync backup|restore|migrate` and by the Debian package's install step.
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace agendasync::app {

/// One SQLite file of the node, by its path relative to the folder of `database`.
struct NodeFile {
  std::filesystem::path relative;  ///< "agenda.db", "organisations/contoso/agenda.sync.db"
  bool agenda = false;             ///< an agenda (versioned schema), not a sync state
};

/// The node's existing SQLite files: the database, its sync state, and each organisation's
/// agenda and sync state under organisations/<id>/. Lock files and -wal/-shm are not data
/// files of their own (SQLite reads the WAL through the database).
std::vector<NodeFile> node_files(const config::Config& node);

struct BackupReport {
  std::vector<std::filesystem::path> files;  ///< written, relative to the backup folder
};
/// Copies every node file into `folder` (created; refused when it exists and is not empty)
/// with SQLite's backup API, so the daemon may keep running. Each file is one consistent
/// snapshot; the agenda is copied before its sync state.
Result<BackupReport> backup_node(const config::Config& node, const std::filesystem::path& folder);

/// Writes every database file found in `folder` (a backup_node folder) back over the node's
/// files. Refuses, before writing anything, a folder without the node's database or with an
/// agenda newer than this build understands. The daemon must be stopped.
Result<BackupReport> restore_node(const config::Config& node, const std::filesystem::path& folder);

struct AgendaSchema {
  std::filesystem::path relative;
  int found = 0;  ///< PRAGMA user_version before
  int now = 0;    ///< after (== found when nothing was to do)
};
struct MigrateReport {
  int supported = 0;  ///< the schema version this build writes
  std::vector<AgendaSchema> agendas;
  bool behind() const;  ///< some agenda is older than `supported`
  bool ahead() const;   ///< some agenda is newer: a downgrade this build cannot serve
  /// The backup made before migrating (migrate_node with a folder, when something was behind).
  std::filesystem::path backup;
};
/// The schema version of every agenda of the node, without changing anything.
Result<MigrateReport> schema_status(const config::Config& node);
/// Brings every agenda of the node to this build's schema (each in one transaction; a newer
/// one is refused untouched). With `backup_folder`, and only when some agenda is behind,
/// backs the whole node up there first (backup_node); a failed backup migrates nothing.
Result<MigrateReport> migrate_node(const config::Config& node,
                                   const std::filesystem::path& backup_folder = {});

}  // namespace agendasync::app
