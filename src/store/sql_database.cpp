#include "store/sql_database.h"

#include "store/reader_pool.h"

#include <charconv>
#include <condition_variable>
#include <mutex>

#include "store/sqlite_connection.h"

namespace agendasync::store::sql {

std::string Rows::text_at(std::size_t row, std::size_t column) const {
  const auto& value = cell(row, column);
  return value ? *value : std::string();
}

std::int64_t Rows::int_at(std::size_t row, std::size_t column) const {
  return optional_int(row, column).value_or(0);
}

std::optional<std::int64_t> Rows::optional_int(std::size_t row, std::size_t column) const {
  const auto& value = cell(row, column);
  if (!value) return std::nullopt;
  std::int64_t number = 0;
  std::from_chars(value->data(), value->data() + value->size(), number);
  return number;
}

Result<std::optional<std::int64_t>> Session::query_int(std::string_view sql,
                                                       const std::vector<Value>& params) {
  auto rows = query(sql, params);
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<std::int64_t>{};
  return rows->optional_int(0, 0);
}

Result<Rows> Database::query(std::string_view sql, const std::vector<Value>& params) {
  return read([&](Session& session) { return session.query(sql, params); });
}

Result<std::optional<std::int64_t>> Database::query_int(std::string_view sql,
                                                        const std::vector<Value>& params) {
  return read([&](Session& session) { return session.query_int(sql, params); });
}

Result<std::int64_t> Database::run(std::string_view sql, const std::vector<Value>& params) {
  return call(Mode::kWrite, [&](Session& session) { return session.run(sql, params); });
}

Result<void> Database::exec(std::string_view script) {
  return call(Mode::kWrite, [&](Session& session) { return session.exec(script); });
}

std::string postgres_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int next = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    std::size_t digits = i + 1;
    while (digits < sql.size() && sql[digits] >= '0' && sql[digits] <= '9') ++digits;
    out += '$';
    if (digits > i + 1) {
      out.append(sql.substr(i + 1, digits - i - 1));
      i = digits - 1;
    } else {
      out += std::to_string(++next);
    }
  }
  return out;
}

namespace {

// --- SQLite ------------------------------------------------------------------------------

class SqliteSession final : public Session {
 public:
  explicit SqliteSession(sqlite::Connection& db) : db_(db) {}
  Engine engine() const override { return Engine::kSqlite; }

  Result<Rows> query(std::string_view sql, const std::vector<Value>& params) override {
    auto statement = db_.prepare(sql, convert(params));
    if (!statement) return std::unexpected(statement.error());
    Rows rows;
    const int columns = statement->column_count();
    while (true) {
      auto step = statement->step();
      if (!step) return std::unexpected(step.error());
      if (!*step) break;
      Rows::Row row(static_cast<std::size_t>(columns));
      for (int column = 0; column < columns; ++column) {
        if (!statement->is_null(column)) {
          row[static_cast<std::size_t>(column)] = statement->text_at(column);
        }
      }
      rows.add(std::move(row));
    }
    return rows;
  }

  Result<std::int64_t> run(std::string_view sql, const std::vector<Value>& params) override {
    if (auto ran = db_.run(sql, convert(params)); !ran) return std::unexpected(ran.error());
    return db_.changes();
  }

  Result<void> exec(std::string_view script) override { return db_.exec(script); }

 private:
  static std::vector<sqlite::Value> convert(const std::vector<Value>& params) {
    std::vector<sqlite::Value> out;
    out.reserve(params.size());
    for (const auto& param : params) {
      std::visit([&out](const auto& value) { out.emplace_back(value); }, param);
    }
    return out;
  }
  sqlite::Connection& db_;
};

Result<sqlite::Connection> connect_sqlite(const std::filesystem::path& path,
                                          bool fsync_every_commit) {
  auto db = sqlite::Connection::open(path, /*create=*/false);
  if (!db) return std::unexpected(db.error());
  // The store and the engine write the same file: wait for their locks instead of failing.
  if (auto set = db->exec(std::string("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; "
                                      "PRAGMA synchronous = ") +
                          (fsync_every_commit ? "FULL" : "NORMAL"));
      !set) {
    return std::unexpected(set.error());
  }
  return db;
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(sqlite::Connection writer, std::string where,
                 std::unique_ptr<ReaderPool<sqlite::Connection>> readers)
      : writer_(std::move(writer)), where_(std::move(where)), readers_(std::move(readers)) {}
  Engine engine() const override { return Engine::kSqlite; }
  const std::string& where() const override { return where_; }
  void close_idle_readers() override {
    if (readers_) readers_->trim();
  }
  std::size_t open_readers() const override { return readers_ ? readers_->open_count() : 0; }

 protected:
  Result<void> with_session(Mode mode, const std::function<Result<void>(Session&)>& body) override {
    if (mode == Mode::kRead && readers_) {
      return readers_->with([&](sqlite::Connection& reader) {
        SqliteSession session(reader);
        return body(session);
      });
    }
    std::lock_guard lock(writer_mutex_);
    SqliteSession session(writer_);
    if (mode != Mode::kTransaction) return body(session);
    return sqlite::write_transaction(writer_, [&] { return body(session); });
  }

 private:
  std::mutex writer_mutex_;
  sqlite::Connection writer_;
  std::string where_;
  /// Opened on demand, closed when idle (reader_pool.h); null = every call on the writer.
  std::unique_ptr<ReaderPool<sqlite::Connection>> readers_;
};

// --- PostgreSQL --------------------------------------------------------------------------

class PgSession final : public Session {
 public:
  explicit PgSession(pg::Connection& db) : db_(db) {}
  Engine engine() const override { return Engine::kPostgres; }

  Result<Rows> query(std::string_view sql, const std::vector<Value>& params) override {
    auto result = db_.query(postgres_placeholders(sql), params);
    if (!result) return std::unexpected(result.error());
    Rows rows;
    const int columns = result->columns();
    for (int r = 0; r < result->size(); ++r) {
      Rows::Row row(static_cast<std::size_t>(columns));
      for (int column = 0; column < columns; ++column) {
        if (!result->is_null(r, column)) {
          row[static_cast<std::size_t>(column)] = result->text_at(r, column);
        }
      }
      rows.add(std::move(row));
    }
    return rows;
  }

  Result<std::int64_t> run(std::string_view sql, const std::vector<Value>& params) override {
    return db_.run(postgres_placeholders(sql), params);
  }

  Result<void> exec(std::string_view script) override { return db_.exec(script); }

 private:
  pg::Connection& db_;
};

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(std::shared_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}
  Engine engine() const override { return Engine::kPostgres; }
  const std::string& where() const override { return pool_->where(); }

 protected:
  Result<void> with_session(Mode mode, const std::function<Result<void>(Session&)>& body) override {
    auto borrowed = pool_->borrow();
    if (!borrowed) return std::unexpected(borrowed.error());
    PgSession session(**borrowed);
    if (mode != Mode::kTransaction) return body(session);
    return pg::transaction(**borrowed, [&] { return body(session); });
  }

 private:
  std::shared_ptr<pg::Pool> pool_;
};

}  // namespace

Result<std::unique_ptr<Database>> open_sqlite_database(const std::filesystem::path& path,
                                                       SqliteDatabaseOptions options) {
  auto writer = connect_sqlite(path, options.fsync_every_commit);
  if (!writer) return std::unexpected(writer.error());
  if (auto wal = sqlite::enable_wal(*writer, std::chrono::seconds(5)); !wal) {
    return std::unexpected(wal.error());
  }
  std::unique_ptr<ReaderPool<sqlite::Connection>> readers;
  if (options.readers > 0) {
    readers = std::make_unique<ReaderPool<sqlite::Connection>>(
        [path,
         fsync = options.fsync_every_commit]() -> Result<std::unique_ptr<sqlite::Connection>> {
          auto reader = connect_sqlite(path, fsync);
          if (!reader) return std::unexpected(reader.error());
          return std::make_unique<sqlite::Connection>(std::move(*reader));
        },
        ReaderPool<sqlite::Connection>::Options{
            .max_open = options.readers, .keep_open = 0, .idle_limit = options.reader_idle_limit});
  }
  return std::unique_ptr<Database>(
      std::make_unique<SqliteDatabase>(std::move(*writer), path.string(), std::move(readers)));
}

Result<std::unique_ptr<Database>> open_pg_database(pg::Target target, pg::PoolOptions options) {
  auto pool = pg::Pool::open(std::move(target), options);
  if (!pool) return std::unexpected(pool.error());
  return std::unique_ptr<Database>(std::make_unique<PgDatabase>(std::move(*pool)));
}

}  // namespace agendasync::store::sql
