// agendasync orgs add|list|show|set|remove (issue 16 §5): the organisations a node serves and
// their connections to Exchange. Writes the platform tables of the node's database directly;
// a running daemon picks up a new organisation or connection at its next restart (the API's
// /api/v1/organisations routes act on a running daemon at once).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"
#include "platform/platform.h"
#include "service/secrets/key_ring.h"
#include "service/service_db.h"
#include "service/tokens.h"
#include "store/database_locator.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::cli {
namespace {

struct OrgFlags {
  std::string id;
  std::string name;
  bool suspend = false;
  bool resume = false;
  std::string connection_file;
  std::vector<std::string> secrets;  ///< NAME=env:VAR or NAME=file:PATH
  std::string secret_key_file;
  std::string confirm;
};

Result<std::unique_ptr<platform::Platform>> open_platform(const Context& context,
                                                          const std::string& key_file = {}) {
  auto node = context.load_node_config();
  if (!node) return std::unexpected(node.error());
  auto ring = service::secrets::load_key_ring(key_file);
  if (!ring) return std::unexpected(ring.error());
  return platform::Platform::open(*node, std::move(*ring));
}

/// Where the organisation's agenda is: its file, or its schema (a server string may carry a
/// password: never printed).
std::string agenda_of(const platform::Organisation& organisation) {
  if (!store::is_postgres_locator(organisation.database.string())) {
    return organisation.database.string();
  }
  auto schema = store::organisation_schema(organisation.id);
  return "PostgreSQL schema " + (schema ? *schema : organisation.id);
}

void print(const platform::Organisation& organisation) {
  std::cout << "id:      " << organisation.id << "\n"
            << "name:    " << organisation.name << "\n"
            << "state:   " << platform::to_string(organisation.state) << "\n"
            << "agenda:  " << agenda_of(organisation) << "\n";
}

/// NAME=env:VAR or NAME=file:PATH, read now; the value never appears on the command line.
Result<void> read_secret(const std::string& spec, platform::SecretUpdates& updates) {
  auto equals = spec.find('=');
  const std::string name = spec.substr(0, equals);
  std::optional<Secret>* slot = name == "exchange_password"     ? &updates.exchange_password
                                : name == "graph_client_secret" ? &updates.graph_client_secret
                                : name == "graph_private_key"   ? &updates.graph_private_key
                                                                : nullptr;
  if (!slot || equals == std::string::npos) {
    return fail(ErrorKind::kInvalidData,
                "--secret " + spec +
                    ": expected NAME=env:VARIABLE or NAME=file:PATH with NAME exchange_password, "
                    "graph_client_secret or graph_private_key");
  }
  const std::string source = spec.substr(equals + 1);
  config::SecretSource from;
  if (source.starts_with("env:")) {
    from.env = source.substr(4);
  } else if (source.starts_with("file:")) {
    from.file = source.substr(5);
  } else {
    return fail(ErrorKind::kInvalidData,
                "--secret " + name + ": the value must come from env:VARIABLE or file:PATH");
  }
  auto value = name == "graph_private_key" ? config::load_secret_pem(from, name)
                                           : config::load_secret(from, name);
  if (!value) return std::unexpected(value.error());
  *slot = std::move(*value);
  return {};
}

void add_org(Context& context, const OrgFlags& flags) {
  auto platform = open_platform(context);
  if (!platform) return context.fail(platform.error(), kExitRuntime);
  auto created = (*platform)->create(flags.id, flags.name);
  if (!created) return context.fail(created.error(), kExitRuntime);
  std::cout << "organisation " << created->id << " created; set its connection with "
            << "`agendasync orgs set " << created->id << " --connection FILE`\n";
}

void list_orgs(Context& context) {
  auto platform = open_platform(context);
  if (!platform) return context.fail(platform.error(), kExitRuntime);
  auto all = (*platform)->organisations();
  if (!all) return context.fail(all.error(), kExitRuntime);
  Table table({"ID", "NAME", "STATE", "BACKEND"});
  for (const auto& organisation : *all) {
    auto connection = (*platform)->connection(organisation.id, false);
    table.add({organisation.id, organisation.name, platform::to_string(organisation.state),
               connection ? config::to_string(connection->exchange.backend) : "?"});
  }
  table.print(std::cout);
}

void show_org(Context& context, const OrgFlags& flags) {
  auto platform = open_platform(context);
  if (!platform) return context.fail(platform.error(), kExitRuntime);
  auto found = (*platform)->organisation(flags.id);
  if (!found) return context.fail(found.error(), kExitRuntime);
  print(*found);
  auto connection = (*platform)->connection(flags.id, false);
  if (!connection) return context.fail(connection.error(), kExitRuntime);
  std::cout << "connection: " << platform::connection_to_json(*connection).dump(2) << "\n";
  auto link = (*platform)->consent_link(*connection, {});
  if (!link.empty()) std::cout << "admin consent: " << link << "\n";
}

void set_org(Context& context, const OrgFlags& flags) {
  auto platform = open_platform(context, flags.secret_key_file);
  if (!platform) return context.fail(platform.error(), kExitRuntime);
  if (flags.suspend && flags.resume) {
    return context.fail("--suspend and --resume: choose one", kExitUsage);
  }
  platform::OrganisationUpdate update;
  if (!flags.name.empty()) update.name = flags.name;
  if (flags.suspend) update.state = platform::OrgState::kSuspended;
  if (flags.resume) update.state = platform::OrgState::kActive;
  if (update.name || update.state) {
    if (auto updated = (*platform)->update(flags.id, update); !updated) {
      return context.fail(updated.error(), kExitRuntime);
    }
  }
  if (flags.connection_file.empty() && flags.secrets.empty()) return;
  auto current = (*platform)->connection(flags.id, false);
  if (!current) return context.fail(current.error(), kExitRuntime);
  platform::Connection fields = *current;
  if (!flags.connection_file.empty()) {
    std::ifstream in(flags.connection_file);
    if (!in) return context.fail("cannot read " + flags.connection_file, kExitRuntime);
    std::stringstream text;
    text << in.rdbuf();
    auto document = nlohmann::json::parse(text.str(), nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
      return context.fail(flags.connection_file +
                              ": not a JSON object (the form GET "
                              "/api/v1/organisations/{org}/connection answers)",
                          kExitRuntime);
    }
    if (document.contains("secrets")) {
      return context.fail(flags.connection_file +
                              ": secrets do not belong in a file here; pass them with --secret "
                              "NAME=env:VARIABLE",
                          kExitUsage);
    }
    document.erase("admin_consent_url");
    auto parsed = platform::connection_from_json(document, fields);
    if (!parsed) return context.fail(parsed.error(), kExitRuntime);
    fields = std::move(*parsed);
  }
  platform::SecretUpdates secrets;
  for (const auto& spec : flags.secrets) {
    if (auto read = read_secret(spec, secrets); !read) {
      return context.fail(read.error(), kExitUsage);
    }
  }
  auto stored = (*platform)->set_connection(flags.id, fields, secrets);
  if (!stored) return context.fail(stored.error(), kExitRuntime);
  std::cout << "connection of " << flags.id << " stored ("
            << config::to_string(stored->exchange.backend) << ")\n";
}

void remove_org(Context& context, const OrgFlags& flags) {
  if (flags.confirm != flags.id) {
    return context.fail(
        "removing an organisation deletes its agenda, users and tokens: repeat "
        "its id with --confirm " +
            flags.id,
        kExitUsage);
  }
  auto platform = open_platform(context);
  if (!platform) return context.fail(platform.error(), kExitRuntime);
  auto node = context.load_node_config();
  if (!node) return context.fail(node.error(), kExitRuntime);
  if (auto removed = (*platform)->remove(flags.id); !removed) {
    return context.fail(removed.error(), kExitRuntime);
  }
  // Its tokens go with it.
  if (auto db = service::ServiceDb::open_node(node->database.string(), /*readers=*/0); db) {
    (void)service::TokenStore(**db, flags.id).revoke_all();
  }
  std::cout << "organisation " << flags.id << " removed\n";
}

}  // namespace

void add_orgs_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<OrgFlags>();
  auto* orgs = app.add_subcommand("orgs", "Organisations this node serves (multi-tenant)");
  orgs->require_subcommand(1);
  auto* add = orgs->add_subcommand("add", "Create an organisation with an empty agenda");
  add->add_option("id", flags->id, "Its id: a-z, 0-9 and '-', e.g. contoso")->required();
  add->add_option("--name", flags->name, "Its name, for people");
  add->callback([&context, flags] { add_org(context, *flags); });
  auto* list = orgs->add_subcommand("list", "List organisations");
  list->callback([&context] { list_orgs(context); });
  auto* show = orgs->add_subcommand("show", "One organisation and its connection (no secrets)");
  show->add_option("id", flags->id, "The organisation's id")->required();
  show->callback([&context, flags] { show_org(context, *flags); });
  auto* set = orgs->add_subcommand("set", "Rename, suspend, resume, or set the connection");
  set->add_option("id", flags->id, "The organisation's id")->required();
  set->add_option("--name", flags->name, "New name");
  set->add_flag("--suspend", flags->suspend, "Stop its syncs and refuse its tokens");
  set->add_flag("--resume", flags->resume, "Let it sync again");
  set->add_option("--connection", flags->connection_file,
                  "JSON file with the connection's fields (as GET .../connection shows them)");
  set->add_option("--secret", flags->secrets,
                  "NAME=env:VARIABLE or NAME=file:PATH (exchange_password, "
                  "graph_client_secret, graph_private_key); repeatable");
  set->add_option("--secret-key-file", flags->secret_key_file,
                  "Key ring (default: $AGENDASYNC_SECRET_KEY)");
  set->callback([&context, flags] { set_org(context, *flags); });
  auto* remove = orgs->add_subcommand(
      "remove", "Delete an organisation with its agenda (stop the daemon first, or use the API)");
  remove->add_option("id", flags->id, "The organisation's id")->required();
  remove->add_option("--confirm", flags->confirm, "The id again");
  remove->callback([&context, flags] { remove_org(context, *flags); });
}

}  // namespace agendasync::cli
