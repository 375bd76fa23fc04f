#pragma once
/// A thin RAII layer over libpq: one connection bound to one schema (an organisation's, see
/// docs/DECISIONS.md "Organisations on PostgreSQL"), parameterised statements only
/// (PQexecParams), and SQLSTATEs turned into Result values whose messages name the server and
/// schema, never the password. Used only inside the store.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

struct pg_conn;
struct pg_result;

namespace agendasync::store::pg {

/// A parameter value. std::monostate sends NULL; integers are sent as their decimal text.
using Value = std::variant<std::monostate, std::int64_t, std::string>;

/// Where a store lives on PostgreSQL: the server (a libpq URI or keyword string, as the
/// configuration's `database` names it) and the schema holding one organisation's tables.
struct Target {
  std::string conninfo;
  std::string schema;
};

/// The rows of one statement. Column accessors take a row and column index.
class Rows {
 public:
  explicit Rows(pg_result* result);
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;
  ~Rows();

  int size() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  int columns() const;
  bool is_null(int row, int column) const;
  std::string text_at(int row, int column) const;
  std::int64_t int_at(int row, int column) const;
  /// A boolean column ("t"/"f") or an integer one (0 is false).
  bool bool_at(int row, int column) const;
  /// Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;

 private:
  pg_result* result_;
  int rows_;
};

/// One open connection whose search_path is the target's schema, so every statement of the
/// store names its tables unqualified and reaches that organisation's tables only.
class Connection {
 public:
  /// Connects (connect_timeout 10 s unless the conninfo sets one) and selects `schema`.
  /// Errors say what to do: kTransient when the server is unreachable, kAuth for a refused
  /// user or password, kNotFound for a missing database.
  static Result<std::unique_ptr<Connection>> open(const Target& target);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one or more statements without parameters (DDL, BEGIN, COMMIT).
  Result<void> exec(std::string_view sql);
  /// Runs one statement with `params` bound to $1, $2, ... and returns its rows.
  Result<Rows> query(std::string_view sql, const std::vector<Value>& params = {});
  /// Runs one statement; returns the number of rows it changed.
  Result<std::int64_t> run(std::string_view sql, const std::vector<Value>& params = {});
  /// The first column of the first row, or nullopt when there is no row / it is NULL.
  Result<std::optional<std::int64_t>> query_int(std::string_view sql,
                                                const std::vector<Value>& params = {});

  /// False once the connection to the server is lost; a pool then drops it.
  bool healthy() const;
  /// True inside a transaction (also a failed one).
  bool in_transaction() const;
  /// "postgresql://HOST:PORT/DB, schema S" (no user, no password): for messages.
  const std::string& where() const { return where_; }
  const std::string& schema() const { return schema_; }

 private:
  Connection(pg_conn* conn, std::string where, std::string schema)
      : conn_(conn), where_(std::move(where)), schema_(std::move(schema)) {}
  Error error_of(pg_result* result, std::string_view sql) const;
  pg_conn* conn_;
  std::string where_;
  std::string schema_;
};

/// `name` quoted as an SQL identifier ("org_contoso"), for the DDL that names a schema.
std::string quote_identifier(std::string_view name);

/// Runs `body` inside BEGIN ... COMMIT; any error rolls back. READ COMMITTED: the store's
/// writes serialise on their organisation's feed counter row (see pg_agenda_store.cpp).
template <class F>
auto transaction(Connection& db, F&& body) -> decltype(body()) {
  if (auto begun = db.exec("BEGIN"); !begun) return std::unexpected(begun.error());
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

}  // namespace agendasync::store::pg
