// agendasync status [--user NAME] [--json] (R31, R32)
#include <CLI/CLI.hpp>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/table.h"

namespace agendasync::cli {
namespace {

struct StatusOptions {
  std::string user;
  bool json = false;
};

std::string sync_state(const User& user) {
  if (user.blocked) return "blocked";
  return user.sync_enabled ? "on" : "off";
}

void run_status(Context& context, const StatusOptions& options) {
  auto opened = open_app(context);
  if (!opened) return context.fail(opened.error(), kExitRuntime);
  std::vector<app::UserStatus> statuses;
  if (!options.user.empty()) {
    auto one = opened->app->status(options.user);
    if (!one) return context.fail(one.error(), kExitRuntime);
    statuses.push_back(std::move(*one));
  } else {
    auto all = opened->app->status_all();
    if (!all) return context.fail(all.error(), kExitRuntime);
    statuses = std::move(*all);
  }
  context.exit_code = kExitOk;
  if (options.json) {
    auto out = nlohmann::json::array();
    for (const auto& status : statuses) {
      nlohmann::json row{
          {"user", status.user.user_name},
          {"mailbox", status.mailbox},
          {"sync", sync_state(status.user)},
          {"linked_items", status.linked_items},
          {"quarantined", status.quarantine.has_value()},
          {"quarantine_reason", status.quarantine ? status.quarantine->reason : std::string()}};
      if (status.last_run) {
        row["last_sync"] = format_time(status.last_run->at);
        row["outcome"] = status.last_run->outcome;
        row["summary"] = status.last_run->summary;
        row["last_error"] = status.last_run->last_error;
      }
      out.push_back(row);
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  Table table({"USER", "MAILBOX", "SYNC", "LAST SYNC", "OUTCOME", "ITEMS", "COUNTS", "LAST ERROR",
               "QUARANTINE"});
  for (const auto& status : statuses) {
    const auto& last = status.last_run;
    table.add({status.user.user_name, status.mailbox, sync_state(status.user),
               last ? format_time(last->at) : "never", last ? last->outcome : "-",
               std::to_string(status.linked_items), last ? last->summary : "",
               last ? last->last_error : "",
               status.quarantine ? (status.quarantine->approved ? "approved, runs next"
                                                                : status.quarantine->reason)
                                 : ""});
  }
  table.print(std::cout);
}

}  // namespace

void add_status_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<StatusOptions>();
  auto* status =
      app.add_subcommand("status", "Per user: last sync, outcome, counts, last error, quarantine");
  status->add_option("--user", options->user, "Only this user");
  status->add_flag("--json", options->json, "Machine-readable output");
  status->callback([&context, options] { run_status(context, *options); });
}

}  // namespace agendasync::cli
