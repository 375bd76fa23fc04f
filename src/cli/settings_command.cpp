// agendasync settings show|set: the organisation defaults in the agenda database (R7, R12,
// R19, R21, R24, R25).
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"
#include "store/settings_names.h"

namespace agendasync::cli {

namespace {

struct SettingsOptions {
  std::string mail_domain;
  CLI::Option* mail_domain_option = nullptr;
  std::string direction;
  std::string conflict_policy;
  int first_sync_days = -1;
  std::string deleted_in_exchange;
  bool json = false;
};

int run_show(Context& context, const SettingsOptions& options) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto settings = (*store)->settings();
  if (!settings) {
    context.fail(settings.error(), kExitRuntime);
    return context.exit_code;
  }
  if (options.json) {
    std::cout << nlohmann::json{{"mail_domain", settings->mail_domain},
                                {"direction", to_string(settings->default_direction)},
                                {"conflict_policy", to_string(settings->conflict_policy)},
                                {"first_sync_days", settings->first_sync_days},
                                {"deleted_in_exchange",
                                 agendasync::to_string(settings->deleted_in_exchange)}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  Table table({"SETTING", "VALUE"});
  table.add({"mail-domain", settings->mail_domain.empty() ? "(not set)" : settings->mail_domain});
  table.add({"direction", to_string(settings->default_direction)});
  table.add({"conflict-policy", to_string(settings->conflict_policy)});
  table.add({"first-sync-days", std::to_string(settings->first_sync_days)});
  table.add({"deleted-in-exchange", agendasync::to_string(settings->deleted_in_exchange)});
  table.print(std::cout);
  return kExitOk;
}

int run_set(Context& context, const SettingsOptions& options) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto settings = (*store)->settings();
  if (!settings) {
    context.fail(settings.error(), kExitRuntime);
    return context.exit_code;
  }
  if (options.mail_domain_option->count() > 0) settings->mail_domain = options.mail_domain;
  // The values were checked by CLI11 (IsMember), so these parses succeed.
  if (!options.direction.empty()) {
    settings->default_direction = *parse_sync_direction(options.direction);
  }
  if (!options.conflict_policy.empty()) {
    settings->conflict_policy = *parse_conflict_policy(options.conflict_policy);
  }
  if (options.first_sync_days >= 0) settings->first_sync_days = options.first_sync_days;
  if (!options.deleted_in_exchange.empty()) {
    settings->deleted_in_exchange = *store::parse_deleted_in_exchange(options.deleted_in_exchange);
  }
  if (auto saved = (*store)->set_settings(*settings); !saved) {
    context.fail(saved.error(),
                 saved.error().kind == ErrorKind::kInvalidData ? kExitUsage : kExitRuntime);
    return context.exit_code;
  }
  std::cout << "Saved the organisation settings\n";
  return kExitOk;
}

}  // namespace

void add_settings_command(CLI::App& app, Context& context) {
  auto* settings = app.add_subcommand("settings", "Organisation defaults (users may override)");
  settings->require_subcommand(1);

  auto show_options = std::make_shared<SettingsOptions>();
  auto* show = settings->add_subcommand("show", "Show the organisation settings");
  show->add_flag("--json", show_options->json, "JSON instead of a table");
  show->callback(
      [&context, show_options] { context.exit_code = run_show(context, *show_options); });

  auto o = std::make_shared<SettingsOptions>();
  auto* set = settings->add_subcommand("set", "Change organisation settings");
  o->mail_domain_option = set->add_option("--mail-domain", o->mail_domain,
                                          "Mail domain: mailboxes are USERNAME@DOMAIN (R7)");
  set->add_option("--direction", o->direction, "Default direction")
      ->check(CLI::IsMember({"to-exchange", "from-exchange", "two-way"}));
  set->add_option("--conflict-policy", o->conflict_policy, "When both sides changed a field")
      ->check(CLI::IsMember({"newest-wins", "host-wins", "exchange-wins"}));
  set->add_option("--first-sync-days", o->first_sync_days,
                  "First sync skips items that ended longer ago than this")
      ->check(CLI::Range(0, 3650));
  set->add_option("--deleted-in-exchange", o->deleted_in_exchange,
                  "An item deleted in Exchange under to-exchange")
      ->check(CLI::IsMember({"recreate", "leave-deleted"}));
  set->callback([&context, o] { context.exit_code = run_set(context, *o); });
}

}  // namespace agendasync::cli
