#include "store/sync_state/run_status_table.h"

namespace agendasync::store {
namespace {

// The daemon writes idle runs' statuses up to a second late, in batches: another process's
// newer run recorded meanwhile keeps its row (a run of the same second is the later one), and
// a late success still moves last_success. Every SET expression reads the row as it was.
constexpr const char* kUpsert =
    "INSERT INTO sync_run_status(pair, at, outcome, summary, last_error, last_success) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(pair) DO UPDATE SET "
    "at = MAX(sync_run_status.at, excluded.at), "
    "outcome = IIF(excluded.at >= sync_run_status.at, excluded.outcome, sync_run_status.outcome), "
    "summary = IIF(excluded.at >= sync_run_status.at, excluded.summary, sync_run_status.summary), "
    "last_error = IIF(excluded.at >= sync_run_status.at, excluded.last_error, "
    "sync_run_status.last_error), "
    "last_success = MAX(sync_run_status.last_success, excluded.last_success)";

std::int64_t seconds_of(Instant at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

}  // namespace

Result<void> SqliteRunStatus::record(const std::string& pair, const RunStatus& status) {
  const std::pair<std::string, RunStatus> one{pair, status};
  return record_all(std::span(&one, 1));
}

Result<void> SqliteRunStatus::record_all(
    std::span<const std::pair<std::string, RunStatus>> statuses) {
  if (statuses.empty()) return {};
  // A status is written every cycle of every pair; an fsync each time was most of an idle
  // cycle's cost. synchronous=NORMAL in WAL appends the rows without syncing; the next FULL
  // commit of the sync state (or a checkpoint) makes them durable.
  if (auto relaxed = db_->exec("PRAGMA synchronous = NORMAL"); !relaxed) return relaxed;
  auto stored = sqlite::write_transaction(*db_, [&]() -> Result<void> {
    for (const auto& [pair, status] : statuses) {
      auto row = db_->run(kUpsert, {pair, seconds_of(status.at), status.outcome, status.summary,
                                    status.last_error, seconds_of(status.last_success)});
      if (!row) return row;
    }
    return {};
  });
  auto strict = db_->exec("PRAGMA synchronous = FULL");
  if (!stored) return stored;
  return strict;
}

Result<std::optional<RunStatus>> SqliteRunStatus::read(const std::string& pair) {
  auto statement = db_->prepare(
      "SELECT at, outcome, summary, last_error, last_success FROM sync_run_status WHERE pair = ?1",
      {pair});
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::nullopt;
  RunStatus status;
  status.at = Instant{std::chrono::seconds{statement->int_at(0)}};
  status.outcome = statement->text_at(1);
  status.summary = statement->text_at(2);
  status.last_error = statement->text_at(3);
  status.last_success = Instant{std::chrono::seconds{statement->int_at(4)}};
  return status;
}

}  // namespace agendasync::store
