// agendasync migrate: brings an organisation's tables up to this build's schema version.
// Parsing only; the work is store::migrate_database.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "store/migrate_database.h"

namespace agendasync::cli {

namespace {

int run_migrate(Context& context) {
  auto org = context.organisation();
  if (!org) {
    context.fail(org.error(), kExitRuntime);
    return context.exit_code;
  }
  // The organisation's own file on SQLite; the node's server on PostgreSQL.
  auto database = context.database_file();
  if (!database) {
    context.fail(database.error(), kExitRuntime);
    return context.exit_code;
  }
  auto report = store::migrate_database(database->string(), *org);
  if (!report) {
    context.fail(report.error(), kExitRuntime);
    return context.exit_code;
  }
  if (report->from == report->to) {
    std::cout << report->where << ": schema version " << report->to
              << " is current; nothing to do\n";
  } else {
    std::cout << report->where << ": schema version " << report->from << " -> " << report->to
              << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_migrate_command(CLI::App& app, Context& context) {
  auto* migrate = app.add_subcommand(
      "migrate",
      "Bring the organisation's tables up to this version's schema (PostgreSQL: creates the "
      "organisation's schema; run once, from one node, before upgrading the others)");
  migrate->callback([&context] { context.exit_code = run_migrate(context); });
}

}  // namespace agendasync::cli
