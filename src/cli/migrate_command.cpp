// agendasync migrate: brings the node's data to this build's schema, as one explicit step.
// SQLite (issue 19): every agenda of the node, as opening them would — the step the Debian
// package's install step runs (after a backup) and an operator can run on purpose; `--status`
// changes nothing and prints, last, `status: current|behind|ahead` for scripts (the package
// refuses a downgrade on `ahead`). PostgreSQL (issue 17): the organisation's schema, under an
// advisory lock, run once from one node before the others are upgraded.
// Parsing only; the work is app::migrate_node / store::migrate_database.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "app/node_data.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cluster/cluster_schema.h"
#include "store/database_locator.h"
#include "store/migrate_database.h"

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

void run_postgres_migrate(Context& context) {
  auto org = context.organisation();
  if (!org) return context.fail(org.error(), kExitRuntime);
  auto database = context.database_file();
  if (!database) return context.fail(database.error(), kExitRuntime);
  auto report = store::migrate_database(database->string(), *org);
  if (!report) return context.fail(report.error(), kExitRuntime);
  // The tables the nodes coordinate through (src/cluster): once per server, whichever
  // organisation this run names; a second run finds them current.
  auto cluster = cluster::migrate_cluster(cluster::cluster_target(database->string()));
  if (!cluster) return context.fail(cluster.error(), kExitRuntime);
  std::cout << "cluster tables (schema " << cluster::kClusterSchema
            << "): " << (*cluster == cluster::cluster_schema_version() ? "current" : "brought")
            << " at version " << cluster::cluster_schema_version() << "\n";
  if (report->from == report->to) {
    std::cout << report->where << ": schema version " << report->to
              << " is current; nothing to do\n";
  } else {
    std::cout << report->where << ": schema version " << report->from << " -> " << report->to
              << "\n";
  }
  context.exit_code = kExitOk;
}

void run_migrate(Context& context, const MigrateFlags& flags) {
  auto node = context.load_node_config();
  if (!node) return context.fail(node.error(), kExitRuntime);
  if (store::is_postgres_locator(node->database.string())) {
    if (flags.status || !flags.backup_to.empty()) {
      return context.fail(
          Error::make(ErrorKind::kInvalidData,
                      "--status and --backup-to are for SQLite agendas; on PostgreSQL use "
                      "pg_dump for backups, and `agendasync migrate` reports the schema versions"),
          kExitUsage);
    }
    return run_postgres_migrate(context);
  }
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
      "migrate",
      "Bring the node's data up to this version's schema: every SQLite agenda (stop serve "
      "first), or on PostgreSQL the organisation's schema (run once, from one node, before "
      "upgrading the others)");
  migrate->add_flag("--status", flags->status,
                    "SQLite: only print each agenda's schema version and whether it is behind");
  migrate->add_option("--backup-to", flags->backup_to,
                      "SQLite: back the node up into this new folder first, when something is "
                      "behind");
  migrate->callback([&context, flags] { run_migrate(context, *flags); });
}

}  // namespace agendasync::cli
