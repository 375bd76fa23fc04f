#include "store/sqlite_backup.h"

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

namespace agendasync::store::sqlite {

namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

Error sqlite_error(int code, const std::filesystem::path& path, std::string_view what) {
  auto kind = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? ErrorKind::kTransient
                                                             : ErrorKind::kPermanent;
  return Error::make(kind, std::string(what) + " " + path.string() + ": " + sqlite3_errstr(code));
}

Result<Db> open(const std::filesystem::path& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return std::unexpected(sqlite_error(rc, path, "cannot open"));
  // The daemon may hold a write lock for a moment; wait for it rather than fail.
  sqlite3_busy_timeout(db.get(), 10000);
  return db;
}

/// Copies every page of `source` into `dest`. Steps of 256 pages release the source's read
/// lock between steps so a writer is never held up for a whole large copy; a write by
/// another connection restarts the copy (SQLite does that by itself), which a busy daemon can
/// cause repeatedly, so the copy is bounded in time.
Result<void> copy_pages(sqlite3* source, sqlite3* dest, const std::filesystem::path& what) {
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", source, "main");
  if (!backup) {
    return fail(ErrorKind::kPermanent,
                "cannot copy " + what.string() + ": " + sqlite3_errmsg(dest));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  int rc = SQLITE_OK;
  while (true) {
    rc = sqlite3_backup_step(backup, 256);
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_OK) continue;
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    break;
  }
  int finished = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return std::unexpected(sqlite_error(rc, what, "cannot copy"));
  if (finished != SQLITE_OK) return std::unexpected(sqlite_error(finished, what, "cannot copy"));
  return {};
}

}  // namespace

Result<void> backup_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  if (std::filesystem::exists(to, ec)) {
    return fail(ErrorKind::kConflict,
                "backup " + to.string() + " already exists; it was left unchanged");
  }
  if (!std::filesystem::exists(from, ec)) {
    return fail(ErrorKind::kNotFound, "database " + from.string() + " does not exist");
  }
  // Read-only: a backup never migrates or otherwise writes the live database.
  auto source = open(from, SQLITE_OPEN_READONLY);
  if (!source) return std::unexpected(source.error());
  std::filesystem::path partial = to.string() + ".partial";
  std::filesystem::remove(partial, ec);  // left by an interrupted backup
  {
    auto dest = open(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!dest) return std::unexpected(dest.error());
    if (auto copied = copy_pages(source->get(), dest->get(), from); !copied) {
      dest->reset();
      std::filesystem::remove(partial, ec);
      return copied;
    }
    // The copy is a self-contained file: no -wal beside it to lose when it is moved.
    sqlite3_exec(dest->get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
  }
  std::filesystem::rename(partial, to, ec);
  if (ec) {
    return fail(ErrorKind::kPermanent,
                "cannot rename " + partial.string() + " to " + to.string() + ": " + ec.message());
  }
  return {};
}

Result<void> restore_file(const std::filesystem::path& from, const std::filesystem::path& into) {
  auto source = open(from, SQLITE_OPEN_READONLY);
  if (!source) return std::unexpected(source.error());
  auto dest = open(into, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!dest) return std::unexpected(dest.error());
  return copy_pages(source->get(), dest->get(), into);
}

Result<int> schema_version_of(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(ErrorKind::kNotFound, "database " + path.string() + " does not exist");
  }
  auto db = open(path, SQLITE_OPEN_READONLY);
  if (!db) return std::unexpected(db.error());
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db->get(), "PRAGMA user_version", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  int version = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) return std::unexpected(sqlite_error(rc, path, "cannot read"));
  return version;
}

}  // namespace agendasync::store::sqlite
