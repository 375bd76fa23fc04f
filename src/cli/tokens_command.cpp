// agendasync tokens create|list|revoke: API tokens for `agendasync serve` (R29). The value
// is printed once, at creation; only its SHA-256 digest is stored.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"
#include "service/service_db.h"
#include "service/tokens.h"

namespace agendasync::cli {
namespace {

struct TokenFlags {
  std::string role;
  std::string label;
  std::string id;
};

/// The service tables live in the agenda database, so it must exist (`agendasync init`).
Result<std::unique_ptr<service::ServiceDb>> open_service_db(const Context& context) {
  // Opening the store first runs its migrations, as the daemon does.
  auto store = context.open_store();
  if (!store) return std::unexpected(store.error());
  auto path = context.database_file();
  if (!path) return std::unexpected(path.error());
  return service::ServiceDb::open(*path);
}

void create_token(Context& context, const TokenFlags& flags) {
  auto db = open_service_db(context);
  if (!db) return context.fail(db.error(), kExitRuntime);
  service::TokenStore tokens(**db);
  auto created = tokens.create(flags.role, flags.label);
  if (!created) return context.fail(created.error(), kExitRuntime);
  // Only the token goes to stdout, so `TOKEN=$(agendasync tokens create ...)` works.
  std::cout << created->value.reveal() << "\n";
  std::cerr << "token " << created->info.id << " (" << created->info.role
            << ") created; it is shown only now: store it where the client reads it\n";
}

void list_tokens(Context& context) {
  auto db = open_service_db(context);
  if (!db) return context.fail(db.error(), kExitRuntime);
  service::TokenStore tokens(**db);
  auto listed = tokens.list();
  if (!listed) return context.fail(listed.error(), kExitRuntime);
  Table table({"ID", "ROLE", "LABEL"});
  for (const auto& token : *listed) table.add({token.id, token.role, token.label});
  table.print(std::cout);
}

void revoke_token(Context& context, const TokenFlags& flags) {
  auto db = open_service_db(context);
  if (!db) return context.fail(db.error(), kExitRuntime);
  service::TokenStore tokens(**db);
  if (auto revoked = tokens.revoke(flags.id); !revoked) {
    return context.fail(revoked.error(), kExitRuntime);
  }
  std::cout << "token " << flags.id << " revoked\n";
}

}  // namespace

void add_tokens_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<TokenFlags>();
  auto* tokens = app.add_subcommand("tokens", "API tokens for the daemon's REST API");
  tokens->require_subcommand(1);
  auto* create = tokens->add_subcommand("create", "Create a token and print it (once)");
  create->add_option("--role", flags->role, "admin, integration or user:<name>")->required();
  create->add_option("--label", flags->label, "What the token is for (shown by list)");
  create->callback([&context, flags] { create_token(context, *flags); });
  auto* list = tokens->add_subcommand("list", "List tokens (ids and roles, never values)");
  list->callback([&context] { list_tokens(context); });
  auto* revoke = tokens->add_subcommand("revoke", "Revoke a token by id");
  revoke->add_option("id", flags->id, "The token's id (from list)")->required();
  revoke->callback([&context, flags] { revoke_token(context, *flags); });
}

}  // namespace agendasync::cli
