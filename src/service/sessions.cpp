#include "service/sessions.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <vector>

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

/// Drops the entries of `map` whose `expires` has passed, then the soonest-expiring ones
/// until `room` more fit under `limit`.
template <class Map>
void trim(Map& map, std::chrono::system_clock::time_point now, std::size_t limit) {
  std::erase_if(map, [now](const auto& entry) { return entry.second.expires <= now; });
  while (!map.empty() && map.size() >= limit) {
    auto oldest = std::min_element(map.begin(), map.end(), [](const auto& a, const auto& b) {
      return a.second.expires < b.second.expires;
    });
    map.erase(oldest);
  }
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

Result<OpenedSession> SessionStore::open(Principal principal, std::string token_hash) {
  auto id = random_id();
  auto csrf = random_id();
  if (!id || !csrf) return std::unexpected(!id ? id.error() : csrf.error());
  const auto now = std::chrono::system_clock::now();
  OpenedSession opened{
      *id, Session{std::move(principal), std::move(token_hash), *csrf, now + options_.lifetime}};
  std::lock_guard lock(mutex_);
  trim(sessions_, now, options_.max_sessions);
  sessions_[sha256_hex(opened.id)] = opened.session;
  return opened;
}

std::optional<Session> SessionStore::find(std::string_view id) {
  const std::string key = sha256_hex(id);
  std::lock_guard lock(mutex_);
  auto found = sessions_.find(key);
  if (found == sessions_.end()) return std::nullopt;
  if (found->second.expires <= std::chrono::system_clock::now()) {
    sessions_.erase(found);
    return std::nullopt;
  }
  return found->second;
}

void SessionStore::end(std::string_view id) {
  const std::string key = sha256_hex(id);
  std::lock_guard lock(mutex_);
  sessions_.erase(key);
}

Result<LoginLink> SessionStore::mint_link(const std::string& org, const std::string& user) {
  auto code = random_id();
  if (!code) return std::unexpected(code.error());
  const auto now = std::chrono::system_clock::now();
  Principal principal{RoleKind::kUser, user, "login-link", org};
  LoginLink link{*code, now + options_.login_link_lifetime};
  std::lock_guard lock(mutex_);
  trim(links_, now, options_.max_sessions);
  links_[sha256_hex(link.code)] = Pending{std::move(principal), link.expires};
  return link;
}

std::optional<Principal> SessionStore::redeem(std::string_view code) {
  const std::string key = sha256_hex(code);
  std::lock_guard lock(mutex_);
  auto found = links_.find(key);
  if (found == links_.end()) return std::nullopt;
  // Single use: gone whether it is still valid or not.
  Pending pending = std::move(found->second);
  links_.erase(found);
  if (pending.expires <= std::chrono::system_clock::now()) return std::nullopt;
  return pending.principal;
}

std::size_t SessionStore::live_sessions() {
  std::lock_guard lock(mutex_);
  trim(sessions_, std::chrono::system_clock::now(), options_.max_sessions + 1);
  return sessions_.size();
}

}  // namespace agendasync::service
