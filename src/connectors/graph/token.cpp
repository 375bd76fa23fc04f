#include "connectors/graph/token.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "connectors/graph/base64url.h"
#include "connectors/graph/url.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

constexpr const char* kGrantAdvice =
    "Entra admin center > App registrations > (the app) > API permissions > Add a permission "
    "> Microsoft Graph > Application permissions, then Grant admin consent";

struct AadstsRule {
  long code;
  ErrorKind kind;
  const char* advice;
};

/// The AADSTS codes a misconfigured app registration produces, and what fixes each.
constexpr AadstsRule kAadsts[] = {
    {7000215, ErrorKind::kAuth,
     "the client secret is wrong: copy the secret's Value (not its Secret ID) from Entra admin "
     "center > App registrations > (the app) > Certificates & secrets into the file "
     "[graph] client_secret_file names (or the variable [graph] client_secret_env names)"},
    {7000222, ErrorKind::kAuth,
     "the client secret expired: create a new client secret in Entra admin center > App "
     "registrations > (the app) > Certificates & secrets and put it in the file [graph] "
     "client_secret_file names"},
    {700027, ErrorKind::kAuth,
     "Entra ID did not accept the certificate: upload the certificate's public part in Entra "
     "admin center > App registrations > (the app) > Certificates & secrets (it may be "
     "expired or not registered for this app)"},
    {700024, ErrorKind::kAuth,
     "the client assertion is outside its valid time range: check this server's clock (NTP)"},
    {90002, ErrorKind::kAuth,
     "the tenant does not exist: check [graph] tenant_id (Entra admin center > "
     "Overview > Tenant ID)"},
    {900023, ErrorKind::kAuth,
     "the tenant id is not valid: set [graph] tenant_id to the tenant's GUID or primary "
     "domain"},
    {90023, ErrorKind::kAuth, "the tenant id is not valid: check [graph] tenant_id"},
    {700016, ErrorKind::kAuth,
     "the application is unknown in this tenant: check [graph] client_id (App "
     "registrations > (the app) > Application (client) ID) and that admin consent was granted "
     "in this tenant"},
    {7000112, ErrorKind::kAuth,
     "the application is disabled in this tenant: enable it in Entra admin center > "
     "Enterprise applications > (the app) > Properties"},
    {65001, ErrorKind::kPermission, "admin consent is missing"},
    {70011, ErrorKind::kInvalidData,
     "the scope is not valid: it must be https://graph.microsoft.com/.default"},
    {1002012, ErrorKind::kInvalidData,
     "the scope is not valid: it must be https://graph.microsoft.com/.default"},
    {53003, ErrorKind::kPermission,
     "a Conditional Access policy blocks the app: exclude it or allow this server's address"},
};

}  // namespace

std::string token_endpoint(const AppCredentials& app) {
  std::string base = app.authority;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return fmt::format("{}/{}/oauth2/v2.0/token", base, url_encode(app.tenant));
}

std::string admin_consent_url(const AppCredentials& app) {
  std::string base = app.authority;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return fmt::format("{}/{}/adminconsent?client_id={}", base, url_encode(app.tenant),
                     url_encode(app.client_id));
}

std::optional<std::vector<std::string>> token_roles(const std::string& token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first == std::string::npos ? 0 : first + 1);
  if (first == std::string::npos || second == std::string::npos) return std::nullopt;
  const auto payload =
      base64url_decode(std::string_view(token).substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  const auto claims = json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  std::vector<std::string> roles;
  if (const auto it = claims.find("roles"); it != claims.end() && it->is_array()) {
    for (const auto& role : *it) {
      if (role.is_string()) roles.push_back(role.get<std::string>());
    }
  }
  return roles;
}

Result<void> check_roles(const std::vector<std::string>& granted, const AppCredentials& app) {
  std::vector<std::string> missing;
  for (const auto& role : required_roles()) {
    // A broader role covers the narrower one.
    const bool has = std::ranges::find(granted, role) != granted.end() ||
                     (role == "MailboxSettings.Read" &&
                      std::ranges::find(granted, "MailboxSettings.ReadWrite") != granted.end());
    if (!has) missing.push_back(role);
  }
  if (missing.empty()) return {};
  return fail(ErrorKind::kPermission,
              fmt::format("the Graph app lacks the application permission(s) {}: add them in {} "
                          "(or open {} as a global administrator)",
                          fmt::join(missing, ", "), kGrantAdvice, admin_consent_url(app)),
              "missing-role");
}

Error token_error(long status, std::string_view body, const AppCredentials& app) {
  const auto parsed = json::parse(body, nullptr, false);
  std::string code;
  std::string description;
  if (parsed.is_object()) {
    if (parsed.contains("error") && parsed["error"].is_string()) code = parsed["error"];
    if (parsed.contains("error_description") && parsed["error_description"].is_string()) {
      description = parsed["error_description"];
    }
  }
  long aadsts = 0;
  if (parsed.is_object() && parsed.contains("error_codes") && parsed["error_codes"].is_array() &&
      !parsed["error_codes"].empty() && parsed["error_codes"][0].is_number_integer()) {
    aadsts = parsed["error_codes"][0].get<long>();
  } else {
    // "AADSTS7000215: ..." in the description (older answers carry no error_codes).
    const auto at = description.find("AADSTS");
    if (at != std::string::npos) {
      std::size_t end = at + 6;
      while (end < description.size() && description[end] >= '0' && description[end] <= '9') ++end;
      if (end > at + 6 && end - at - 6 < 10)
        aadsts = std::stol(description.substr(at + 6, end - at - 6));
    }
  }
  // Only the first line: later lines carry trace and correlation ids.
  const std::string first_line = description.substr(0, description.find_first_of("\r\n"));
  for (const auto& rule : kAadsts) {
    if (rule.code == aadsts) {
      std::string advice = rule.advice;
      if (rule.code == 65001) {
        advice = fmt::format("admin consent is missing: open {} as an administrator",
                             admin_consent_url(app));
      }
      return Error::make(
          rule.kind, fmt::format("Entra ID refused the Graph token (AADSTS{}): {}", aadsts, advice),
          fmt::format("AADSTS{}", aadsts));
    }
  }
  const ErrorKind kind = status >= 500   ? ErrorKind::kTransient
                         : status == 429 ? ErrorKind::kThrottled
                                         : ErrorKind::kAuth;
  return Error::make(kind,
                     fmt::format("Entra ID refused the Graph token: HTTP {} {} {}; check "
                                 "[graph] tenant_id, [graph] client_id and [graph] "
                                 "client_secret_file or certificate_file",
                                 status, code, first_line.substr(0, 300)),
                     aadsts ? fmt::format("AADSTS{}", aadsts) : code);
}

TokenProvider::TokenProvider(net::HttpClient& http, AppCredentials app, Clock clock)
    : http_(http), app_(std::move(app)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

Result<void> TokenProvider::fetch_locked() {
  const auto now = clock_();
  std::string body = fmt::format("grant_type=client_credentials&client_id={}&scope={}",
                                 url_encode(app_.client_id), url_encode(app_.scope));
  if (!app_.certificate_pem.empty()) {
    auto assertion = client_assertion(app_, now);
    if (!assertion) return std::unexpected(assertion.error());
    body += "&client_assertion_type=" +
            url_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
            "&client_assertion=" + *assertion;
  } else if (!app_.client_secret.empty()) {
    body += "&client_secret=" + url_encode(app_.client_secret.reveal());
  } else {
    return fail(ErrorKind::kAuth,
                "no Graph credential is configured: set [graph] client_secret_file (or "
                "client_secret_env), or [graph] certificate_file and [graph] private_key_file");
  }
  net::Request request;
  request.method = "POST";
  request.url = token_endpoint(app_);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = std::move(body);
  auto response = http_.send(request, net::Credentials{});
  if (!response && response.error().kind == ErrorKind::kAuth &&
      response.error().protocol_code == "401") {
    // Entra ID's 401 (invalid_client) comes back as a response with its JSON body and is
    // mapped by token_error below; a 401 without JSON (a gateway in between) is an auth error
    // from the transport, so say what 401 means here.
    return fail(ErrorKind::kAuth,
                app_.certificate_pem.empty()
                    ? "Entra ID refused the app's client secret (invalid_client): it is wrong or "
                      "expired; copy a current secret's Value (not its Secret ID) from Entra "
                      "admin center > App registrations > (the app) > Certificates & secrets "
                      "into the file [graph] client_secret_file names"
                    : "Entra ID refused the app's certificate (invalid_client): upload its "
                      "public part in Entra admin center > App registrations > (the app) > "
                      "Certificates & secrets, or set the certificate that is uploaded there",
                "invalid_client");
  }
  if (!response) return std::unexpected(response.error());
  if (response->status != 200)
    return std::unexpected(token_error(response->status, response->body, app_));
  const auto parsed = json::parse(response->body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("access_token") ||
      !parsed["access_token"].is_string()) {
    return fail(ErrorKind::kTransient, "Entra ID answered the token request without a token");
  }
  long lifetime = 3599;
  if (const auto it = parsed.find("expires_in"); it != parsed.end()) {
    if (it->is_number_integer()) lifetime = it->get<long>();
    if (it->is_string()) lifetime = std::strtol(it->get<std::string>().c_str(), nullptr, 10);
  }
  token_ = Secret(parsed["access_token"].get<std::string>());
  expires_ = now + std::chrono::seconds(lifetime);
  roles_ = token_roles(token_.reveal());
  return {};
}

Result<Secret> TokenProvider::token() {
  std::lock_guard lock(mutex_);
  if (token_.empty() || clock_() + kRenewBefore >= expires_) {
    if (auto fetched = fetch_locked(); !fetched) return std::unexpected(fetched.error());
  }
  return token_;
}

Result<Secret> TokenProvider::refresh() {
  std::lock_guard lock(mutex_);
  token_ = Secret{};
  if (auto fetched = fetch_locked(); !fetched) return std::unexpected(fetched.error());
  return token_;
}

Result<std::vector<std::string>> TokenProvider::roles() {
  if (auto current = token(); !current) return std::unexpected(current.error());
  std::lock_guard lock(mutex_);
  if (!roles_) {
    return fail(ErrorKind::kUnsupported,
                "the Graph access token is not a readable JWT, so its roles cannot be checked");
  }
  return *roles_;
}

net::Credentials TokenProvider::credentials() {
  net::Credentials credentials;
  credentials.method = net::AuthMethod::kBearer;
  credentials.bearer_token = [this] { return token(); };
  credentials.bearer_token_refresh = [this] { return refresh(); };
  return credentials;
}

std::vector<std::string> token_advice_catalogue(const AppCredentials& app) {
  std::vector<std::string> all;
  for (const auto& rule : kAadsts) {
    all.push_back(
        token_error(400, fmt::format(R"({{"error_codes":[{}]}})", rule.code), app).message);
  }
  all.push_back(token_error(400, R"({"error":"invalid_request"})", app).message);
  return all;
}

}  // namespace agendasync::graph
