#include "exsim/identity/auth.h"

#include <algorithm>
#include <cctype>

#include "exsim/identity/ntlm.h"
#include "exsim/store/ids.h"

namespace exsim {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view after_scheme(std::string_view header, std::string_view scheme) {
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme) ||
      header[scheme.size()] != ' ') {
    return {};
  }
  header.remove_prefix(scheme.size() + 1);
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  return header;
}

}  // namespace

StaticBearerTokens::StaticBearerTokens(std::map<std::string, std::string> tokens)
    : tokens_(std::move(tokens)) {}

std::optional<std::string> StaticBearerTokens::account_for(std::string_view token) const {
  auto it = tokens_.find(std::string(token));
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

Authenticator::Authenticator(const ServerConfig& config, std::shared_ptr<BearerValidator> bearer)
    : config_(config), bearer_(std::move(bearer)) {}

bool Authenticator::allows(std::string_view method) const {
  return std::find(config_.auth_methods.begin(), config_.auth_methods.end(), method) !=
         config_.auth_methods.end();
}

std::vector<std::string> Authenticator::challenges() const {
  std::vector<std::string> out;
  // IIS lists Negotiate before NTLM; Negotiate here means NTLM inside SPNEGO-less Negotiate.
  if (allows("ntlm")) {
    out.push_back("Negotiate");
    out.push_back("NTLM");
  }
  if (allows("basic")) out.push_back("Basic realm=\"" + config_.domain + "\"");
  if (allows("bearer")) out.push_back("Bearer");
  return out;
}

const AccountConfig* Authenticator::find_account(std::string_view user) const {
  for (const AccountConfig& a : config_.accounts) {
    if (iequals(a.user, user)) return &a;
    std::string_view local = std::string_view(a.user).substr(0, a.user.find('@'));
    // DOMAIN\user and bare user names log on to user@...
    auto slash = user.find('\\');
    std::string_view bare = slash == std::string_view::npos ? user : user.substr(slash + 1);
    if (iequals(bare, a.user) || iequals(bare, local)) return &a;
  }
  return nullptr;
}

AuthOutcome Authenticator::authenticate(std::string_view authorization,
                                        const std::string& connection) {
  AuthOutcome out;
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  // Forget connections idle for longer than any keep-alive, so the table stays small and a
  // reused client port does not inherit an old logon.
  if (connections_.size() > 256) {
    std::erase_if(connections_, [&](const auto& kv) {
      return now - kv.second.last_seen > std::chrono::seconds(60);
    });
  }
  if (authorization.empty()) {
    auto it = connections_.find(connection);
    if (it != connections_.end() && it->second.account) {
      it->second.last_seen = now;
      out.account = it->second.account;
      return out;
    }
    out.www_authenticate = challenges();
    return out;
  }
  if (auto basic = after_scheme(authorization, "Basic"); !basic.empty() && allows("basic")) {
    auto decoded = base64_decode(basic);
    if (decoded) {
      auto colon = decoded->find(':');
      if (colon != std::string::npos) {
        const AccountConfig* a = find_account(decoded->substr(0, colon));
        if (a && a->password == decoded->substr(colon + 1)) {
          out.account = a;
          return out;
        }
      }
    }
  }
  std::string_view ntlm = after_scheme(authorization, "NTLM");
  if (ntlm.empty()) ntlm = after_scheme(authorization, "Negotiate");
  if (!ntlm.empty() && allows("ntlm")) {
    auto raw = base64_decode(ntlm);
    int type = raw ? ntlm_message_type(*raw) : 0;
    std::string scheme = authorization.substr(0, 4) == "NTLM" ? "NTLM" : "Negotiate";
    if (type == 1) {
      Connection& c = connections_[connection];
      c.challenge = random_bytes(8);
      c.account = nullptr;
      c.last_seen = now;
      out.www_authenticate.push_back(
          scheme + " " +
          base64_encode(ntlm_challenge_message(c.challenge, config_.domain, "EXSIM01")));
      return out;
    }
    if (type == 3) {
      auto it = connections_.find(connection);
      auto msg = ntlm_parse_authenticate(*raw);
      if (it != connections_.end() && !it->second.challenge.empty() && msg) {
        std::string user = msg->domain.empty() ? msg->user : msg->domain + "\\" + msg->user;
        const AccountConfig* a = find_account(user);
        if (!a) a = find_account(msg->user);
        std::string challenge = it->second.challenge;
        it->second.challenge.clear();
        if (a && ntlm_v2_verify(*msg, a->password, challenge)) {
          it->second.account = a;
          it->second.last_seen = now;
          out.account = a;
          return out;
        }
      }
    }
  }
  if (auto token = after_scheme(authorization, "Bearer");
      !token.empty() && allows("bearer") && bearer_) {
    if (auto user = bearer_->account_for(token)) {
      if (const AccountConfig* a = find_account(*user)) {
        out.account = a;
        return out;
      }
    }
  }
  out.www_authenticate = challenges();
  return out;
}

void Authenticator::expire(std::chrono::seconds idle) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  std::erase_if(connections_, [&](const auto& kv) { return now - kv.second.last_seen > idle; });
}

}  // namespace exsim
