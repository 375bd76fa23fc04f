// agendasync migrate (issue 19): brings the node's SQLite agendas to this build's schema, as
// opening them would, but as one explicit step the Debian package's install step runs (after
// a backup) and an operator can run on purpose. `--status` changes nothing and prints, last,
// `status: current|behind|ahead` for scripts (the package refuses a downgrade on `ahead`).
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "app/node_data.h"
#include "cli/commands.h"
#include "cli/context.h"

namespace agendasync::cli {

namespace {

struct MigrateFlags {
  bool status = false;
  std::string backup_to;
};

void print(const app::MigrateReport& report) {
  for (const auto& agenda : report.agendas) {
    std::cout << agenda.relative.string() << ": schema " << agenda.found;
    if (agenda.now != agenda.found) std::cout << " -> " << agenda.now;
    std::cout << "\n";
  }
}

void run_migrate(Context& context, const MigrateFlags& flags) {
  auto node = context.load_node_config();
  if (!node) return context.fail(node.error(), kExitRuntime);
  if (flags.status) {
    auto report = app::schema_status(*node);
    if (!report) return context.fail(report.error(), kExitRuntime);
    print(*report);
    std::cout << "supported: " << report->supported << "\n"
              << "status: "
              << (report->ahead()    ? "ahead"
                  : report->behind() ? "behind"
                                     : "current")
              << "\n";
    context.exit_code = kExitOk;
    return;
  }
  auto report = app::migrate_node(*node, flags.backup_to);
  if (!report) return context.fail(report.error(), kExitRuntime);
  print(*report);
  if (report->agendas.empty()) {
    std::cout << "no agenda at " << node->database.string()
              << " yet: nothing to migrate (`agendasync init` makes it)\n";
    context.exit_code = kExitOk;
    return;
  }
  if (!report->backup.empty())
    std::cout << "backup before migrating: " << report->backup.string() << "\n";
  std::cout << "schema " << report->supported << ": up to date\n";
  context.exit_code = kExitOk;
}

}  // namespace

void add_migrate_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<MigrateFlags>();
  auto* migrate = app.add_subcommand(
      "migrate", "Bring the node's SQLite agendas to this version's schema (stop serve first)");
  migrate->add_flag("--status", flags->status,
                    "Only print each agenda's schema version and whether it is behind");
  migrate->add_option("--backup-to", flags->backup_to,
                      "Back the node up into this new folder first, when something is behind");
  migrate->callback([&context, flags] { run_migrate(context, *flags); });
}

}  // namespace agendasync::cli
