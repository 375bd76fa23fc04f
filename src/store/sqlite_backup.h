#pragma once
/// Online copies of SQLite files through SQLite's backup API (sqlite3_backup_*), never a
/// file copy: a copy made while another process writes (the daemon) is still one consistent
/// snapshot, and a WAL file's committed pages are included.
#include <filesystem>

#include "core/error.h"

namespace agendasync::store::sqlite {

/// Copies the database `from` (which must exist) to the new file `to`. The copy is written to
/// `to` + ".partial" and renamed when complete, so `to` never holds half a copy. Refuses
/// (kConflict) when `to` exists.
Result<void> backup_file(const std::filesystem::path& from, const std::filesystem::path& to);

/// Replaces the content of the database `into` (created when missing) by that of `from`, in
/// one write transaction of `into`: readers of `into` see either all of the old or all of the
/// new content.
Result<void> restore_file(const std::filesystem::path& from, const std::filesystem::path& into);

/// The schema version (PRAGMA user_version) of the existing file `path`, read without
/// migrating or writing anything.
Result<int> schema_version_of(const std::filesystem::path& path);

}  // namespace agendasync::store::sqlite
