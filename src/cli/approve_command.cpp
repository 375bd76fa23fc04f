// agendasync approve --user NAME (R38) and agendasync offboard --user NAME (R40)
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"

namespace agendasync::cli {

void add_approve_command(CLI::App& app, Context& context) {
  auto user = std::make_shared<std::string>();
  auto* approve = app.add_subcommand(
      "approve", "Let a quarantined user's next sync through the circuit breaker (once)");
  approve->add_option("--user", *user, "The quarantined user (host user name)")->required();
  approve->callback([&context, user] {
    auto opened = open_app(context);
    if (!opened) return context.fail(opened.error(), kExitRuntime);
    if (auto done = opened->app->approve(*user); !done)
      return context.fail(done.error(), kExitRuntime);
    std::cout << "approved: the next `agendasync sync --user " << *user << "` applies its plan\n";
    context.exit_code = kExitOk;
  });
}

void add_offboard_command(CLI::App& app, Context& context) {
  auto user = std::make_shared<std::string>();
  auto* offboard = app.add_subcommand(
      "offboard",
      "Remove the items the sync created in a user's Exchange calendar (never the user's own) "
      "and forget the pair");
  offboard->add_option("--user", *user, "The user to offboard (host user name)")->required();
  offboard->callback([&context, user] {
    auto opened = open_app(context);
    if (!opened) return context.fail(opened.error(), kExitRuntime);
    auto report = opened->app->offboard(*user);
    if (!report) return context.fail(report.error(), kExitRuntime);
    std::cout << *user << ": " << report->deleted << " removed, " << report->kept
              << " kept (made by the user)\n";
    for (const auto& error : report->errors) std::cerr << "  " << error << "\n";
    context.exit_code = report->errors.empty() ? kExitOk : kExitRuntime;
  });
}

}  // namespace agendasync::cli
