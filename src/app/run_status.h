#pragma once
/// The last run of each user's pair as `agendasync status` shows it (last sync, outcome,
/// counts, last error): built here from a run's outcome, kept as one row per pair in the sync
/// state database (store/sync_state/run_status_table.h), beside the pair's state.
#include <string>

#include "core/error.h"
#include "store/sync_state/run_status_table.h"
#include "sync/engine.h"

namespace agendasync::app {

using RunStatus = store::RunStatus;

/// The status of a run the engine finished at `at` with `outcome` (to_string(UserRun::Outcome)):
/// its counts, its first error (a quarantined run: the breaker's reason), and `at` as the last
/// success when everything synced.
RunStatus finished_run(Instant at, const std::string& outcome, const sync::RunReport& report);

/// The status of a run that failed at `at` with `error` (the last success carries over).
RunStatus failed_run(Instant at, const Error& error);

}  // namespace agendasync::app
