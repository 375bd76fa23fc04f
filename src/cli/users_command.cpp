// agendasync users add|list|set (R7, R10, R11, R12, R19)
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"

namespace agendasync::cli {

namespace {

/// The options `users add` and `users set` share. Empty strings mean "not given".
struct UserOptions {
  std::string user_name;
  std::string display_name;
  std::string exchange_address;
  CLI::Option* exchange_address_option = nullptr;  ///< given at all? ("" clears)
  std::string blocked;                             ///< set: yes|no
  bool blocked_flag = false;
  std::string sync;  ///< on|off
  std::string direction;
  std::string conflict_policy;
  std::string backend;  ///< R41: auto|ews|graph (hybrid organisations)
  bool json = false;
};

const std::vector<std::string> kYesNo = {"yes", "no"};
const std::vector<std::string> kOnOff = {"on", "off"};
const std::vector<std::string> kDirections = {"to-exchange", "from-exchange", "two-way", "default"};
const std::vector<std::string> kPolicies = {"newest-wins", "host-wins", "exchange-wins", "default"};
const std::vector<std::string> kBackends = {"auto", "ews", "graph"};

/// Applies the given options to `user`. kInvalidData for a malformed value.
Result<void> apply_options(const UserOptions& options, User& user) {
  if (!options.display_name.empty()) user.display_name = options.display_name;
  if (options.exchange_address_option && options.exchange_address_option->count() > 0) {
    user.exchange_address = options.exchange_address;
  }
  if (options.blocked_flag) user.blocked = true;
  if (!options.blocked.empty()) user.blocked = options.blocked == "yes";
  if (!options.sync.empty()) user.sync_enabled = options.sync == "on";
  if (options.direction == "default") {
    user.overrides.direction.reset();
  } else if (!options.direction.empty()) {
    auto direction = parse_sync_direction(options.direction);
    if (!direction) return std::unexpected(direction.error());
    user.overrides.direction = *direction;
  }
  if (options.conflict_policy == "default") {
    user.overrides.conflict_policy.reset();
  } else if (!options.conflict_policy.empty()) {
    auto policy = parse_conflict_policy(options.conflict_policy);
    if (!policy) return std::unexpected(policy.error());
    user.overrides.conflict_policy = *policy;
  }
  if (!options.backend.empty()) {
    auto backend = parse_mailbox_backend(options.backend);
    if (!backend) return std::unexpected(backend.error());
    user.backend = *backend;
  }
  // R7: the same rule the sync uses; an invalid deviating address names the user.
  if (!user.exchange_address.empty()) {
    User unblocked = user;
    unblocked.blocked = false;
    if (auto address = mailbox_address(unblocked, ""); !address) {
      return std::unexpected(address.error());
    }
  }
  return {};
}

void add_shared_options(CLI::App* command, UserOptions& options) {
  command->add_option("--display-name", options.display_name, "Name shown in lists");
  options.exchange_address_option = command->add_option(
      "--exchange-address", options.exchange_address,
      "Deviating Exchange address (default USERNAME@mail domain; \"\" clears it)");
  command->add_option("--sync", options.sync, "Sync turned on or off for this user (R11)")
      ->check(CLI::IsMember(kOnOff));
  command
      ->add_option("--direction", options.direction,
                   "Override of the organisation's direction, or \"default\"")
      ->check(CLI::IsMember(kDirections));
  command
      ->add_option("--conflict-policy", options.conflict_policy,
                   "Override of the organisation's conflict policy, or \"default\"")
      ->check(CLI::IsMember(kPolicies));
  command
      ->add_option("--backend", options.backend,
                   "Hybrid organisations (R41): the connection serving the mailbox: auto "
                   "(found by Autodiscover), ews or graph")
      ->check(CLI::IsMember(kBackends));
}

int run_add(Context& context, const UserOptions& options) {
  User user;
  user.user_name = options.user_name;
  if (auto applied = apply_options(options, user); !applied) {
    if (applied.error().message.find("deviating") == std::string::npos) {
      context.fail(applied.error(), kExitUsage);
      return context.exit_code;
    }
    // core's message points at `users set`, which needs an existing user: point at this one.
    context.fail("user " + user.user_name + ": deviating Exchange address \"" +
                     user.exchange_address +
                     "\" is not a valid e-mail address; give a valid address with "
                     "--exchange-address, or leave it out to use USERNAME@mail domain",
                 kExitUsage);
    return context.exit_code;
  }
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  if (auto added = (*store)->add_user(user); !added) {
    context.fail(added.error(), kExitRuntime);
    return context.exit_code;
  }
  std::cout << "Added user " << user.user_name << "\n";
  return kExitOk;
}

int run_set(Context& context, const UserOptions& options) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto existing = (*store)->user(options.user_name);
  if (!existing) {
    context.fail(existing.error(), kExitRuntime);
    return context.exit_code;
  }
  if (!*existing) {
    context.fail("user " + options.user_name +
                     " does not exist; add it with `agendasync users add " + options.user_name +
                     "`",
                 kExitRuntime);
    return context.exit_code;
  }
  User user = **existing;
  if (auto applied = apply_options(options, user); !applied) {
    context.fail(applied.error(), kExitUsage);
    return context.exit_code;
  }
  if (auto updated = (*store)->update_user(user); !updated) {
    context.fail(updated.error(), kExitRuntime);
    return context.exit_code;
  }
  std::cout << "Updated user " << user.user_name << "\n";
  return kExitOk;
}

/// What the mailbox column shows: the address, or why there is none.
std::string mailbox_text(const User& user, const std::string& domain) {
  auto address = mailbox_address(user, domain);
  if (!address) return "(invalid: " + address.error().message + ")";
  if (!*address) return "(blocked: not synced)";
  return **address;
}

int run_list(Context& context, const UserOptions& options) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto users = (*store)->users();
  if (!users) {
    context.fail(users.error(), kExitRuntime);
    return context.exit_code;
  }
  auto domain = context.mail_domain(**store);
  if (options.json) {
    auto out = nlohmann::json::array();
    for (const auto& user : *users) {
      auto address = mailbox_address(user, domain);
      out.push_back({
          {"user_name", user.user_name},
          {"display_name", user.display_name},
          {"exchange_address", user.exchange_address},
          {"mailbox", address && *address ? nlohmann::json(**address) : nlohmann::json(nullptr)},
          {"blocked", user.blocked},
          {"sync_enabled", user.sync_enabled},
          {"direction", user.overrides.direction
                            ? nlohmann::json(to_string(*user.overrides.direction))
                            : nlohmann::json(nullptr)},
          {"conflict_policy", user.overrides.conflict_policy
                                  ? nlohmann::json(to_string(*user.overrides.conflict_policy))
                                  : nlohmann::json(nullptr)},
          {"backend", to_string(user.backend)},
      });
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  Table table({"USER", "DISPLAY NAME", "MAILBOX", "BLOCKED", "SYNC", "DIRECTION"});
  for (const auto& user : *users) {
    table.add({user.user_name, user.display_name, mailbox_text(user, domain),
               user.blocked ? "yes" : "no", user.sync_enabled ? "on" : "off",
               user.overrides.direction ? to_string(*user.overrides.direction) : "(default)"});
  }
  table.print(std::cout);
  return kExitOk;
}

}  // namespace

void add_users_command(CLI::App& app, Context& context) {
  auto* users = app.add_subcommand("users", "Manage the users whose agendas are synced");
  users->require_subcommand(1);

  auto add_options = std::make_shared<UserOptions>();
  auto* add = users->add_subcommand("add", "Add a user");
  add->add_option("user", add_options->user_name, "Host user name, e.g. DMARTINA")->required();
  add_shared_options(add, *add_options);
  add->add_flag("--blocked", add_options->blocked_flag, "Add the user as blocked (not synced)");
  add->callback([&context, add_options] { context.exit_code = run_add(context, *add_options); });

  auto set_options = std::make_shared<UserOptions>();
  auto* set = users->add_subcommand("set", "Change a user");
  set->add_option("user", set_options->user_name, "Host user name")->required();
  add_shared_options(set, *set_options);
  set->add_option("--blocked", set_options->blocked, "Block (yes) or unblock (no) the user")
      ->check(CLI::IsMember(kYesNo));
  set->callback([&context, set_options] { context.exit_code = run_set(context, *set_options); });

  auto list_options = std::make_shared<UserOptions>();
  auto* list = users->add_subcommand("list", "List users with their resolved mailbox");
  list->add_flag("--json", list_options->json, "JSON instead of a table");
  list->callback(
      [&context, list_options] { context.exit_code = run_list(context, *list_options); });
}

}  // namespace agendasync::cli
