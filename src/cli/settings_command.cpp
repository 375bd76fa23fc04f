// agendasync settings show|set: the organisation settings in the agenda database (R7, R12,
// R19, R21, R24, R25, R38, R39), shown layered over the configuration file's [sync].
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/pair_settings.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"

namespace agendasync::cli {

namespace {

/// What `settings set --<key>` says in --help, per sync setting key.
const std::map<std::string_view, std::string_view> kHelp = {
    {"direction", "Default direction: to-exchange, from-exchange or two-way (R12, R19)"},
    {"conflict_policy", "When both sides changed a field: newest-wins, host-wins or exchange-wins"},
    {"first_sync_days", "First sync skips items that ended longer ago than this (0..3650)"},
    {"deleted_in_exchange",
     "An item deleted in Exchange under to-exchange: recreate or "
     "leave-deleted"},
    {"breaker_share",
     "Circuit breaker: percent of a calendar (1..100) a run may create or "
     "delete before it stops for `agendasync approve` (R38)"},
    {"breaker_min_items", "Circuit breaker: the fewest creates/deletes that can stop a run"},
    {"first_sync_approval", "true: a pair's first sync waits for `agendasync approve` (R38)"},
    {"send_meeting_requests",
     "true: attendees become real meeting attendees and Exchange mails "
     "them (Exchange Online only; off by default, R39)"},
    {"users_choose_direction",
     "true: each user may set their own direction override (My profile, R19); false: only an "
     "admin sets it"},
};

struct SettingsOptions {
  std::string mail_domain;
  CLI::Option* mail_domain_option = nullptr;
  /// Sync setting key -> the value given on the command line ("default" clears it).
  std::map<std::string, std::string> sync_values;
  std::string user;
  bool json = false;
};

/// "--breaker-share" for "breaker_share".
std::string option_name(std::string_view key) {
  std::string name = "--" + std::string(key);
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

/// The configuration's [sync] layer and backend. With --database and no configuration file the
/// agenda alone is shown (built-in defaults below it), as for the mail domain.
Result<config::Config> layered_config(const Context& context) {
  auto config = context.load_config();
  if (!config && !context.global.database_path.empty() &&
      config.error().kind == ErrorKind::kNotFound) {
    return config::Config{};
  }
  return config;
}

nlohmann::json typed_value(SettingKind kind, const std::string& text) {
  if (kind == SettingKind::kWholeNumber) return std::stoi(text);
  if (kind == SettingKind::kFlag) return text == "true";
  return text;
}

int run_show(Context& context, const SettingsOptions& options) {
  auto config = layered_config(context);
  if (!config) {
    context.fail(config.error(), kExitRuntime);
    return context.exit_code;
  }
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
  std::optional<User> user;
  if (!options.user.empty()) {
    auto found = (*store)->user(options.user);
    if (!found) {
      context.fail(found.error(), kExitRuntime);
      return context.exit_code;
    }
    if (!*found) {
      context.fail("unknown user " + options.user + "; list them with `agendasync users list`",
                   kExitRuntime);
      return context.exit_code;
    }
    user = **found;
  }
  const SyncSettings effective =
      app::effective_settings(*config, *settings, user ? &*user : nullptr);
  const bool domain_from_agenda = !settings->mail_domain.empty();
  const std::string mail_domain =
      domain_from_agenda ? settings->mail_domain : config->exchange.mail_domain;
  const char* mail_domain_source = domain_from_agenda    ? "organisation"
                                   : mail_domain.empty() ? "not set"
                                                         : "config file";
  const auto lines = setting_lines(effective);

  if (options.json) {
    nlohmann::json out = {{"mail_domain", mail_domain}};
    nlohmann::json sources = {{"mail_domain", mail_domain_source}};
    const auto& keys = sync_setting_keys();
    for (const auto& line : lines) {
      auto key =
          std::find_if(keys.begin(), keys.end(), [&](auto& k) { return k.name == line.key; });
      out[line.key] = typed_value(key->kind, line.value);
    }
    for (const auto& line : lines) sources[line.key] = to_string(line.source);
    out["sources"] = sources;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  Table table({"SETTING", "VALUE", "FROM"});
  table.add({"mail_domain", mail_domain.empty() ? "(not set)" : mail_domain, mail_domain_source});
  for (const auto& line : lines) table.add({line.key, line.value, to_string(line.source)});
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
  for (const auto& [key, value] : options.sync_values) {
    // "default": the organisation stops setting it; the configuration file's value applies.
    std::optional<std::string_view> text;
    if (value != "default") text = value;
    if (auto set = set_sync_setting(settings->sync, key, text); !set) {
      context.fail(option_name(key) + ": " + set.error().message + " (or default)", kExitUsage);
      return context.exit_code;
    }
  }
  if (settings->sync.send_meeting_requests.value_or(false)) {
    // R39: refuse now rather than fail every run of a backend that cannot send invitations.
    if (auto config = context.load_config();
        config && config->exchange.backend != config::ExchangeBackend::kGraph) {
      context.fail(std::string("--send-meeting-requests: backend \"") +
                       config::to_string(config->exchange.backend) + "\" (" +
                       config->source.string() +
                       ") writes attendees as information only; real meeting requests need "
                       "backend = \"graph\" (Exchange Online)",
                   kExitUsage);
      return context.exit_code;
    }
  }
  if (auto saved = (*store)->set_settings(*settings); !saved) {
    context.fail(saved.error(),
                 saved.error().kind == ErrorKind::kInvalidData ? kExitUsage : kExitRuntime);
    return context.exit_code;
  }
  std::cout << "Saved the organisation settings (`agendasync settings show` prints the values in "
               "effect)\n";
  return kExitOk;
}

}  // namespace

void add_settings_command(CLI::App& app, Context& context) {
  auto* settings =
      app.add_subcommand("settings",
                         "Organisation settings (over the configuration file's [sync]; users may "
                         "override direction and conflict policy)");
  settings->require_subcommand(1);

  auto show_options = std::make_shared<SettingsOptions>();
  auto* show = settings->add_subcommand(
      "show",
      "Show each setting in effect and where it comes from (built-in, config file, "
      "organisation, user)");
  show->add_flag("--json", show_options->json, "JSON instead of a table");
  show->add_option("--user", show_options->user,
                   "The values in effect for this user (with their overrides)");
  show->callback(
      [&context, show_options] { context.exit_code = run_show(context, *show_options); });

  auto o = std::make_shared<SettingsOptions>();
  auto* set = settings->add_subcommand(
      "set",
      "Change organisation settings (\"default\" removes one: the configuration file's "
      "value applies again)");
  o->mail_domain_option = set->add_option("--mail-domain", o->mail_domain,
                                          "Mail domain: mailboxes are USERNAME@DOMAIN (R7)");
  for (const auto& key : sync_setting_keys()) {
    const std::string name(key.name);
    set->add_option_function<std::string>(
        option_name(key.name),
        [o, name](const std::string& value) { o->sync_values[name] = value; },
        std::string(kHelp.at(key.name)));
  }
  set->callback([&context, o] { context.exit_code = run_set(context, *o); });
}

}  // namespace agendasync::cli
