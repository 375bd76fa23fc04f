// agendasync sync [--user NAME] [--dry-run] and agendasync plan (R31, R37)
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "sync/summary.h"

namespace agendasync::cli {
namespace {

struct SyncOptions {
  std::string user;
  bool dry_run = false;
};

/// Runs shorter than this many writes finish too fast for a bar to help.
constexpr std::size_t kProgressBarMinimum = 50;

/// Redraws one line on the terminal: "JDOE [########            ] 120/300".
void draw_progress(const app::Progress& progress) {
  if (progress.total < kProgressBarMinimum) return;
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = progress.total ? kWidth * progress.done / progress.total : 0;
  std::cout << "\r" << progress.user << " [" << std::string(filled, '#')
            << std::string(kWidth - filled, ' ') << "] " << progress.done << "/" << progress.total
            << std::flush;
  if (progress.phase == app::Progress::Phase::kDone) std::cout << "\n";
}

/// The plan of a run that wrote nothing (R37): each operation, then the counts.
void print_plan(const sync::RunReport& report) {
  const std::string plan = sync::format_plan(report.plan);
  std::cout << (plan.empty() ? std::string("  nothing to do\n") : plan);
  if (!plan.empty() && plan.back() != '\n') std::cout << "\n";
  std::cout << "  would do: " << sync::format_summary(report.summary) << "\n";
}

/// One user's result: the plan for a dry run (R37) or a run the breaker or first-sync
/// approval stopped (R38), else the summary.
void print_run(const app::UserRun& run) {
  const std::string who = run.mailbox.empty() ? run.user : run.user + " (" + run.mailbox + ")";
  switch (run.outcome) {
    case app::UserRun::Outcome::kSkipped:
      std::cout << who << ": skipped (" << run.reason << ")\n";
      return;
    case app::UserRun::Outcome::kFailed:
      std::cout << who << ": failed\n";
      std::cerr << "agendasync: error: " << run.user << ": " << run.error->message << "\n";
      return;
    case app::UserRun::Outcome::kQuarantined:
      std::cout << who << ": quarantined\n";
      if (run.error) std::cerr << "agendasync: error: " << run.error->message << "\n";
      if (run.report) {
        // The run stopped after planning: its plan is the dry run the admin approves.
        std::cout << "  reason: " << run.report->quarantine_reason << "\n"
                  << "  plan (nothing written):\n";
        print_plan(*run.report);
        std::cout << "  review: agendasync plan --user " << run.user
                  << "\n  then:   agendasync approve --user " << run.user << "\n";
      }
      return;
    case app::UserRun::Outcome::kDryRun:
      std::cout << who << ": plan (dry run, nothing written)\n";
      print_plan(*run.report);
      return;
    case app::UserRun::Outcome::kSynced:
    case app::UserRun::Outcome::kPartial:
      std::cout << who << ": " << app::to_string(run.outcome) << " - "
                << sync::format_summary(run.report->summary) << "\n";
      for (const auto& error : run.report->errors) std::cerr << "  " << error << "\n";
      for (const auto& [side, repair] : run.report->text_repairs) {
        std::cerr << "  warning: " << sync::format_text_repair(side, repair) << "\n";
      }
      return;
  }
}

void run_sync(Context& context, const SyncOptions& options) {
  auto opened = open_app(context);
  if (!opened) return context.fail(opened.error(), kExitRuntime);
  app::ProgressFn progress;
  if (!options.dry_run && ::isatty(STDOUT_FILENO)) progress = draw_progress;

  std::vector<app::UserRun> runs;
  if (!options.user.empty()) {
    auto run = opened->app->sync_user(options.user, options.dry_run, progress);
    if (!run) return context.fail(run.error(), kExitRuntime);
    runs.push_back(std::move(*run));
  } else {
    auto all = opened->app->sync_all(options.dry_run, progress);
    if (!all) return context.fail(all.error(), kExitRuntime);
    runs = std::move(*all);
  }
  context.exit_code = kExitOk;
  for (const auto& run : runs) {
    print_run(run);
    // Anything an admin must look at (a failure, failed writes, a quarantine) is exit 1,
    // so scripts and cron notice.
    if (run.outcome == app::UserRun::Outcome::kFailed ||
        run.outcome == app::UserRun::Outcome::kPartial ||
        run.outcome == app::UserRun::Outcome::kQuarantined) {
      context.exit_code = kExitRuntime;
    }
  }
}

}  // namespace

void add_sync_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<SyncOptions>();
  auto* sync = app.add_subcommand(
      "sync", "Sync every enabled user's agenda with their Exchange calendar (or one user)");
  sync->add_option("--user", options->user, "Only this user (host user name)");
  sync->add_flag("--dry-run", options->dry_run,
                 "Print what would be created, updated and deleted; write nothing");
  sync->callback([&context, options] { run_sync(context, *options); });

  auto plan_options = std::make_shared<SyncOptions>();
  auto* plan =
      app.add_subcommand("plan", "Print the plan of the next sync (same as sync --dry-run)");
  plan->add_option("--user", plan_options->user, "Only this user (host user name)");
  plan->callback([&context, plan_options] {
    plan_options->dry_run = true;
    run_sync(context, *plan_options);
  });
}

}  // namespace agendasync::cli
