#pragma once
/// Entra ID v2.0 token endpoint as exsim serves it: client-credentials grant with a client
/// secret or a certificate (a signed JWT client assertion, x5t / x5t#S256), issuing RS256-signed
/// JWT access tokens whose `roles` are the app's granted application permissions (what Graph checks
/// on every request).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exsim/server/config.h"

namespace httplib {
class Server;
}

namespace exsim {

/// An HTTP answer of the token endpoint (status + JSON body as Entra ID writes it).
struct TokenReply {
  int status = 200;
  nlohmann::json body;
};

/// Holds the signing key (generated at start) and issues/validates access tokens.
class TokenService {
 public:
  /// `lifetime`: how long issued access tokens stay valid (tests shorten it).
  TokenService(std::vector<GraphAppConfig> apps, std::chrono::seconds lifetime);
  ~TokenService();
  TokenService(const TokenService&) = delete;
  TokenService& operator=(const TokenService&) = delete;

  /// Answers POST /{tenant}/oauth2/v2.0/token with the url-encoded form `form`. `endpoint` is
  /// this endpoint's own URL, which a client assertion's `aud` may name (besides Entra ID's).
  TokenReply handle_token_request(const std::string& tenant, const std::string& form,
                                  const std::string& endpoint = {}) const;

  /// One message per configured certificate that cannot be read (empty when all load).
  std::vector<std::string> certificate_errors() const;

  /// The signing key's public half (PEM), so tests and /discovery/keys can verify tokens.
  std::string public_key_pem() const;

  /// Verifies an access token's signature and expiry; on success returns its claims.
  std::optional<nlohmann::json> verify(const std::string& token) const;

 private:
  std::string sign(const nlohmann::json& claims) const;
  /// Checks a client assertion for `app`; an Entra error reply when it is refused.
  std::optional<TokenReply> check_assertion(const GraphAppConfig& app, const std::string& assertion,
                                            const std::string& tenant,
                                            const std::string& endpoint) const;
  struct Key;
  struct Certificate;
  std::vector<std::unique_ptr<Certificate>> certificates_;
  std::unique_ptr<Key> key_;
  std::vector<GraphAppConfig> apps_;
  std::chrono::seconds lifetime_;
};

/// Installs POST /{tenant}/oauth2/v2.0/token and the metadata MSAL reads before it
/// (/{tenant}/v2.0/.well-known/openid-configuration, /common/discovery/instance) on `http`.
/// `base_url` gives the scheme://host:port the metadata's endpoints point at.
void install_token_routes(httplib::Server& http, const TokenService& tokens,
                          std::function<std::string()> base_url);

/// Decodes an application/x-www-form-urlencoded body into name -> value.
std::vector<std::pair<std::string, std::string>> parse_form(const std::string& body);

}  // namespace exsim
