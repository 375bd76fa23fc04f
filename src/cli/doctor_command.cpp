// agendasync doctor (R8): the EWS connectivity test, one line per check.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"

namespace agendasync::cli {

void add_doctor_command(CLI::App& app, Context& context) {
  auto* doctor = app.add_subcommand(
      "doctor",
      "Test the Exchange connection: DNS, TCP, TLS, authentication, server version, and each "
      "enabled user's impersonation and calendar access; exit 1 when any check fails");
  doctor->callback([&context] {
    auto opened = open_app(context);
    if (!opened) return context.fail(opened.error(), kExitRuntime);
    const auto checks = opened->app->doctor();
    bool all_pass = !checks.empty();
    for (const auto& check : checks) {
      std::cout << (check.pass ? "PASS " : "FAIL ") << check.check << ": " << check.detail;
      if (!check.pass && !check.remedy.empty()) std::cout << "\n     fix: " << check.remedy;
      std::cout << "\n";
      all_pass = all_pass && check.pass;
    }
    context.exit_code = all_pass ? kExitOk : kExitRuntime;
  });
}

}  // namespace agendasync::cli
