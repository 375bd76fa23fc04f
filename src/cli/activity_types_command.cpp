// agendasync activity-types add|list (R16)
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
}

}  // namespace agendasync::cli
