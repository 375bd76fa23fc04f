#pragma once
/// API tokens (R29): random bearer tokens whose SHA-256 digest, never the token, is stored.
/// Each token has one role: admin, integration (the host application), or user:<name>.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "service/service_db.h"

namespace agendasync::service {

enum class RoleKind { kAdmin, kIntegration, kUser };

/// Who is calling: the role of the presented token.
struct Principal {
  RoleKind kind = RoleKind::kUser;
  std::string user_name;  ///< kUser only
  std::string token_id;   ///< for logs and audit; not secret
  bool is_admin() const { return kind == RoleKind::kAdmin; }
  bool is_integration() const { return kind == RoleKind::kIntegration; }
  /// True for user:<name> tokens of that user (user names compare case-insensitively, as in
  /// the store).
  bool is_user(std::string_view name) const;
};

/// "admin", "integration" or "user:<name>"; kInvalidData otherwise.
Result<Principal> parse_role(std::string_view role);
std::string role_text(const Principal& principal);

/// A token as listed (never its value).
struct TokenInfo {
  std::string id;
  std::string role;
  std::string label;
  std::int64_t created_at = 0;
};

/// A newly created token: the only time its value exists outside the caller.
struct CreatedToken {
  TokenInfo info;
  Secret value;  ///< "ast_<id>_<secret>"
};

/// SHA-256 hex of `text`.
std::string sha256_hex(std::string_view text);

class TokenStore {
 public:
  explicit TokenStore(ServiceDb& db) : db_(db) {}
  /// Creates a token for `role` (validated by parse_role).
  Result<CreatedToken> create(std::string_view role, std::string_view label);
  /// The principal of a presented token; kAuth when unknown or revoked.
  Result<Principal> authenticate(std::string_view presented);
  Result<std::vector<TokenInfo>> list();
  /// kNotFound when no token has `id`.
  Result<void> revoke(std::string_view id);

 private:
  ServiceDb& db_;
};

}  // namespace agendasync::service
