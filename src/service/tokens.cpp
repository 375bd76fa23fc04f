#include "service/tokens.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "service/secrets/hex.h"

namespace agendasync::service {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Result<std::string> random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    return fail(ErrorKind::kPermanent, "the system random generator failed");
  }
  return secrets::to_hex(buffer.data(), buffer.size());
}

}  // namespace

bool Principal::is_user(std::string_view name) const {
  return kind == RoleKind::kUser && iequal(user_name, name);
}

Result<Principal> parse_role(std::string_view role) {
  if (role == "admin") return Principal{RoleKind::kAdmin, {}, {}, {}};
  if (role == "integration") return Principal{RoleKind::kIntegration, {}, {}, {}};
  if (role == "operator") return Principal{RoleKind::kOperator, {}, {}, {}};
  if (role.starts_with("user:") && role.size() > 5) {
    return Principal{RoleKind::kUser, std::string(role.substr(5)), {}, {}};
  }
  return fail(ErrorKind::kInvalidData,
              "unknown role \"" + std::string(role) +
                  "\"; use admin, integration, user:<user name> or operator");
}

std::string role_text(const Principal& principal) {
  switch (principal.kind) {
    case RoleKind::kAdmin:
      return "admin";
    case RoleKind::kIntegration:
      return "integration";
    case RoleKind::kUser:
      return "user:" + principal.user_name;
    case RoleKind::kOperator:
      return "operator";
  }
  return "user:";
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return secrets::to_hex(digest, sizeof digest);
}

Result<CreatedToken> TokenStore::create(std::string_view role, std::string_view label) {
  auto principal = parse_role(role);
  if (!principal) return std::unexpected(principal.error());
  if (principal->is_operator() != org_.empty()) {
    return fail(ErrorKind::kInvalidData,
                principal->is_operator()
                    ? "an operator token belongs to no organisation; create it with `agendasync "
                      "tokens create --role operator` (without --org)"
                    : "a token for role " + std::string(role) +
                          " belongs to an organisation; name it (--org NAME, or "
                          "/api/v1/organisations/{org}/tokens)");
  }
  auto id = random_hex(6);
  auto secret = random_hex(24);
  if (!id || !secret) return std::unexpected(!id ? id.error() : secret.error());
  CreatedToken created;
  created.info = TokenInfo{*id, role_text(*principal), std::string(label), unix_now(), org_};
  created.value = Secret("ast_" + *id + "_" + *secret);
  auto stored = db_.run(
      "INSERT INTO service_token(id, hash, role, label, created_at, org) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      {created.info.id, sha256_hex(created.value.reveal()), created.info.role, created.info.label,
       created.info.created_at, org_});
  if (!stored) return std::unexpected(stored.error());
  return created;
}

Result<Principal> TokenStore::authenticate(std::string_view presented) {
  return authenticate_hash(sha256_hex(presented));
}

Result<Principal> TokenStore::authenticate_hash(const std::string& hash) {
  auto found = db_.query("SELECT id, role, org FROM service_token WHERE hash = ?1", {hash});
  if (!found) return std::unexpected(found.error());
  if (found->empty()) {
    return fail(ErrorKind::kAuth,
                "the API token is unknown or revoked; ask an admin for a token "
                "(`agendasync tokens create --role ...`)");
  }
  const TokenInfo row{found->text_at(0, 0), found->text_at(0, 1), {}, 0, found->text_at(0, 2)};
  auto principal = parse_role(row.role);
  if (!principal) return std::unexpected(principal.error());
  principal->token_id = row.id;
  principal->org = row.org;
  return principal;
}
Result<std::vector<TokenInfo>> TokenStore::list() {
  auto rows = db_.query(
      "SELECT id, role, label, created_at FROM service_token WHERE org = ?1 "
      "ORDER BY created_at, id",
      {org_});
  if (!rows) return std::unexpected(rows.error());
  std::vector<TokenInfo> tokens;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    tokens.push_back(
        {rows->text_at(i, 0), rows->text_at(i, 1), rows->text_at(i, 2), rows->int_at(i, 3), org_});
  }
  return tokens;
}

Result<void> TokenStore::revoke(std::string_view id) {
  auto removed =
      db_.run("DELETE FROM service_token WHERE id = ?1 AND org = ?2", {std::string(id), org_});
  if (!removed) return std::unexpected(removed.error());
  if (*removed == 0) return fail(ErrorKind::kNotFound, "no API token has id " + std::string(id));
  return {};
}

Result<std::size_t> TokenStore::revoke_all() {
  auto removed = db_.run("DELETE FROM service_token WHERE org = ?1", {org_});
  if (!removed) return std::unexpected(removed.error());
  return static_cast<std::size_t>(*removed);
}

}  // namespace agendasync::service
