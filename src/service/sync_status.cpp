#include "service/sync_status.h"
#include "core/utf8.h"

namespace agendasync::service {

using nlohmann::json;

namespace {

json counts_json(const SyncResult& result) {
  auto side = [](const sync::SideCounts& counts) {
    return json{{"created", counts.created},
                {"updated", counts.updated},
                {"deleted", counts.deleted},
                {"failed", counts.failed}};
  };
  return {{"host", side(result.summary.sides[sync::Side::kHost])},
          {"remote", side(result.summary.sides[sync::Side::kRemote])},
          {"linked", result.summary.linked},
          {"conflicts", result.summary.conflicts},
          {"skipped", result.summary.skipped}};
}

json nullable(const store::sqlite::Statement& statement, int column) {
  return statement.is_null(column) ? json(nullptr) : json(statement.int_at(column));
}

}  // namespace

Result<void> SyncStatusStore::record(const std::string& user, const Result<SyncResult>& result,
                                     std::int64_t started, std::int64_t finished) {
  return db_.with([&](store::sqlite::Connection& db) -> Result<void> {
    return store::sqlite::write_transaction(db, [&]() -> Result<void> {
      const bool ok = result.has_value();
      std::string outcome = ok ? result->outcome : std::string("error");
      std::string counts = ok ? counts_json(*result).dump() : std::string("{}");
      auto upserted = db.run(
          "INSERT INTO service_sync_status(user_name, runs, failures, last_started, "
          "last_finished, last_success, last_outcome, counts, backend) VALUES (?1, 1, ?2, ?3, "
          "?4, ?5, ?6, ?7, ?8) ON CONFLICT(user_name) DO UPDATE SET runs = runs + 1, failures = "
          "failures + ?2, last_started = ?3, last_finished = ?4, last_success = COALESCE(?5, "
          "last_success), last_outcome = ?6, counts = CASE WHEN ?2 = 0 THEN ?7 ELSE counts END, "
          "backend = CASE WHEN ?8 = '' THEN backend ELSE ?8 END",
          {user, static_cast<std::int64_t>(ok ? 0 : 1), started, finished,
           ok ? store::sqlite::Value(finished) : store::sqlite::Value(std::monostate{}), outcome,
           counts, ok ? result->backend : std::string()});
      if (!upserted) return upserted;
      std::vector<std::string> errors;
      if (!ok) {
        errors.push_back(std::string(to_string(result.error().kind)) + ": " +
                         result.error().message);
      } else {
        errors = result->errors;
      }
      for (const auto& message : errors) {
        // A message may quote what a server sent; the status reply's JSON must never meet
        // bytes that are not UTF-8 (nlohmann::json::dump throws on them).
        auto added =
            db.run("INSERT INTO service_sync_error(user_name, at, message) VALUES (?1, ?2, ?3)",
                   {user, finished, repair_utf8(message)});
        if (!added) return added;
      }
      return db.run(
          "DELETE FROM service_sync_error WHERE user_name = ?1 AND id NOT IN (SELECT id FROM "
          "service_sync_error WHERE user_name = ?1 ORDER BY id DESC LIMIT ?2)",
          {user, static_cast<std::int64_t>(kErrorsKept)});
    });
  });
}

Result<json> SyncStatusStore::status(const std::string& user) {
  return db_.read([&](store::sqlite::Connection& db) -> Result<json> {
    json out = {{"user_name", user},
                {"runs", 0},
                {"failures", 0},
                {"last_started", nullptr},
                {"last_finished", nullptr},
                {"last_success", nullptr},
                {"last_outcome", nullptr},
                {"counts", json::object()},
                {"backend", nullptr},
                {"errors", json::array()}};
    auto statement = db.prepare(
        "SELECT runs, failures, last_started, last_finished, last_success, last_outcome, counts, "
        "backend FROM service_sync_status WHERE user_name = ?1",
        {user});
    if (!statement) return std::unexpected(statement.error());
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (*row) {
      out["runs"] = statement->int_at(0);
      out["failures"] = statement->int_at(1);
      out["last_started"] = nullable(*statement, 2);
      out["last_finished"] = nullable(*statement, 3);
      out["last_success"] = nullable(*statement, 4);
      out["last_outcome"] = statement->text_at(5);
      out["counts"] = json::parse(statement->text_at(6), nullptr, false);
      if (!statement->text_at(7).empty()) out["backend"] = statement->text_at(7);
    }
    auto errors = db.prepare(
        "SELECT at, message FROM service_sync_error WHERE user_name = ?1 ORDER BY id DESC", {user});
    if (!errors) return std::unexpected(errors.error());
    while (true) {
      auto next = errors->step();
      if (!next) return std::unexpected(next.error());
      if (!*next) break;
      out["errors"].push_back({{"at", errors->int_at(0)}, {"message", errors->text_at(1)}});
    }
    return out;
  });
}

Result<std::optional<std::int64_t>> SyncStatusStore::last_success(const std::string& user) {
  return db_.read([&](store::sqlite::Connection& db) -> Result<std::optional<std::int64_t>> {
    return db.query_int("SELECT last_success FROM service_sync_status WHERE user_name = ?1",
                        {user});
  });
}

Result<std::set<std::string>> SyncStatusStore::failing_users() {
  return db_.read([&](store::sqlite::Connection& db) -> Result<std::set<std::string>> {
    auto statement =
        db.prepare("SELECT user_name FROM service_sync_status WHERE last_outcome = 'error'", {});
    if (!statement) return std::unexpected(statement.error());
    std::set<std::string> users;
    while (true) {
      auto row = statement->step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      users.insert(statement->text_at(0));
    }
    return users;
  });
}

Result<std::map<std::string, SyncStatusStore::Brief>> SyncStatusStore::briefs(
    const std::vector<std::string>& users) {
  std::map<std::string, Brief> out;
  if (users.empty()) return out;
  std::string marks;
  std::vector<store::sqlite::Value> names;
  for (const auto& user : users) {
    marks += marks.empty() ? "?" : ",?";
    names.emplace_back(user);
    out[user];
  }
  return db_.read([&](store::sqlite::Connection& db) -> Result<std::map<std::string, Brief>> {
    auto each = [&](const std::string& sql, auto&& row) -> Result<void> {
      auto statement = db.prepare(sql, names);
      if (!statement) return std::unexpected(statement.error());
      while (true) {
        auto next = statement->step();
        if (!next) return std::unexpected(next.error());
        if (!*next) return {};
        row(*statement, out[statement->text_at(0)]);
      }
    };
    if (auto read =
            each("SELECT user_name, last_success, last_outcome FROM service_sync_status WHERE "
                 "user_name IN (" +
                     marks + ")",
                 [](const store::sqlite::Statement& row, Brief& brief) {
                   if (!row.is_null(1)) brief.last_success = row.int_at(1);
                   brief.last_outcome = row.text_at(2);
                 });
        !read) {
      return std::unexpected(read.error());
    }
    if (auto read =
            each("SELECT user_name, message FROM service_sync_error WHERE id IN (SELECT MAX(id) "
                 "FROM service_sync_error WHERE user_name IN (" +
                     marks + ") GROUP BY user_name)",
                 [](const store::sqlite::Statement& row, Brief& brief) {
                   brief.last_error = row.text_at(1);
                 });
        !read) {
      return std::unexpected(read.error());
    }
    if (auto read =
            each("SELECT user_name FROM service_user_mode WHERE admin_managed != 0 AND user_name "
                 "IN (" +
                     marks + ")",
                 [](const store::sqlite::Statement&, Brief& brief) { brief.admin_managed = true; });
        !read) {
      return std::unexpected(read.error());
    }
    return out;
  });
}

Result<bool> SyncStatusStore::admin_managed(const std::string& user) {
  auto value = db_.read([&](store::sqlite::Connection& db) {
    return db.query_int("SELECT admin_managed FROM service_user_mode WHERE user_name = ?1", {user});
  });
  if (!value) return std::unexpected(value.error());
  return value->value_or(0) != 0;
}

Result<void> SyncStatusStore::set_admin_managed(const std::string& user, bool managed) {
  return db_.with([&](store::sqlite::Connection& db) {
    return db.run(
        "INSERT INTO service_user_mode(user_name, admin_managed) VALUES (?1, ?2) "
        "ON CONFLICT(user_name) DO UPDATE SET admin_managed = ?2",
        {user, static_cast<std::int64_t>(managed ? 1 : 0)});
  });
}

}  // namespace agendasync::service
