#include "service/sessions.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <vector>

#include "service/log.h"
#include "service/secrets/hex.h"

namespace agendasync::service {

namespace {

/// 256 random bits as hex: unguessable, and fresh at every sign-in (no session fixation).
Result<std::string> random_id() {
  std::vector<std::uint8_t> buffer(32);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    return fail(ErrorKind::kPermanent, "the system random generator failed");
  }
  return secrets::to_hex(buffer.data(), buffer.size());
}

std::int64_t millis(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_millis(std::int64_t at) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(at));
}

}  // namespace

std::optional<std::string> session_cookie(std::string_view header) {
  while (!header.empty()) {
    auto end = header.find(';');
    std::string_view pair = header.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.starts_with(kSessionCookie) && pair.size() > kSessionCookie.size() &&
        pair[kSessionCookie.size()] == '=') {
      return std::string(pair.substr(kSessionCookie.size() + 1));
    }
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return std::nullopt;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void SessionStore::trim(const char* table, const char* key) {
  const auto now = millis(std::chrono::system_clock::now());
  (void)db_.run(std::string("DELETE FROM ") + table + " WHERE expires_at <= ?1", {now});
  auto count = db_.query_int(std::string("SELECT COUNT(*) FROM ") + table);
  if (!count) return;
  const auto live = count->value_or(0);
  const auto limit = static_cast<std::int64_t>(options_.max_sessions);
  if (live < limit) return;
  (void)db_.run(std::string("DELETE FROM ") + table + " WHERE " + key + " IN (SELECT " + key +
                    " FROM " + table + " ORDER BY expires_at LIMIT ?1)",
                {live - limit + 1});
}

Result<OpenedSession> SessionStore::open(Principal principal, std::string token_hash) {
  auto id = random_id();
  auto csrf = random_id();
  if (!id || !csrf) return std::unexpected(!id ? id.error() : csrf.error());
  const auto now = std::chrono::system_clock::now();
  OpenedSession opened{
      *id, Session{std::move(principal), std::move(token_hash), *csrf, now + options_.lifetime}};
  trim("service_session", "id_hash");
  const Session& session = opened.session;
  auto stored = db_.run(
      "INSERT INTO service_session(id_hash, role, org, token_id, token_hash, csrf, expires_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      {sha256_hex(opened.id), role_text(session.principal), session.principal.org,
       session.principal.token_id, session.token_hash, session.csrf, millis(session.expires)});
  if (!stored) return std::unexpected(stored.error());
  return opened;
}

std::optional<Session> SessionStore::find(std::string_view id) {
  const std::string key = sha256_hex(id);
  auto rows = db_.query(
      "SELECT role, org, token_id, token_hash, csrf, expires_at FROM service_session "
      "WHERE id_hash = ?1",
      {key});
  if (!rows) {
    log_event(spdlog::level::err, "session_lookup_failed", {{"error", rows.error().message}});
    return std::nullopt;
  }
  if (rows->empty()) return std::nullopt;
  Session session;
  session.expires = from_millis(rows->int_at(0, 5));
  if (session.expires <= std::chrono::system_clock::now()) {
    (void)db_.run("DELETE FROM service_session WHERE id_hash = ?1", {key});
    return std::nullopt;
  }
  auto principal = parse_role(rows->text_at(0, 0));
  if (!principal) return std::nullopt;
  session.principal = std::move(*principal);
  session.principal.org = rows->text_at(0, 1);
  session.principal.token_id = rows->text_at(0, 2);
  session.token_hash = rows->text_at(0, 3);
  session.csrf = rows->text_at(0, 4);
  return session;
}

void SessionStore::end(std::string_view id) {
  (void)db_.run("DELETE FROM service_session WHERE id_hash = ?1", {sha256_hex(id)});
}

Result<LoginLink> SessionStore::mint_link(const std::string& org, const std::string& user) {
  auto code = random_id();
  if (!code) return std::unexpected(code.error());
  const auto now = std::chrono::system_clock::now();
  LoginLink link{*code, now + options_.login_link_lifetime};
  trim("service_login_link", "code_hash");
  auto stored = db_.run(
      "INSERT INTO service_login_link(code_hash, org, user_name, expires_at) "
      "VALUES (?1, ?2, ?3, ?4)",
      {sha256_hex(link.code), org, user, millis(link.expires)});
  if (!stored) return std::unexpected(stored.error());
  return link;
}

std::optional<Principal> SessionStore::redeem(std::string_view code) {
  // Single use, across nodes too: the row goes in the statement that reads it, so of two
  // nodes redeeming one code at once only one gets it back. Gone whether valid or not.
  auto rows = db_.transaction([&](store::sql::Session& db) {
    return db.query(
        "DELETE FROM service_login_link WHERE code_hash = ?1 RETURNING org, user_name, "
        "expires_at",
        {sha256_hex(code)});
  });
  if (!rows || rows->empty()) return std::nullopt;
  if (from_millis(rows->int_at(0, 2)) <= std::chrono::system_clock::now()) return std::nullopt;
  return Principal{RoleKind::kUser, rows->text_at(0, 1), "login-link", rows->text_at(0, 0)};
}

std::size_t SessionStore::live_sessions() {
  (void)db_.run("DELETE FROM service_session WHERE expires_at <= ?1",
                {millis(std::chrono::system_clock::now())});
  auto count = db_.query_int("SELECT COUNT(*) FROM service_session");
  return count ? static_cast<std::size_t>(count->value_or(0)) : 0;
}

}  // namespace agendasync::service
