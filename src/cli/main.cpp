// agendasync: the command-line interface (R31). Thin: parsing and printing only.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/arguments.h"
#include "cli/commands.h"
#include "cli/context.h"

int main(int argc, char** argv) {
  using namespace agendasync::cli;
  // Before anything runs: a command must not half-apply text it cannot store (issue 13).
  if (auto invalid = invalid_utf8_argument(argc, argv)) {
    std::cerr << "agendasync: error: " << *invalid << "\n";
    return kExitUsage;
  }
  Context context;
  CLI::App app{"AgendaSync: keeps a business agenda in step with Exchange calendars.",
               "agendasync"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command
  app.add_option("--config", context.global.config_path,
                 "Configuration file (default: $AGENDASYNC_CONFIG, else ./agendasync.toml, else "
                 "/etc/agendasync/agendasync.toml)");
  app.add_option("--database", context.global.database_path,
                 "Agenda database; overrides `database` in the configuration");
  app.add_option("--org", context.global.org,
                 "Organisation to act on (needed when the node holds several; "
                 "`agendasync orgs list`)");

  add_init_command(app, context);
  add_users_command(app, context);
  add_activity_types_command(app, context);
  add_settings_command(app, context);
  add_appointments_command(app, context);
  add_version_command(app, context);
  add_sync_command(app, context);
  add_approve_command(app, context);
  add_offboard_command(app, context);
  add_status_command(app, context);
  add_doctor_command(app, context);
  add_serve_command(app, context);
  add_tokens_command(app, context);
  add_secrets_command(app, context);
  add_orgs_command(app, context);
  add_backup_commands(app, context);
  add_migrate_command(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help prints and exits 0; anything else is a usage error.
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return context.exit_code;
}
