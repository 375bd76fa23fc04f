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
#include "platform/platform.h"
#include "service/secrets/key_ring.h"
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

void print(const store::MigrationReport& report) {
  if (report.from == report.to) {
    std::cout << report.where << ": schema version " << report.to << " is current; nothing to do\n";
  } else {
    std::cout << report.where << ": schema version " << report.from << " -> " << report.to << "\n";
  }
}

/// --org NAME: that organisation's schema. Without: the platform schema, then every
/// organisation it lists.
void run_postgres_migrate(Context& context, const config::Config& node) {
  const std::string database = node.database.string();
  std::vector<std::string> orgs;
  if (!context.global.org.empty()) {
    auto org = context.organisation();
    if (!org) return context.fail(org.error(), kExitRuntime);
    orgs.push_back(*org);
  } else {
    auto platform = store::migrate_platform(database);
    if (!platform) return context.fail(platform.error(), kExitRuntime);
    print(*platform);
    auto ring = service::secrets::load_key_ring({});
    if (!ring) return context.fail(ring.error(), kExitRuntime);
    auto opened = platform::Platform::open(node, std::move(*ring));
    if (!opened) return context.fail(opened.error(), kExitRuntime);
    auto listed = (*opened)->organisations();
    if (!listed) return context.fail(listed.error(), kExitRuntime);
    for (const auto& organisation : *listed) orgs.push_back(organisation.id);
    if (orgs.empty()) {
      std::cout << "no organisations yet: `agendasync init` makes organisation default\n";
    }
  }
  for (const auto& org : orgs) {
    auto report = store::migrate_database(database, org);
    if (!report) return context.fail(report.error(), kExitRuntime);
    print(*report);
  }
  // The tables the nodes coordinate through (src/cluster): once per server; a second run
  // finds them current.
  auto cluster = cluster::migrate_cluster(cluster::cluster_target(database));
  if (!cluster) return context.fail(cluster.error(), kExitRuntime);
  std::cout << "cluster tables (schema " << cluster::kClusterSchema << "): version "
            << cluster::cluster_schema_version() << ", current\n";
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
    return run_postgres_migrate(context, *node);
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
