#include "service/sync_status.h"

#include <cctype>

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

json nullable(const store::sql::Rows& rows, std::size_t column) {
  return rows.is_null(0, column) ? json(nullptr) : json(rows.int_at(0, column));
}

}  // namespace

namespace {

// A run older than the row's last finish (a late batch) counts, and leaves the shown run.
constexpr const char* kUpsert =
    "INSERT INTO service_sync_status(user_name, runs, failures, last_started, last_finished, "
    "last_success, last_outcome, counts, backend) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT(user_name) DO UPDATE SET runs = service_sync_status.runs + 1, "
    "failures = service_sync_status.failures + ?2, "
    "last_started = CASE WHEN service_sync_status.last_finished IS NULL OR ?4 >= "
    "service_sync_status.last_finished THEN ?3 ELSE service_sync_status.last_started END, "
    "last_finished = CASE WHEN service_sync_status.last_finished IS NULL OR ?4 >= "
    "service_sync_status.last_finished THEN ?4 ELSE service_sync_status.last_finished END, "
    "last_success = CASE WHEN service_sync_status.last_success IS NULL OR ?5 > "
    "service_sync_status.last_success THEN COALESCE(?5, service_sync_status.last_success) "
    "ELSE service_sync_status.last_success END, "
    "last_outcome = CASE WHEN service_sync_status.last_finished IS NULL OR ?4 >= "
    "service_sync_status.last_finished THEN ?6 ELSE service_sync_status.last_outcome END, "
    "counts = CASE WHEN ?2 = 0 AND (service_sync_status.last_finished IS NULL OR ?4 >= "
    "service_sync_status.last_finished) THEN ?7 ELSE service_sync_status.counts END, "
    "backend = CASE WHEN ?8 = '' THEN service_sync_status.backend ELSE ?8 END";

struct RunRow {
  std::vector<store::sql::Value> values;
  std::vector<std::string> errors;
};

RunRow row_of(const SyncStatusStore::Run& run) {
  const bool ok = run.result.has_value();
  RunRow row;
  row.values = {run.user,
                std::int64_t{ok ? 0 : 1},
                run.started,
                run.finished,
                ok ? store::sql::Value(run.finished) : store::sql::Value(std::monostate{}),
                ok ? run.result->outcome : std::string("error"),
                ok ? counts_json(*run.result).dump() : std::string("{}"),
                ok ? run.result->backend : std::string()};
  if (!ok) {
    row.errors.push_back(std::string(to_string(run.result.error().kind)) + ": " +
                         run.result.error().message);
  } else {
    row.errors = run.result->errors;
  }
  return row;
}

Result<void> write_row(store::sql::Session& db, const std::string& user, const RunRow& row,
                       std::int64_t finished) {
  auto upserted = db.run(kUpsert, row.values);
  if (!upserted) return std::unexpected(upserted.error());
  if (row.errors.empty()) return {};
  for (const auto& message : row.errors) {
    // A message may quote what a server sent; the status reply's JSON must never meet
    // bytes that are not UTF-8 (nlohmann::json::dump throws on them).
    auto added =
        db.run("INSERT INTO service_sync_error(user_name, at, message) VALUES (?1, ?2, ?3)",
               {user, finished, repair_utf8(message)});
    if (!added) return std::unexpected(added.error());
  }
  auto trimmed = db.run(
      "DELETE FROM service_sync_error WHERE user_name = ?1 AND id NOT IN (SELECT id FROM "
      "service_sync_error WHERE user_name = ?1 ORDER BY id DESC LIMIT ?2)",
      {user, static_cast<std::int64_t>(SyncStatusStore::kErrorsKept)});
  if (!trimmed) return std::unexpected(trimmed.error());
  return {};
}

}  // namespace

bool quiet_result(const SyncResult& result) {
  if (result.outcome != "synced" || !result.errors.empty()) return false;
  for (auto side : sync::kBothSides) {
    const auto& counts = result.summary.sides[side];
    if (counts.created + counts.updated + counts.deleted + counts.failed > 0) return false;
  }
  return true;
}

Result<void> SyncStatusStore::record(const std::string& user, const Result<SyncResult>& result,
                                     std::int64_t started, std::int64_t finished) {
  const Run run{user, result, started, finished};
  return record_all(std::span(&run, 1));
}

Result<void> SyncStatusStore::record_all(std::span<const Run> runs) {
  if (runs.empty()) return {};
  if (runs.size() == 1) {
    const RunRow row = row_of(runs.front());
    // A run without errors (every idle run of the safety net) is the upsert alone: one
    // statement, committed on its own (it was BEGIN, the upsert, COMMIT; issue 14 §4).
    if (row.errors.empty()) {
      auto upserted = db_.run(kUpsert, row.values);
      if (!upserted) return std::unexpected(upserted.error());
      return {};
    }
  }
  return db_.transaction([&](store::sql::Session& db) -> Result<void> {
    for (const auto& run : runs) {
      if (auto written = write_row(db, run.user, row_of(run), run.finished); !written) {
        return written;
      }
    }
    return {};
  });
}

Result<json> SyncStatusStore::status(const std::string& user) {
  return db_.read([&](store::sql::Session& db) -> Result<json> {
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
    auto row = db.query(
        "SELECT runs, failures, last_started, last_finished, last_success, last_outcome, counts, "
        "backend FROM service_sync_status WHERE user_name = ?1",
        {user});
    if (!row) return std::unexpected(row.error());
    if (!row->empty()) {
      out["runs"] = row->int_at(0, 0);
      out["failures"] = row->int_at(0, 1);
      out["last_started"] = nullable(*row, 2);
      out["last_finished"] = nullable(*row, 3);
      out["last_success"] = nullable(*row, 4);
      out["last_outcome"] = row->text_at(0, 5);
      out["counts"] = json::parse(row->text_at(0, 6), nullptr, false);
      if (!row->text_at(0, 7).empty()) out["backend"] = row->text_at(0, 7);
    }
    auto errors = db.query(
        "SELECT at, message FROM service_sync_error WHERE user_name = ?1 ORDER BY id DESC", {user});
    if (!errors) return std::unexpected(errors.error());
    for (std::size_t i = 0; i < errors->size(); ++i) {
      out["errors"].push_back({{"at", errors->int_at(i, 0)}, {"message", errors->text_at(i, 1)}});
    }
    return out;
  });
}

Result<std::optional<std::int64_t>> SyncStatusStore::last_success(const std::string& user) {
  return db_.query_int("SELECT last_success FROM service_sync_status WHERE user_name = ?1", {user});
}

Result<std::map<std::string, std::int64_t>> SyncStatusStore::last_successes() {
  auto rows = db_.query(
      "SELECT user_name, last_success FROM service_sync_status WHERE last_success IS NOT NULL");
  if (!rows) return std::unexpected(rows.error());
  std::map<std::string, std::int64_t> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::string name = rows->text_at(i, 0);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = rows->int_at(i, 1);
  }
  return out;
}

Result<std::set<std::string>> SyncStatusStore::failing_users() {
  auto rows = db_.query("SELECT user_name FROM service_sync_status WHERE last_outcome = 'error'");
  if (!rows) return std::unexpected(rows.error());
  std::set<std::string> users;
  for (std::size_t i = 0; i < rows->size(); ++i) users.insert(rows->text_at(i, 0));
  return users;
}

Result<std::map<std::string, SyncStatusStore::Brief>> SyncStatusStore::briefs(
    const std::vector<std::string>& users) {
  std::map<std::string, Brief> out;
  if (users.empty()) return out;
  std::string marks;
  std::vector<store::sql::Value> names;
  // Rows carry the name as it was stored, which may differ in case from the one asked for
  // (names compare without case): each row goes to the asker's spelling.
  std::map<std::string, std::string> asked;
  auto folded = [](std::string name) {
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  };
  for (const auto& user : users) {
    marks += marks.empty() ? "?" : ",?";
    names.emplace_back(user);
    out[user];
    asked.emplace(folded(user), user);
  }
  auto entry = [&](const std::string& stored) -> Brief& {
    auto found = asked.find(folded(stored));
    return out[found == asked.end() ? stored : found->second];
  };
  return db_.read([&](store::sql::Session& db) -> Result<std::map<std::string, Brief>> {
    auto each = [&](const std::string& sql, auto&& row) -> Result<void> {
      auto rows = db.query(sql, names);
      if (!rows) return std::unexpected(rows.error());
      for (std::size_t i = 0; i < rows->size(); ++i) row(*rows, i, entry(rows->text_at(i, 0)));
      return {};
    };
    if (auto read =
            each("SELECT user_name, last_success, last_outcome FROM service_sync_status WHERE "
                 "user_name IN (" +
                     marks + ")",
                 [](const store::sql::Rows& rows, std::size_t i, Brief& brief) {
                   brief.last_success = rows.optional_int(i, 1);
                   brief.last_outcome = rows.text_at(i, 2);
                 });
        !read) {
      return std::unexpected(read.error());
    }
    if (auto read =
            each("SELECT user_name, message FROM service_sync_error WHERE id IN (SELECT MAX(id) "
                 "FROM service_sync_error WHERE user_name IN (" +
                     marks + ") GROUP BY user_name)",
                 [](const store::sql::Rows& rows, std::size_t i, Brief& brief) {
                   brief.last_error = rows.text_at(i, 1);
                 });
        !read) {
      return std::unexpected(read.error());
    }
    if (auto read = each(
            "SELECT user_name FROM service_user_mode WHERE admin_managed != 0 AND user_name "
            "IN (" +
                marks + ")",
            [](const store::sql::Rows&, std::size_t, Brief& brief) { brief.admin_managed = true; });
        !read) {
      return std::unexpected(read.error());
    }
    return out;
  });
}

Result<bool> SyncStatusStore::admin_managed(const std::string& user) {
  auto value =
      db_.query_int("SELECT admin_managed FROM service_user_mode WHERE user_name = ?1", {user});
  if (!value) return std::unexpected(value.error());
  return value->value_or(0) != 0;
}

Result<void> SyncStatusStore::set_admin_managed(const std::string& user, bool managed) {
  auto set = db_.run(
      "INSERT INTO service_user_mode(user_name, admin_managed) VALUES (?1, ?2) "
      "ON CONFLICT(user_name) DO UPDATE SET admin_managed = ?2",
      {user, static_cast<std::int64_t>(managed ? 1 : 0)});
  if (!set) return std::unexpected(set.error());
  return {};
}

}  // namespace agendasync::service
