#pragma once
/// Browser sessions of the admin console (issue 18): a token (or a login link) is exchanged
/// once for a random session id that travels in an HttpOnly cookie, with a CSRF token the page
/// keeps in memory and sends on every state change. Sessions and login links are rows of the
/// node's service tables (the platform schema on PostgreSQL), keyed by the SHA-256 of their
/// id or code, never the value: a restart signs nobody out, and a session opened through one
/// node works on every node behind the load balancer (docs/DECISIONS.md, "Console
/// sessions").
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "service/service_db.h"
#include "service/tokens.h"

namespace agendasync::service {

struct SessionOptions {
  /// A session ends this long after sign-in, whatever it does (no sliding renewal).
  std::chrono::seconds lifetime{std::chrono::hours(8)};
  /// A login link must be opened within this.
  std::chrono::seconds login_link_lifetime{std::chrono::minutes(5)};
  /// At most this many live sessions (and as many pending login links); the oldest goes first.
  std::size_t max_sessions = 10000;
};

/// A live session as the router and the session routes see it.
struct Session {
  Principal principal;
  /// SHA-256 of the token it was opened with: a revoked token ends its sessions. Empty for a
  /// login link's session (it has no token).
  std::string token_hash;
  std::string csrf;
  std::chrono::system_clock::time_point expires;
};

/// A new session: the only time its id exists outside the cookie.
struct OpenedSession {
  std::string id;
  Session session;
};

struct LoginLink {
  std::string code;
  std::chrono::system_clock::time_point expires;
};

class SessionStore {
 public:
  /// Sessions in `db` (the node's service tables; it outlives the store).
  explicit SessionStore(ServiceDb& db, SessionOptions options = {})
      : db_(db.sql()), options_(options) {}
  const SessionOptions& options() const { return options_; }

  /// A new session (fresh random id and CSRF token) for `principal`.
  Result<OpenedSession> open(Principal principal, std::string token_hash);
  /// The live session with `id`; nullopt when unknown, ended or expired.
  std::optional<Session> find(std::string_view id);
  /// Signs out; nothing when unknown.
  void end(std::string_view id);

  /// A single-use code that opens a session for `user` of `org` (a user principal).
  Result<LoginLink> mint_link(const std::string& org, const std::string& user);
  /// The principal a code opens, once: the code is gone afterwards. nullopt when unknown,
  /// used or expired.
  std::optional<Principal> redeem(std::string_view code);

  std::size_t live_sessions();

 private:
  /// Drops what expired in `table`, then the soonest-expiring rows until one more fits under
  /// max_sessions.
  void trim(const char* table, const char* key);
  store::sql::Database& db_;
  SessionOptions options_;
};

/// The cookie that carries the session id.
inline constexpr std::string_view kSessionCookie = "agendasync_session";
/// The console's CSRF header: state changes made with a session cookie must carry the
/// session's CSRF token in it.
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

/// The session id in a Cookie header's value (`a=b; agendasync_session=ID`), if any.
std::optional<std::string> session_cookie(std::string_view cookie_header);

/// True when `a` equals `b`, in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace agendasync::service
