#include "store/pg_connection.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>

namespace agendasync::store::pg {

namespace {

/// What the SQLSTATE class says the caller may do (PostgreSQL manual, appendix A).
ErrorKind kind_of(std::string_view state) {
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57P01" ||
      state == "57P02" || state == "57P03" || state.starts_with("08") || state.starts_with("53")) {
    return ErrorKind::kTransient;  // serialisation, deadlock, lock timeout, restart, resources
  }
  if (state == "23505") return ErrorKind::kConflict;  // unique violation
  if (state.starts_with("23") || state.starts_with("22")) return ErrorKind::kInvalidData;
  if (state.starts_with("28")) return ErrorKind::kAuth;
  if (state == "42501") return ErrorKind::kPermission;
  return ErrorKind::kPermanent;
}

/// host:port/dbname of a live or failed connection, without user or password.
std::string where_of(pg_conn* conn, const std::string& schema) {
  auto text = [](const char* value) {
    return value && *value ? std::string(value) : std::string();
  };
  std::string host = text(PQhost(conn));
  if (host.empty() || host.front() == '/') host = host.empty() ? "localhost" : host;
  std::string where = "postgresql://" + host + ":" + text(PQport(conn)) + "/" + text(PQdb(conn));
  if (!schema.empty()) where += ", schema " + schema;
  return where;
}

std::string trimmed(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

/// A failed connection attempt as an error a person can act on.
Error connect_error(pg_conn* conn, const std::string& schema) {
  const std::string where = where_of(conn, schema);
  const std::string reason = trimmed(PQerrorMessage(conn));
  if (reason.find("password authentication failed") != std::string::npos ||
      reason.find("no password supplied") != std::string::npos ||
      reason.find("authentication failed") != std::string::npos) {
    return Error::make(ErrorKind::kAuth,
                       "PostgreSQL at " + where + " refused the user or password (" + reason +
                           "); give the password in PGPASSWORD or ~/.pgpass of the user running "
                           "agendasync, never in the configuration file");
  }
  if (reason.find("does not exist") != std::string::npos) {
    return Error::make(ErrorKind::kNotFound, "PostgreSQL at " + where + ": " + reason +
                                                 "; create the database (createdb) or fix "
                                                 "`database` in the configuration");
  }
  return Error::make(ErrorKind::kTransient,
                     "PostgreSQL at " + where + " is unreachable (" + reason +
                         "); check that the server runs and accepts connections from this node "
                         "(listen_addresses, pg_hba.conf) and that `database` names it");
}

}  // namespace

Rows::Rows(pg_result* result) : result_(result), rows_(result ? PQntuples(result) : 0) {}
Rows::Rows(Rows&& other) noexcept : result_(other.result_), rows_(other.rows_) {
  other.result_ = nullptr;
  other.rows_ = 0;
}
Rows::~Rows() { PQclear(result_); }

int Rows::columns() const { return result_ ? PQnfields(result_) : 0; }

bool Rows::is_null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
std::string Rows::text_at(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column),
                     static_cast<std::size_t>(PQgetlength(result_, row, column)));
}
std::int64_t Rows::int_at(int row, int column) const {
  return std::strtoll(PQgetvalue(result_, row, column), nullptr, 10);
}
bool Rows::bool_at(int row, int column) const {
  const char* value = PQgetvalue(result_, row, column);
  return value[0] == 't' || (value[0] >= '1' && value[0] <= '9') || value[0] == '-';
}
std::int64_t Rows::affected() const {
  const char* tuples = PQcmdTuples(result_);
  return tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
}

Result<std::unique_ptr<Connection>> Connection::open(const Target& target) {
  // Our defaults first: the expanded conninfo comes after them and overrides what it sets.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "agendasync", target.conninfo.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (!conn) return fail(ErrorKind::kPermanent, "PostgreSQL: out of memory while connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    Error error = connect_error(conn, target.schema);
    PQfinish(conn);
    return std::unexpected(error);
  }
  std::unique_ptr<Connection> connection(
      new Connection(conn, where_of(conn, target.schema), target.schema));
  // Every statement of the store is unqualified: the search_path alone decides which
  // organisation's tables it reaches (isolation by construction, as a file per organisation).
  // pg_catalog stays implicitly first, so nothing else is reachable.
  // Notices ("drop cascades to ...") are not for a person reading our log.
  std::string settings = "SET TIME ZONE 'UTC'; SET client_min_messages TO WARNING";
  if (!target.schema.empty()) settings += "; SET search_path TO " + quote_identifier(target.schema);
  if (auto set = connection->exec(settings); !set) return std::unexpected(set.error());
  return connection;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

bool Connection::in_transaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }

Error Connection::error_of(pg_result* result, std::string_view sql) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result ? trimmed(PQresultErrorMessage(result)) : "";
  if (message.empty()) message = trimmed(PQerrorMessage(conn_));
  const std::string code = state ? state : "";
  std::string text = "PostgreSQL " + where_ + ": " + message;
  if (!healthy()) {
    text += " (the connection was lost; the operation is retried on a new one)";
    return Error::make(ErrorKind::kTransient, text, code);
  }
  if (code == "3F000" || code == "42P01") {
    text += "; the organisation's tables are missing: run `agendasync migrate`";
  }
  (void)sql;
  return Error::make(code.empty() ? ErrorKind::kTransient : kind_of(code), text, code);
}

Result<void> Connection::exec(std::string_view sql) {
  pg_result* result = PQexec(conn_, std::string(sql).c_str());
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    Error error = error_of(result, sql);
    PQclear(result);
    return std::unexpected(error);
  }
  PQclear(result);
  return {};
}

Result<Rows> Connection::query(std::string_view sql, const std::vector<Value>& params) {
  std::vector<std::string> texts(params.size());
  std::vector<const char*> pointers(params.size(), nullptr);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
      texts[i] = std::to_string(*number);
      pointers[i] = texts[i].c_str();
    } else if (const auto* text = std::get_if<std::string>(&params[i])) {
      pointers[i] = text->c_str();
    }
  }
  pg_result* result = PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(params.size()),
                                   nullptr, pointers.data(), nullptr, nullptr, /*resultFormat=*/0);
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error error = error_of(result, sql);
    PQclear(result);
    return std::unexpected(error);
  }
  return Rows(result);
}

Result<std::int64_t> Connection::run(std::string_view sql, const std::vector<Value>& params) {
  auto rows = query(sql, params);
  if (!rows) return std::unexpected(rows.error());
  return rows->affected();
}

Result<std::optional<std::int64_t>> Connection::query_int(std::string_view sql,
                                                          const std::vector<Value>& params) {
  auto rows = query(sql, params);
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty() || rows->is_null(0, 0)) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{rows->int_at(0, 0)};
}

std::string quote_identifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace agendasync::store::pg
