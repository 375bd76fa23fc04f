// agendasync activity-types add|list|rename|remove (R16)
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"

namespace agendasync::cli {

namespace {

struct TypeOptions {
  std::string name;
  bool not_synced = false;
  bool is_default = false;
  bool is_personal = false;
};

int run_add(Context& context, const TypeOptions& options) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  store::ActivityType type{options.name, !options.not_synced, options.is_default,
                           options.is_personal};
  if (auto put = (*store)->put_activity_type(type); !put) {
    context.fail(put.error(), kExitRuntime);
    return context.exit_code;
  }
  std::cout << "Saved activity type " << options.name << "\n";
  return kExitOk;
}

/// Refusals of a name (empty, not UTF-8) are the command line's fault; the rest is not.
ExitCode exit_for(const Error& error) {
  return error.kind == ErrorKind::kInvalidData ? kExitUsage : kExitRuntime;
}

int run_rename(Context& context, const std::string& old_name, const std::string& new_name) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto types = (*store)->activity_types();
  if (!types) {
    context.fail(types.error(), kExitRuntime);
    return context.exit_code;
  }
  // A rename keeps the type's flags; the store finds the type without regard to case.
  store::ActivityType renamed{new_name, true, false, false};
  if (const auto* type = store::find_activity_type(*types, old_name)) {
    renamed = {new_name, type->synced, type->is_default, type->is_personal};
  }
  if (auto updated = (*store)->update_activity_type(old_name, renamed); !updated) {
    context.fail(updated.error(), exit_for(updated.error()));
    return context.exit_code;
  }
  std::cout << "Renamed activity type " << old_name << " to " << new_name
            << "; its appointments follow at the next sync\n";
  return kExitOk;
}

int run_remove(Context& context, const std::string& name) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  if (auto removed = (*store)->remove_activity_type(name); !removed) {
    context.fail(removed.error(), exit_for(removed.error()));
    return context.exit_code;
  }
  std::cout << "Removed activity type " << name << "\n";
  return kExitOk;
}

int run_list(Context& context) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto types = (*store)->activity_types();
  if (!types) {
    context.fail(types.error(), kExitRuntime);
    return context.exit_code;
  }
  Table table({"ACTIVITY TYPE", "SYNCED", "DEFAULT", "PERSONAL"});
  for (const auto& type : *types) {
    table.add({type.name, type.synced ? "yes" : "no", type.is_default ? "yes" : "",
               type.is_personal ? "yes" : ""});
  }
  table.print(std::cout);
  return kExitOk;
}

}  // namespace

void add_activity_types_command(CLI::App& app, Context& context) {
  auto* types = app.add_subcommand("activity-types", "Manage the host's activity types");
  types->require_subcommand(1);
  auto options = std::make_shared<TypeOptions>();
  auto* add = types->add_subcommand("add", "Add or change an activity type");
  add->add_option("name", options->name, "Activity type name")->required();
  add->add_flag("--not-synced", options->not_synced, "Items of this type do not go to Exchange");
  add->add_flag("--default", options->is_default, "The type for items that come from Exchange");
  add->add_flag("--personal", options->is_personal, "The type for private Exchange items");
  add->callback([&context, options] { context.exit_code = run_add(context, *options); });
  auto* list = types->add_subcommand("list", "List activity types");
  list->callback([&context] { context.exit_code = run_list(context); });

  auto names = std::make_shared<std::pair<std::string, std::string>>();
  auto* rename = types->add_subcommand(
      "rename", "Rename an activity type; its appointments and their Exchange items keep it");
  rename->add_option("old", names->first, "Current name")->required();
  rename->add_option("new", names->second, "New name")->required();
  rename->callback(
      [&context, names] { context.exit_code = run_rename(context, names->first, names->second); });
  auto* remove = types->add_subcommand(
      "remove", "Remove an activity type (refused while appointments use it)");
  remove->add_option("name", names->first, "Activity type name")->required();
  remove->callback([&context, names] { context.exit_code = run_remove(context, names->first); });
}

}  // namespace agendasync::cli
