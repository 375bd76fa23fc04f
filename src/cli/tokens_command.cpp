// agendasync tokens create|list|revoke: API tokens for `agendasync serve` (R29). The value
// is printed once, at creation; only its SHA-256 digest is stored.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"
#include "service/service_db.h"
#include "service/tokens.h"
#include "store/database_locator.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::cli {
namespace {

struct TokenFlags {
  std::string role;
  std::string label;
  std::string id;
  bool operators = false;
};

/// Tokens live in the node's database (every organisation's), so it must exist (`agendasync
/// init`): the SQLite file, or the platform schema on PostgreSQL.
Result<std::unique_ptr<service::ServiceDb>> open_service_db(const Context& context) {
  auto node = context.load_node_config();
  if (!node) return std::unexpected(node.error());
  if (!store::is_postgres_locator(node->database.string())) {
    // Opening the store first runs its migrations, as the daemon does.
    auto store = store::open_sqlite_agenda_store(node->database);
    if (!store) return std::unexpected(store.error());
  }
  return service::ServiceDb::open_node(node->database.string(), /*readers=*/0);
}

/// Operators' tokens belong to no organisation; every other token to --org's (or the only
/// one).
Result<std::string> token_scope(const Context& context, bool operator_role) {
  if (operator_role) {
    if (!context.global.org.empty()) {
      return fail(ErrorKind::kInvalidData,
                  "an operator token belongs to no organisation: leave out --org");
    }
    return std::string(service::kPlatformScope);
  }
  return context.organisation();
}

void create_token(Context& context, const TokenFlags& flags) {
  auto db = open_service_db(context);
  if (!db) return context.fail(db.error(), kExitRuntime);
  auto scope = token_scope(context, flags.role == "operator");
  if (!scope) return context.fail(scope.error(), kExitRuntime);
  service::TokenStore tokens(**db, *scope);
  auto created = tokens.create(flags.role, flags.label);
  if (!created) return context.fail(created.error(), kExitRuntime);
  // Only the token goes to stdout, so `TOKEN=$(agendasync tokens create ...)` works.
  std::cout << created->value.reveal() << "\n";
  std::cerr << "token " << created->info.id << " (" << created->info.role
            << ") created; it is shown only now: store it where the client reads it\n";
}

void list_tokens(Context& context, const TokenFlags& flags) {
  auto db = open_service_db(context);
  if (!db) return context.fail(db.error(), kExitRuntime);
  auto scope = token_scope(context, flags.operators);
  if (!scope) return context.fail(scope.error(), kExitRuntime);
  service::TokenStore tokens(**db, *scope);
  auto listed = tokens.list();
  if (!listed) return context.fail(listed.error(), kExitRuntime);
  Table table({"ID", "ROLE", "LABEL"});
  for (const auto& token : *listed) table.add({token.id, token.role, token.label});
  table.print(std::cout);
}

void revoke_token(Context& context, const TokenFlags& flags) {
  auto db = open_service_db(context);
  if (!db) return context.fail(db.error(), kExitRuntime);
  auto scope = token_scope(context, flags.operators);
  if (!scope) return context.fail(scope.error(), kExitRuntime);
  service::TokenStore tokens(**db, *scope);
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
  create
      ->add_option("--role", flags->role,
                   "admin, integration or user:<name> (in --org's organisation), or operator")
      ->required();
  create->add_option("--label", flags->label, "What the token is for (shown by list)");
  create->callback([&context, flags] { create_token(context, *flags); });
  auto* list = tokens->add_subcommand("list", "List tokens (ids and roles, never values)");
  list->add_flag("--operators", flags->operators, "The operators' tokens instead of --org's");
  list->callback([&context, flags] { list_tokens(context, *flags); });
  auto* revoke = tokens->add_subcommand("revoke", "Revoke a token by id");
  revoke->add_option("id", flags->id, "The token's id (from list)")->required();
  revoke->add_flag("--operators", flags->operators, "Revoke an operator's token");
  revoke->callback([&context, flags] { revoke_token(context, *flags); });
}

}  // namespace agendasync::cli
