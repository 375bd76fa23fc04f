// agendasync init: a new agenda database and a commented configuration next to it.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"
#include "core/database_name.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::cli {

namespace {

struct InitOptions {
  std::string mail_domain;
};

/// Removes a half-made database so that `init` can simply be run again.
void remove_database(const std::filesystem::path& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix, ec);
  }
}

int run_init(Context& context, const InitOptions& options) {
  if (names_postgres_server(context.global.database_path)) {
    // A server string is not a file to create next to the configuration.
    context.fail(
        "init creates an SQLite agenda; on PostgreSQL create the organisation's schema "
        "with `agendasync --database '...' migrate` and put `database = \"...\"` in "
        "the configuration yourself",
        kExitUsage);
    return context.exit_code;
  }
  auto config_file = context.config_file();
  std::filesystem::path database_text = "agenda.db";  // next to the config file
  std::filesystem::path database = config_file.parent_path() / database_text;
  if (!context.global.database_path.empty()) {
    database = std::filesystem::absolute(context.global.database_path);
    database_text = database;
  }
  if (!options.mail_domain.empty() && !is_valid_address("user@" + options.mail_domain)) {
    context.fail("--mail-domain: \"" + options.mail_domain +
                     "\" is not a valid mail domain (e.g. example.com, without @)",
                 kExitUsage);
    return context.exit_code;
  }
  // Check both before writing either: init never overwrites anything. An existing
  // configuration (the Debian package's conffile) is kept: init then creates the database it
  // names.
  std::error_code ec;
  const bool keep_config = std::filesystem::exists(config_file, ec);
  if (keep_config && context.global.database_path.empty()) {
    auto existing = config::load_config(config_file);
    if (!existing) {
      context.fail(existing.error(), kExitRuntime);
      return context.exit_code;
    }
    database = existing->database;
  }
  if (std::filesystem::exists(database, ec)) {
    context.fail("database " + database.string() +
                     (keep_config ? " (named by the configuration " + config_file.string() + ")"
                                  : std::string()) +
                     " already exists; init never overwrites it. Remove it first, or use "
                     "--database or --config to choose another file",
                 kExitRuntime);
    return context.exit_code;
  }

  store::SqliteOptions create;
  create.create = true;
  auto opened = store::open_sqlite_agenda_store(database, create);
  if (!opened) {
    context.fail(opened.error(), kExitRuntime);
    return context.exit_code;
  }
  auto& store = **opened;
  // R16: a default type for items that come from Exchange, and "Personal" for private ones.
  Result<void> seeded = store.put_activity_type({"Appointment", true, true, false});
  if (seeded) seeded = store.put_activity_type({"Personal", true, false, true});
  if (seeded) {
    store::OrganisationSettings settings;
    settings.mail_domain = options.mail_domain;
    seeded = store.set_settings(settings);
  }
  opened->reset();
  if (seeded && !keep_config) seeded = config::write_default_config(config_file, database_text);
  if (!seeded) {
    remove_database(database);
    context.fail(seeded.error(), kExitRuntime);
    return context.exit_code;
  }
  std::cout << "Created the agenda database " << database.string() << "\n"
            << (keep_config ? "Kept the configuration " : "Created the configuration ")
            << config_file.string() << " (edit [exchange] or [graph] to connect)\n"
            << "Next: agendasync users add USERNAME\n";
  return kExitOk;
}

}  // namespace

void add_init_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<InitOptions>();
  auto* init = app.add_subcommand(
      "init",
      "Create the agenda database and, unless it exists, a commented configuration file "
      "(never overwrites)");
  init->add_option("--mail-domain", options->mail_domain,
                   "Mail domain: a user's mailbox is USERNAME@DOMAIN unless set otherwise");
  init->callback([&context, options] { context.exit_code = run_init(context, *options); });
}

}  // namespace agendasync::cli
