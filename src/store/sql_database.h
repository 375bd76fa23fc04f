#pragma once
/// An engine-neutral SQL layer for tables written once for SQLite and PostgreSQL (the
/// platform's and the service's: organisations, connections, tokens, sessions, webhooks,
/// statuses). Statements use `?` or `?N` placeholders (rewritten to `$N` for PostgreSQL) and
/// the dialect both engines share: ON CONFLICT upserts, RETURNING, no AUTOINCREMENT or
/// INSERT OR REPLACE. Results come back materialised (text, integer or NULL per cell), so no
/// engine type leaks to the caller. Where DDL must differ, each caller keeps one small table
/// per engine (service_db.cpp, pg_schema.cpp). Why not the agenda store too: docs/DECISIONS.md,
/// "One SQL layer for the platform and service tables".
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"
#include "store/pg_pool.h"

namespace agendasync::store::sql {

enum class Engine { kSqlite, kPostgres };

/// A parameter value. std::monostate binds NULL.
using Value = std::variant<std::monostate, std::int64_t, std::string>;

/// The rows of one statement, copied out of the engine.
class Rows {
 public:
  using Row = std::vector<std::optional<std::string>>;
  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  bool is_null(std::size_t row, std::size_t column) const { return !cell(row, column); }
  /// The cell as text; "" for NULL.
  std::string text_at(std::size_t row, std::size_t column) const;
  /// The cell as an integer; 0 for NULL.
  std::int64_t int_at(std::size_t row, std::size_t column) const;
  std::optional<std::int64_t> optional_int(std::size_t row, std::size_t column) const;
  void add(Row row) { rows_.push_back(std::move(row)); }

 private:
  const std::optional<std::string>& cell(std::size_t row, std::size_t column) const {
    return rows_.at(row).at(column);
  }
  std::vector<Row> rows_;
};

/// One connection while a body runs: inside a transaction for Database::transaction.
class Session {
 public:
  virtual ~Session() = default;
  virtual Engine engine() const = 0;
  /// One statement with `params` bound to its placeholders; its rows.
  virtual Result<Rows> query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  /// One statement; the number of rows it changed.
  virtual Result<std::int64_t> run(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  /// Several statements without parameters (DDL).
  virtual Result<void> exec(std::string_view script) = 0;
  /// The first column of the first row; nullopt when there is none or it is NULL.
  Result<std::optional<std::int64_t>> query_int(std::string_view sql,
                                                const std::vector<Value>& params = {});
};

/// A database on either engine, safe to use from many threads: SQLite runs writes on one
/// connection (a mutex) and reads on a few reader connections (WAL); PostgreSQL borrows a
/// connection of a pool for each call.
class Database {
 public:
  virtual ~Database() = default;
  virtual Engine engine() const = 0;
  /// The file, or the server and schema (never a password): for messages.
  virtual const std::string& where() const = 0;

  /// A statement that does not write, on a reader.
  Result<Rows> query(std::string_view sql, const std::vector<Value>& params = {});
  Result<std::optional<std::int64_t>> query_int(std::string_view sql,
                                                const std::vector<Value>& params = {});
  /// A statement on the writer, committed on its own; the rows it changed.
  Result<std::int64_t> run(std::string_view sql, const std::vector<Value>& params = {});
  /// Several statements without parameters, on the writer.
  Result<void> exec(std::string_view script);
  /// Closes reader connections idle past their limit (SQLite; a pool on PostgreSQL manages
  /// its own): for a caller that ticks while the database is not read.
  virtual void close_idle_readers() {}
  /// SQLite reader connections open now (0 on PostgreSQL, whose pool is its own).
  virtual std::size_t open_readers() const { return 0; }

  /// Runs `body(Session&)` in one write transaction (SQLite: BEGIN IMMEDIATE, so writers
  /// queue up front; PostgreSQL: BEGIN); an error from `body` or the commit rolls back.
  template <class F>
  auto transaction(F&& body) -> decltype(body(std::declval<Session&>())) {
    return call(Mode::kTransaction, std::forward<F>(body));
  }
  /// Runs `body(Session&)` on a reader (only statements that do not write).
  template <class F>
  auto read(F&& body) -> decltype(body(std::declval<Session&>())) {
    return call(Mode::kRead, std::forward<F>(body));
  }

 protected:
  enum class Mode { kRead, kWrite, kTransaction };
  /// Runs `body` on a session of `mode`; its error (or the commit's) comes back.
  virtual Result<void> with_session(Mode mode,
                                    const std::function<Result<void>(Session&)>& body) = 0;

 private:
  template <class F>
  auto call(Mode mode, F&& body) -> decltype(body(std::declval<Session&>())) {
    using R = decltype(body(std::declval<Session&>()));
    std::optional<R> result;
    auto done = with_session(mode, [&](Session& session) -> Result<void> {
      result.emplace(body(session));
      if (!*result) return std::unexpected(result->error());
      return {};
    });
    if (!done) return std::unexpected(done.error());
    return std::move(*result);
  }
};

struct SqliteDatabaseOptions {
  /// Reader connections at most, opened when needed (reader_pool.h); 0 = every call on the
  /// writer.
  std::size_t readers = 4;
  /// false: commits with `synchronous = NORMAL` (see SqliteOptions::fsync_every_commit).
  bool fsync_every_commit = true;
  /// A reader idle this long is closed (a database nobody reads holds its writer only).
  std::chrono::milliseconds reader_idle_limit{std::chrono::seconds(30)};
};

/// Opens the SQLite file `path`, which must exist (the agenda store creates it), in WAL mode.
Result<std::unique_ptr<Database>> open_sqlite_database(const std::filesystem::path& path,
                                                       SqliteDatabaseOptions options = {});

/// Opens a pool on `target` (the server and one schema, which the connections' search_path
/// selects: unqualified names reach that schema's tables only).
Result<std::unique_ptr<Database>> open_pg_database(pg::Target target, pg::PoolOptions options = {});

/// `sql` with `?` and `?N` placeholders as PostgreSQL's `$N` (text in quotes untouched).
std::string postgres_placeholders(std::string_view sql);

}  // namespace agendasync::store::sql
