#pragma once
/// HTTP authentication as IIS in front of Exchange does it: Basic, NTLM (NTLMv2 only; the
/// handshake is per connection, and the connection stays authenticated) and Bearer.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exsim/server/config.h"

namespace exsim {

/// Decides which account a Bearer token stands for. exsim's Graph side can plug its token
/// endpoint in here; the default accepts the tokens configured in `bearer_tokens`.
class BearerValidator {
 public:
  virtual ~BearerValidator() = default;
  /// The account user the token authenticates, or nullopt when it is not accepted.
  virtual std::optional<std::string> account_for(std::string_view token) const = 0;
};

/// Tokens fixed in the configuration.
class StaticBearerTokens final : public BearerValidator {
 public:
  explicit StaticBearerTokens(std::map<std::string, std::string> tokens);
  std::optional<std::string> account_for(std::string_view token) const override;

 private:
  std::map<std::string, std::string> tokens_;
};

/// The outcome of checking one request.
struct AuthOutcome {
  const AccountConfig* account = nullptr;     // set when authenticated
  std::vector<std::string> www_authenticate;  // challenges for a 401
};

/// Checks Authorization headers against the configured accounts.
class Authenticator {
 public:
  Authenticator(const ServerConfig& config, std::shared_ptr<BearerValidator> bearer);
  /// `connection` identifies the TCP connection (NTLM authenticates connections).
  AuthOutcome authenticate(std::string_view authorization, const std::string& connection);
  /// Forgets NTLM state of idle connections.
  void expire(std::chrono::seconds idle);
  const AccountConfig* find_account(std::string_view user) const;

 private:
  bool allows(std::string_view method) const;
  std::vector<std::string> challenges() const;

  const ServerConfig& config_;
  std::shared_ptr<BearerValidator> bearer_;
  struct Connection {
    std::string challenge;                   // NTLM server challenge in flight
    const AccountConfig* account = nullptr;  // authenticated account
    std::chrono::steady_clock::time_point last_seen;
  };
  std::mutex mutex_;
  std::map<std::string, Connection> connections_;
};

}  // namespace exsim
