// agendasync doctor (R8): the configured backend's connectivity test, one line per check.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"

namespace agendasync::cli {

void add_doctor_command(CLI::App& app, Context& context) {
  auto* doctor = app.add_subcommand(
      "doctor",
      "Test the Exchange connection. EWS: DNS, TCP, TLS, authentication, server version, each "
      "enabled user's impersonation and calendar access. Graph: app token, granted roles, the "
      "tenant's admin-consent URL, each enabled user's mailbox, calendar and mailbox time zone. "
      "Exit 1 when any check fails");
  doctor->callback([&context] {
    auto opened = open_app(context);
    if (!opened) return context.fail(opened.error(), kExitRuntime);
    const auto checks = opened->app->doctor();
    bool all_pass = !checks.empty();
    for (const auto& check : checks) {
      std::cout << (check.warning ? "WARN "
                    : check.pass  ? "PASS "
                                  : "FAIL ")
                << check.check << ": " << check.detail;
      if ((!check.pass || check.warning) && !check.remedy.empty()) {
        std::cout << "\n     fix: " << check.remedy;
      }
      std::cout << "\n";
      all_pass = all_pass && check.pass;
    }
    context.exit_code = all_pass ? kExitOk : kExitRuntime;
  });
}

}  // namespace agendasync::cli
