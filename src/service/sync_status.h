#pragma once
/// Per-user sync status and error history (R32): run counts, the last start, finish and
/// success, the last outcome with its counts, and the most recent errors.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/scheduler.h"
#include "service/service_db.h"

namespace agendasync::service {

/// A run that synced, changed nothing and met no error: the safety net's idle run, whose
/// status may be written with others (StatusBatch).
bool quiet_result(const SyncResult& result);

class SyncStatusStore {
 public:
  explicit SyncStatusStore(ServiceDb& db) : db_(db.sql()) {}
  /// Records a finished run; keeps the newest `kErrorsKept` errors per user.
  Result<void> record(const std::string& user, const Result<SyncResult>& result,
                      std::int64_t started, std::int64_t finished);
  /// One finished run (unix seconds).
  struct Run {
    std::string user;
    Result<SyncResult> result;
    std::int64_t started = 0;
    std::int64_t finished = 0;
  };
  /// Records runs in the order given, in one transaction (the daemon's idle runs, written
  /// together: StatusBatch). Every run counts; a run that finished before the one shown
  /// (a late batch of another node) leaves the shown run's times and outcome alone.
  Result<void> record_all(std::span<const Run> runs);
  /// The status as the API shows it (a never-synced user has runs = 0 and nulls).
  Result<nlohmann::json> status(const std::string& user);
  /// The unix time of the user's last successful run, nullopt when never.
  Result<std::optional<std::int64_t>> last_success(const std::string& user);
  /// The same for every user that ever succeeded, by user name in lower case, in one query:
  /// /metrics sets a gauge per user, and a query per user made each scrape of 10,000 users
  /// cost 10,000 statements (bench_multinode's metrics_scrape).
  Result<std::map<std::string, std::int64_t>> last_successes();
  /// The users whose last run failed (the console's "failing" filter), in one query.
  Result<std::set<std::string>> failing_users();

  /// A row of the console's users table: the last run in brief.
  struct Brief {
    std::optional<std::int64_t> last_success;
    std::string last_outcome;  ///< empty: never ran
    std::string last_error;    ///< the newest error message, empty when none
    bool admin_managed = false;
  };
  /// The brief of each of `users` (a page of at most a few hundred) in three queries, not
  /// three per user. Users without a row get an empty Brief.
  Result<std::map<std::string, Brief>> briefs(const std::vector<std::string>& users);

  /// R11 resource mode: the admin, not the user, manages this user's sync.
  Result<bool> admin_managed(const std::string& user);
  Result<void> set_admin_managed(const std::string& user, bool managed);

  static constexpr int kErrorsKept = 20;

 private:
  store::sql::Database& db_;
};

}  // namespace agendasync::service
