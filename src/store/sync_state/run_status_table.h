#pragma once
/// The last run of each pair (`agendasync status`: last sync, outcome, counts, last error),
/// one row per pair in the state database. Written without an fsync of its own: a power cut
/// may lose the newest status line, never the sync state (whose commits do fsync).
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "core/appointment.h"
#include "core/error.h"
#include "store/sqlite_connection.h"

namespace agendasync::store {

struct RunStatus {
  Instant at{};            ///< when the run finished
  std::string outcome;     ///< synced, partial, quarantined, failed
  std::string summary;     ///< sync::format_summary of the run
  std::string last_error;  ///< empty when the run had none
  Instant last_success{};  ///< the newest run that synced everything (epoch = never)
  bool operator==(const RunStatus&) const = default;
};

class SqliteRunStatus {
 public:
  /// The statuses in an open state database (open_state_database in sqlite_sync_state.h).
  explicit SqliteRunStatus(std::shared_ptr<sqlite::Connection> db) : db_(std::move(db)) {}

  /// Records a run of `pair`, carrying `last_success` over from the previous record when
  /// this run did not succeed (last_success left at the epoch).
  Result<void> record(const std::string& pair, const RunStatus& status);
  /// The same for many pairs in one transaction: a cycle over many idle pairs writes their
  /// statuses together instead of one WAL commit per pair (issue 14).
  Result<void> record_all(std::span<const std::pair<std::string, RunStatus>> statuses);
  /// The pair's last run; nullopt when it never ran.
  Result<std::optional<RunStatus>> read(const std::string& pair);

 private:
  std::shared_ptr<sqlite::Connection> db_;
};

}  // namespace agendasync::store
