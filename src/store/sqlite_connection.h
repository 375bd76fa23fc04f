#pragma once
/// A thin RAII layer over the SQLite C API: one connection, prepared statements with bound
/// parameters, and SQLite result codes turned into Result values whose messages name the
/// database file. Used only inside the SQLite store.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace agendasync::store::sqlite {

/// A value bound to a statement parameter. std::monostate binds NULL.
using Value = std::variant<std::monostate, std::int64_t, std::string>;

class Connection;

/// A prepared statement. step() advances; column accessors read the current row. Destroying
/// it hands the compiled statement back to its connection for the next prepare() of the
/// same SQL.
class Statement {
 public:
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  /// true when a row is available, false when done.
  Result<bool> step();
  /// Runs to completion, ignoring rows.
  Result<void> run();

  std::int64_t int_at(int column) const;
  std::string text_at(int column) const;
  bool is_null(int column) const;
  /// Columns of the statement's rows.
  int column_count() const;

 private:
  friend class Connection;
  Statement(Connection* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Connection* db_;
  sqlite3_stmt* stmt_;
};

/// One open SQLite database. Keeps the statements it compiled: an idle sync cycle runs the
/// same dozen queries per pair, and compiling them was most of its CPU time.
class Connection {
 public:
  /// Opens `path` read-write, creating it when `create` is set. Fails (changing nothing) when
  /// the file exists but is not an SQLite database.
  static Result<Connection> open(const std::filesystem::path& path, bool create);

  Connection(Connection&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)),
        path_(std::move(other.path_)),
        idle_statements_(std::move(other.idle_statements_)),
        idle_count_(std::exchange(other.idle_count_, 0)) {}
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;
  ~Connection();

  /// Runs one or more statements without parameters.
  Result<void> exec(std::string_view sql);
  /// Prepares `sql` and binds `params` to ?1, ?2, ...
  Result<Statement> prepare(std::string_view sql, const std::vector<Value>& params = {});
  /// Runs a parameterised statement to completion.
  Result<void> run(std::string_view sql, const std::vector<Value>& params = {});
  /// The first column of the first row, or nullopt when there is no row / it is NULL.
  Result<std::optional<std::int64_t>> query_int(std::string_view sql,
                                                const std::vector<Value>& params = {});

  /// Rows changed by the last INSERT/UPDATE/DELETE.
  int changes() const;
  std::int64_t last_insert_rowid() const;
  const std::filesystem::path& path() const { return path_; }

  /// An Error for SQLite result code `code` in `what`, naming the file.
  Error error(int code, std::string_view what) const;

 private:
  friend class Statement;
  Connection(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  /// Takes back a statement that is done: kept for reuse, or finalized when the cache is full.
  void release(sqlite3_stmt* stmt);
  sqlite3* db_;
  std::filesystem::path path_;
  /// Looks SQL text up without copying it into a std::string: prepare() runs for every
  /// query, and a copy of its text plus a map node per borrow showed in idle-cycle profiles.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const noexcept {
      return std::hash<std::string_view>{}(sql);
    }
  };
  /// Compiled statements not in use, by their SQL text (at most kMaxIdleStatements in all).
  /// A text's entry stays when its statements are borrowed, so borrowing and giving back
  /// allocate nothing once the cycle's queries were seen.
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, SqlHash, std::equal_to<>>
      idle_statements_;
  std::size_t idle_count_ = 0;
  static constexpr std::size_t kMaxIdleStatements = 64;
  /// Texts remembered (SQL built at run time must not grow the map without bound).
  static constexpr std::size_t kMaxStatementTexts = 128;
};

/// Switches the file to WAL, so readers run while one writer commits (a no-op when already
/// set). SQLite does not call the busy handler while switching a fresh file to WAL (another
/// connection may be doing the same), so this retries, bounded by `timeout`.
Result<void> enable_wal(Connection& db, std::chrono::milliseconds timeout);

/// Runs `body` inside BEGIN IMMEDIATE ... COMMIT: the write lock is taken up front, so
/// concurrent writers queue (busy timeout) instead of failing at commit, and everything read
/// inside `body` is current. Any error rolls back.
template <class F>
auto write_transaction(Connection& db, F&& body) -> decltype(body()) {
  if (auto begun = db.exec("BEGIN IMMEDIATE"); !begun) return std::unexpected(begun.error());
  auto result = body();
  if (!result) {
    (void)db.exec("ROLLBACK");
    return result;
  }
  if (auto committed = db.exec("COMMIT"); !committed) {
    (void)db.exec("ROLLBACK");
    return std::unexpected(committed.error());
  }
  return result;
}

/// Runs `body` inside a read transaction (one consistent snapshot).
template <class F>
auto read_transaction(Connection& db, F&& body) -> decltype(body()) {
  if (auto begun = db.exec("BEGIN DEFERRED"); !begun) return std::unexpected(begun.error());
  auto result = body();
  (void)db.exec(result ? "COMMIT" : "ROLLBACK");
  return result;
}

}  // namespace agendasync::store::sqlite
