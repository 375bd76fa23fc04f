// agendasync backup --to DIR / restore --from DIR (issue 19): every SQLite file of the node
// (agendas and sync states of all organisations), copied with SQLite's backup API. Backup is
// online (the daemon may run); restore needs the daemon stopped.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "app/node_data.h"
#include "cli/commands.h"
#include "cli/context.h"

namespace agendasync::cli {

namespace {

void run_backup(Context& context, const std::string& folder) {
  auto node = context.load_node_config();
  if (!node) return context.fail(node.error(), kExitRuntime);
  auto report = app::backup_node(*node, folder);
  if (!report) return context.fail(report.error(), kExitRuntime);
  for (const auto& file : report->files) std::cout << "backed up " << file.string() << "\n";
  std::cout << "backup complete in " << folder << "\n";
  context.exit_code = kExitOk;
}

void run_restore(Context& context, const std::string& folder) {
  auto node = context.load_node_config();
  if (!node) return context.fail(node.error(), kExitRuntime);
  auto report = app::restore_node(*node, folder);
  if (!report) return context.fail(report.error(), kExitRuntime);
  for (const auto& file : report->files) std::cout << "restored " << file.string() << "\n";
  context.exit_code = kExitOk;
}

}  // namespace

void add_backup_commands(CLI::App& app, Context& context) {
  auto folder = std::make_shared<std::string>();
  auto* backup = app.add_subcommand(
      "backup", "Copy every database of the node into a new folder (online: serve may run)");
  backup->add_option("--to", *folder, "The backup folder (new or empty)")->required();
  backup->callback([&context, folder] { run_backup(context, *folder); });

  auto from = std::make_shared<std::string>();
  auto* restore = app.add_subcommand(
      "restore", "Write a backup folder back over the node's databases (stop serve first)");
  restore->add_option("--from", *from, "A folder made by `agendasync backup`")->required();
  restore->callback([&context, from] { run_restore(context, *from); });
}

}  // namespace agendasync::cli
