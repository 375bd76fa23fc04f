#pragma once
/// API tokens (R29): random bearer tokens whose SHA-256 digest, never the token, is stored.
/// Each token belongs to one organisation and has one role there: admin, integration (the
/// host application), or user:<name>; or it is a platform operator's token, which belongs to
/// no organisation (issue 16 §5).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "service/service_db.h"

namespace agendasync::service {

enum class RoleKind { kAdmin, kIntegration, kUser, kOperator };

/// The organisation of tokens made before organisations existed, and of a TokenStore opened
/// without one.
inline constexpr const char* kDefaultTokenOrg = "default";
/// The scope of operator tokens: no organisation.
inline constexpr const char* kPlatformScope = "";

/// Who is calling: the role of the presented token.
struct Principal {
  RoleKind kind = RoleKind::kUser;
  std::string user_name;  ///< kUser only
  std::string token_id;   ///< for logs and audit; not secret
  /// The organisation the token belongs to; empty for an operator.
  std::string org;
  /// An operator may do in any organisation what its admin may.
  bool is_admin() const { return kind == RoleKind::kAdmin || kind == RoleKind::kOperator; }
  bool is_operator() const { return kind == RoleKind::kOperator; }
  bool is_integration() const { return kind == RoleKind::kIntegration; }
  /// True for user:<name> tokens of that user (user names compare case-insensitively, as in
  /// the store).
  bool is_user(std::string_view name) const;
};

/// "admin", "integration", "user:<name>" or "operator"; kInvalidData otherwise.
Result<Principal> parse_role(std::string_view role);
std::string role_text(const Principal& principal);

/// A token as listed (never its value).
struct TokenInfo {
  std::string id;
  std::string role;
  std::string label;
  std::int64_t created_at = 0;
  std::string org;  ///< empty for an operator's token
};

/// A newly created token: the only time its value exists outside the caller.
struct CreatedToken {
  TokenInfo info;
  Secret value;  ///< "ast_<id>_<secret>"
};

/// SHA-256 hex of `text`.
std::string sha256_hex(std::string_view text);

/// The tokens of one organisation (or, with kPlatformScope, the operators' tokens), in the
/// node's database. create, list and revoke never reach another scope's tokens;
/// authenticate recognises every token and says whose it is.
class TokenStore {
 public:
  explicit TokenStore(ServiceDb& db, std::string org = kDefaultTokenOrg)
      : db_(db.sql()), org_(std::move(org)) {}
  /// Creates a token for `role` (validated by parse_role) in this store's scope. kInvalidData
  /// for "operator" in an organisation, or an organisation role in the platform scope.
  Result<CreatedToken> create(std::string_view role, std::string_view label);
  /// The principal of a presented token, with its organisation; kAuth when unknown or revoked.
  Result<Principal> authenticate(std::string_view presented);
  /// The same for the SHA-256 hex of a token (sha256_hex): a console session keeps only that,
  /// and a revoked token ends its sessions at their next call.
  Result<Principal> authenticate_hash(const std::string& hash);
  Result<std::vector<TokenInfo>> list();
  /// kNotFound when no token of this scope has `id`.
  Result<void> revoke(std::string_view id);
  /// Revokes every token of this scope (an organisation being removed); how many.
  Result<std::size_t> revoke_all();

 private:
  store::sql::Database& db_;
  std::string org_;
};

}  // namespace agendasync::service
