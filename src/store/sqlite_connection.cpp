#include "store/sqlite_connection.h"

#include <sqlite3.h>

#include <thread>

namespace agendasync::store::sqlite {

namespace {

ErrorKind kind_of(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorKind::kTransient;
    case SQLITE_CONSTRAINT:
      return ErrorKind::kInvalidData;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorKind::kInvalidData;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
    case SQLITE_CANTOPEN:
      return ErrorKind::kPermission;
    default:
      return ErrorKind::kPermanent;
  }
}

/// What a person can do about the common failures.
std::string advice(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "another process holds the database lock for too long; retry, or look for a stuck "
             "agendasync process";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "the file is not an intact agendasync database; restore it from a backup or point "
             "`database` in the configuration at the right file";
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return "check that the file and its folder exist and are writable by this user";
    case SQLITE_FULL:
      return "the disk is full; free space and retry";
    case SQLITE_IOERR:
      // A write past a quota or file-size limit (EFBIG) comes back as an I/O error, not FULL.
      return "writing to the disk failed: the disk may be full or the file may have reached a "
             "quota or size limit (ulimit -f); free space or raise the limit, check the disk, "
             "and retry";
    default:
      return {};
  }
}

/// The first read of a newly opened connection, which is where SQLite finds out whether the
/// file is a database at all (SQLITE_NOTADB). The file is never opened any other way: on
/// POSIX, closing *any* descriptor of a file drops every fcntl lock the process holds on it,
/// those of its live SQLite connections included, and another process's last close then
/// checkpoints and deletes the WAL under them ("How To Corrupt An SQLite Database File",
/// section 2.2). A header check with std::ifstream did exactly that and lost acknowledged
/// writes of a daemon whenever the CLI ran beside it.
Result<void> probe(sqlite3* db, const std::filesystem::path& path) {
  int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return {};
  if ((rc & 0xff) == SQLITE_NOTADB) {
    return fail(ErrorKind::kInvalidData,
                "database file " + path.string() +
                    " is not an SQLite database (wrong file header); nothing was changed. "
                    "Point `database` in the configuration at the agendasync database, or "
                    "run `agendasync init` to create a new one elsewhere",
                "SQLITE_NOTADB");
  }
  if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_PERM) {
    return fail(ErrorKind::kPermission,
                "cannot read database file " + path.string() + ": check its permissions",
                sqlite3_errstr(rc));
  }
  std::string detail = sqlite3_errmsg(db);
  std::string message = "database " + path.string() + ": first read failed: " + detail;
  if (auto hint = advice(rc); !hint.empty()) message += "; " + hint;
  return std::unexpected(Error::make(kind_of(rc), std::move(message), sqlite3_errstr(rc)));
}

}  // namespace

Statement::~Statement() {
  if (stmt_) db_->release(stmt_);
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(db_->error(rc, "step"));
}

Result<void> Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
  }
}

std::int64_t Statement::int_at(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::text_at(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (!text) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<Connection> Connection::open(const std::filesystem::path& path, bool create) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);  // stat(2): opens nothing
  if (!exists && !create) {
    return fail(ErrorKind::kNotFound, "database file " + path.string() +
                                          " does not exist; create it with `agendasync init` "
                                          "or fix `database` in the configuration");
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  Connection connection(db, path);
  if (rc != SQLITE_OK) return std::unexpected(connection.error(rc, "open"));
  sqlite3_extended_result_codes(db, 1);
  // Another process may be recovering the WAL right now; wait for it like every caller does.
  sqlite3_busy_timeout(db, 5000);
  if (auto readable = probe(db, path); !readable) return std::unexpected(readable.error());
  return connection;
}

Connection::~Connection() {
  for (auto& [sql, statements] : idle_statements_) {
    for (sqlite3_stmt* stmt : statements) sqlite3_finalize(stmt);
  }
  if (db_) sqlite3_close_v2(db_);
}

void Connection::release(sqlite3_stmt* stmt) {
  // reset ends the statement's read or write; its error (if any) was reported by step().
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (idle_count_ < kMaxIdleStatements) {
    const std::string_view sql = sqlite3_sql(stmt);
    auto entry = idle_statements_.find(sql);
    if (entry == idle_statements_.end() && idle_statements_.size() < kMaxStatementTexts) {
      entry = idle_statements_.try_emplace(std::string(sql)).first;
    }
    if (entry != idle_statements_.end()) {
      entry->second.push_back(stmt);
      ++idle_count_;
      return;
    }
  }
  sqlite3_finalize(stmt);
}

Error Connection::error(int code, std::string_view what) const {
  std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  std::string message =
      "database " + path_.string() + ": " + std::string(what) + " failed: " + detail;
  if (auto hint = advice(code); !hint.empty()) message += "; " + hint;
  return Error::make(kind_of(code), std::move(message), sqlite3_errstr(code));
}

Result<void> Connection::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(error(rc, "statement"));
  return {};
}

Result<Statement> Connection::prepare(std::string_view sql, const std::vector<Value>& params) {
  sqlite3_stmt* raw = nullptr;
  int rc = SQLITE_OK;
  if (auto idle = idle_statements_.find(sql);
      idle != idle_statements_.end() && !idle->second.empty()) {
    raw = idle->second.back();
    idle->second.pop_back();
    --idle_count_;
  } else {
    rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                            SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) return std::unexpected(error(rc, "prepare"));
  }
  Statement statement(this, raw);
  for (std::size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i + 1);
    const auto& value = params[i];
    if (std::holds_alternative<std::monostate>(value)) {
      rc = sqlite3_bind_null(raw, index);
    } else if (auto* number = std::get_if<std::int64_t>(&value)) {
      rc = sqlite3_bind_int64(raw, index, *number);
    } else {
      const auto& text = std::get<std::string>(value);
      rc = sqlite3_bind_text(raw, index, text.data(), static_cast<int>(text.size()),
                             SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) return std::unexpected(error(rc, "bind"));
  }
  return statement;
}

Result<void> Connection::run(std::string_view sql, const std::vector<Value>& params) {
  auto statement = prepare(sql, params);
  if (!statement) return std::unexpected(statement.error());
  return statement->run();
}

Result<std::optional<std::int64_t>> Connection::query_int(std::string_view sql,
                                                          const std::vector<Value>& params) {
  auto statement = prepare(sql, params);
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  if (!*row || statement->is_null(0)) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{statement->int_at(0)};
}

int Connection::changes() const { return sqlite3_changes(db_); }

std::int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Result<void> enable_wal(Connection& db, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto mode = db.prepare("PRAGMA journal_mode = WAL");
    if (!mode) return std::unexpected(mode.error());
    auto row = mode->step();
    if (row) return {};
    if (row.error().kind != ErrorKind::kTransient || std::chrono::steady_clock::now() > deadline) {
      return std::unexpected(row.error());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace agendasync::store::sqlite
