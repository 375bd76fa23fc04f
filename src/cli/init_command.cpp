// agendasync init: a new agenda database and a commented configuration next to it. On
// PostgreSQL (`database` names a server): the platform schema and organisation default.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"
#include "cluster/cluster_schema.h"
#include "core/database_name.h"
#include "platform/platform.h"
#include "service/secrets/key_ring.h"
#include "store/database_locator.h"
#include "store/migrate_database.h"
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

/// R16: a default type for items that come from Exchange, "Personal" for private ones, and
/// the mail domain.
Result<void> seed(store::AgendaStore& store, const InitOptions& options) {
  Result<void> seeded = store.put_activity_type({"Appointment", true, true, false});
  if (seeded) seeded = store.put_activity_type({"Personal", true, false, true});
  if (seeded) {
    store::OrganisationSettings settings;
    settings.mail_domain = options.mail_domain;
    seeded = store.set_settings(settings);
  }
  return seeded;
}

/// On PostgreSQL: the platform schema, the cluster tables and organisation default's (each
/// migrated under its advisory lock), default registered and seeded, and the configuration
/// unless it exists. Run once, from one node; the other nodes only get the configuration.
int init_postgres(Context& context, const InitOptions& options, const std::string& database,
                  const std::filesystem::path& config_file, bool keep_config) {
  auto platform_schema = store::migrate_platform(database);
  if (!platform_schema) {
    context.fail(platform_schema.error(), kExitRuntime);
    return context.exit_code;
  }
  // The tables the nodes coordinate through (src/cluster): a node refuses to start without
  // them, and init is where a cluster begins.
  if (auto cluster = cluster::migrate_cluster(cluster::cluster_target(database)); !cluster) {
    context.fail(cluster.error(), kExitRuntime);
    return context.exit_code;
  }
  config::Config node;
  if (keep_config) {
    auto existing = config::load_config(config_file);
    if (!existing) {
      context.fail(existing.error(), kExitRuntime);
      return context.exit_code;
    }
    node = std::move(*existing);
  }
  node.database = database;
  auto ring = service::secrets::load_key_ring({});
  if (!ring) {
    context.fail(ring.error(), kExitRuntime);
    return context.exit_code;
  }
  auto platform = platform::Platform::open(node, std::move(*ring));
  if (!platform) {
    context.fail(platform.error(), kExitRuntime);
    return context.exit_code;
  }
  if (auto existing = (*platform)->organisation(platform::kDefaultOrg); existing) {
    context.fail("organisation default already exists on " + platform_schema->where +
                     "; init never overwrites it (another node ran init already: give this "
                     "node the same configuration)",
                 kExitRuntime);
    return context.exit_code;
  }
  if (auto created = (*platform)->create(platform::kDefaultOrg, "Default"); !created) {
    context.fail(created.error(), kExitRuntime);
    return context.exit_code;
  }
  auto store = store::open_agenda_store(database, platform::kDefaultOrg);
  Result<void> seeded =
      store ? seed(**store, options) : Result<void>(std::unexpected(store.error()));
  if (seeded && !keep_config) seeded = config::write_default_config(config_file, database);
  if (!seeded) {
    context.fail(seeded.error(), kExitRuntime);
    return context.exit_code;
  }
  std::cout << "Created the platform and organisation default on " << platform_schema->where << "\n"
            << (keep_config ? "Kept the configuration " : "Created the configuration ")
            << config_file.string() << " (edit [exchange] or [graph] to connect)\n"
            << "Next: agendasync users add USERNAME\n";
  return kExitOk;
}

int run_init(Context& context, const InitOptions& options) {
  auto config_file = context.config_file();
  std::filesystem::path database_text = "agenda.db";  // next to the config file
  std::filesystem::path database = config_file.parent_path() / database_text;
  if (!context.global.database_path.empty()) {
    database = names_postgres_server(context.global.database_path)
                   ? std::filesystem::path(context.global.database_path)
                   : std::filesystem::absolute(context.global.database_path);
    database_text = database;
  }
  if (!options.mail_domain.empty() && !is_valid_address("user@" + options.mail_domain)) {
    context.fail("--mail-domain: \"" + options.mail_domain +
                     "\" is not a valid mail domain (e.g. example.com, without @)",
                 kExitUsage);
    return context.exit_code;
  }
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
  if (names_postgres_server(database.string())) {
    return init_postgres(context, options, database.string(), config_file, keep_config);
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
  Result<void> seeded = seed(**opened, options);
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
