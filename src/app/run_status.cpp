#include "app/run_status.h"

#include "sync/summary.h"

namespace agendasync::app {

RunStatus finished_run(Instant at, const std::string& outcome, const sync::RunReport& report) {
  RunStatus status;
  status.at = at;
  status.outcome = outcome;
  status.summary = sync::format_summary(report.summary);
  if (!report.errors.empty()) status.last_error = report.errors.front();
  if (report.outcome == sync::RunOutcome::kQuarantined)
    status.last_error = report.quarantine_reason;
  if (report.outcome == sync::RunOutcome::kSynced) status.last_success = at;
  return status;
}

RunStatus failed_run(Instant at, const Error& error) {
  return RunStatus{at, "failed", "", error.message, {}};
}

}  // namespace agendasync::app
