#include "daemon/console_operations.h"

#include <sstream>

#include "sync/summary.h"

namespace agendasync::daemon {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto first = line.find_first_not_of(' ');
    if (first != std::string::npos) lines.push_back(line.substr(first));
  }
  return lines;
}

}  // namespace

service::ConsoleOperations console_operations(std::shared_ptr<OrganisationPools> pools) {
  service::ConsoleOperations operations;
  operations.test_connection =
      [pools](const std::string& org) -> Result<std::vector<service::ConnectionCheck>> {
    std::vector<service::ConnectionCheck> checks;
    auto ran = pools->with_app(org, [&checks](app::SyncApp& app) -> Result<void> {
      for (const auto& check : app.doctor()) {
        checks.push_back({check.check, check.pass, check.warning, check.detail, check.remedy});
      }
      return {};
    });
    // A connection that cannot even be opened (none chosen, a secret missing) is the first
    // failing check, not an error of the request: the page shows it like the others.
    if (!ran) {
      checks = {{"connection", false, false, ran.error().message,
                 "choose a backend, fill in its fields and secrets, save, then test again"}};
    }
    return checks;
  };
  operations.plan = [pools](const std::string& org,
                            const std::string& user) -> Result<service::PairPlan> {
    service::PairPlan plan;
    auto ran = pools->with_app(org, [&](app::SyncApp& app) -> Result<void> {
      auto run = app.sync_user(user, /*dry_run=*/true);
      if (!run) return std::unexpected(run.error());
      if (run->outcome == app::UserRun::Outcome::kFailed && run->error) {
        return std::unexpected(*run->error);
      }
      plan.outcome = app::to_string(run->outcome);
      plan.reason = run->reason;
      if (run->report) {
        plan.summary = sync::format_summary(run->report->summary);
        plan.operations = lines_of(sync::format_plan(run->report->plan));
        plan.quarantine_reason = run->report->quarantine_reason;
      }
      return {};
    });
    if (!ran) return std::unexpected(ran.error());
    return plan;
  };
  operations.approve = [pools](const std::string& org, const std::string& user) -> Result<void> {
    return pools->with_app(org, [&](app::SyncApp& app) { return app.approve(user); });
  };
  operations.offboard = [pools](const std::string& org,
                                const std::string& user) -> Result<std::size_t> {
    std::size_t removed = 0;
    auto ran = pools->with_app(org, [&](app::SyncApp& app) -> Result<void> {
      auto report = app.offboard(user);
      if (!report) return std::unexpected(report.error());
      removed = report->deleted;
      return {};
    });
    if (!ran) return std::unexpected(ran.error());
    return removed;
  };
  return operations;
}

}  // namespace agendasync::daemon
