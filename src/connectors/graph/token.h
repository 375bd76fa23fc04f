#pragma once
/// Entra ID app-only tokens for Graph (R5): the OAuth 2.0 client-credentials grant with a
/// client secret or a certificate (signed JWT client assertion), cached and renewed before
/// expiry; the roles in the token checked against what the connector needs.
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "net/http.h"

namespace agendasync::graph {

/// The app registration as configured (tenant id, client id, secret or certificate).
struct AppCredentials {
  /// "https://login.microsoftonline.com"; exsim's address in tests.
  std::string authority = "https://login.microsoftonline.com";
  std::string tenant;           ///< tenant id (GUID) or primary domain
  std::string client_id;        ///< application (client) id
  Secret client_secret;         ///< either this ...
  std::string certificate_pem;  ///< ... or a certificate (PEM) with its private key
  Secret private_key_pem;
  std::string scope = "https://graph.microsoft.com/.default";
};

/// The application permissions the Graph connector needs.
inline const std::vector<std::string>& required_roles() {
  static const std::vector<std::string> roles = {"Calendars.ReadWrite", "User.Read.All",
                                                 "MailboxSettings.Read"};
  return roles;
}

/// The token endpoint: {authority}/{tenant}/oauth2/v2.0/token.
std::string token_endpoint(const AppCredentials& app);

/// The URL an administrator opens to grant admin consent for the app in the tenant.
std::string admin_consent_url(const AppCredentials& app);

/// The signed client assertion (RS256, x5t = base64url SHA-1 thumbprint of the certificate,
/// aud = token endpoint, iss = sub = client id, jti, nbf/exp 10 minutes). An unreadable or
/// expired certificate or key fails with kAuth saying what to do.
Result<std::string> client_assertion(const AppCredentials& app,
                                     std::chrono::system_clock::time_point now);

/// The "roles" claim of a JWT access token; nullopt when the token is no readable JWT.
std::optional<std::vector<std::string>> token_roles(const std::string& token);

/// kPermission naming each missing role and where to grant it; ok when all are present.
Result<void> check_roles(const std::vector<std::string>& granted, const AppCredentials& app);

/// The error for a failed token request: AADSTS codes mapped to what to fix.
Error token_error(long status, std::string_view body, const AppCredentials& app);

/// The message of every Entra ID refusal token_error explains (the doctor's remedy catalogue).
std::vector<std::string> token_advice_catalogue(const AppCredentials& app);

/// Fetches, caches and renews the app token. Thread-safe: one refresh at a time, other
/// callers wait for it and share the result.
class TokenProvider {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  TokenProvider(net::HttpClient& http, AppCredentials app, Clock clock = nullptr);

  /// A token valid for at least `kRenewBefore` more; fetched when the cached one is not.
  Result<Secret> token();
  /// Drops the cached token and fetches a new one (after a 401).
  Result<Secret> refresh();
  /// The roles of the current token (fetches one when none is cached).
  Result<std::vector<std::string>> roles();
  /// Bearer credentials for net::HttpClient using this provider.
  net::Credentials credentials();

  const AppCredentials& app() const { return app_; }

  /// Renewal margin: a token is renewed this long before it expires.
  static constexpr std::chrono::minutes kRenewBefore{5};

 private:
  Result<void> fetch_locked();

  net::HttpClient& http_;
  AppCredentials app_;
  Clock clock_;
  std::mutex mutex_;
  Secret token_;
  std::chrono::system_clock::time_point expires_{};
  std::optional<std::vector<std::string>> roles_;
};

}  // namespace agendasync::graph
