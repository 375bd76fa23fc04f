#include "exsim/identity/token_service.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include <cstring>

#include "exsim/store/ids.h"
#include "web/query.h"

namespace exsim {
namespace {

constexpr const char* kGraphScope = "https://graph.microsoft.com/.default";

std::string base64url(std::string_view bytes) {
  std::string out = base64_encode(bytes);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::optional<std::string> base64url_decode(std::string text) {
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (text.size() % 4 != 0) text.push_back('=');
  return base64_decode(text);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Entra ID's error body: error, error_description "AADSTSnnn: text", error_codes, error_uri.
TokenReply entra_error(int status, const std::string& error, int code, const std::string& text) {
  TokenReply reply;
  reply.status = status;
  reply.body = {
      {"error", error},
      {"error_description", fmt::format("AADSTS{}: {}", code, text)},
      {"error_codes", nlohmann::json::array({code})},
      {"timestamp", ""},
      {"error_uri", fmt::format("https://login.microsoftonline.com/error?code={}", code)}};
  return reply;
}

std::string form_value(const std::vector<std::pair<std::string, std::string>>& form,
                       const std::string& name) {
  for (const auto& [key, value] : form) {
    if (key == name) return value;
  }
  return {};
}

constexpr const char* kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// True when `token` ("header.payload.signature") carries a valid RS256 signature by `key`.
bool rs256_valid(EVP_PKEY* key, const std::string& token) {
  const size_t first = token.find('.');
  const size_t second = token.find('.', first == std::string::npos ? 0 : first + 1);
  if (first == std::string::npos || second == std::string::npos) return false;
  const std::string input = token.substr(0, second);
  auto signature = base64url_decode(token.substr(second + 1));
  if (!signature) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool valid =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature->data()),
                       signature->size(), reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return valid;
}

/// The JSON of a JWT part (0 = header, 1 = payload); discarded when unreadable.
nlohmann::json jwt_part(const std::string& token, int part) {
  size_t begin = 0;
  for (int i = 0; i < part; ++i) {
    begin = token.find('.', begin);
    if (begin == std::string::npos) return nlohmann::json::value_t::discarded;
    ++begin;
  }
  size_t end = token.find('.', begin);
  if (end == std::string::npos) return nlohmann::json::value_t::discarded;
  auto text = base64url_decode(token.substr(begin, end - begin));
  if (!text) return nlohmann::json::value_t::discarded;
  return nlohmann::json::parse(*text, nullptr, false);
}

X509* load_certificate(const std::string& pem_or_path) {
  std::string pem = pem_or_path;
  if (pem.find("-----BEGIN") == std::string::npos) {
    std::ifstream in(pem_or_path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    pem = text.str();
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

std::string thumbprint(X509* cert, const EVP_MD* md) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  X509_digest(cert, md, digest, &size);
  return base64url(std::string_view(reinterpret_cast<const char*>(digest), size));
}

}  // namespace

/// A certificate credential of an app: the certificate and its thumbprints (x5t, x5t#S256).
struct TokenService::Certificate {
  std::string client_id;
  X509* cert = nullptr;
  std::string x5t;
  std::string x5t_s256;
  ~Certificate() { X509_free(cert); }
};

// The signing key is made when first needed: an RSA-2048 key generation costs 0.1-0.5 s of
// CPU (as the prime search goes), and most exsim processes (EWS tests, started hundreds of
// times by the test suite) never issue a token.
struct TokenService::Key {
  EVP_PKEY* get() {
    std::call_once(made_, [this] { pkey_ = EVP_RSA_gen(2048); });
    return pkey_;
  }
  ~Key() { EVP_PKEY_free(pkey_); }

 private:
  std::once_flag made_;
  EVP_PKEY* pkey_ = nullptr;
};

std::vector<std::pair<std::string, std::string>> parse_form(const std::string& body) {
  return agendasync::web::parse_query(body);
}

TokenService::TokenService(std::vector<GraphAppConfig> apps, std::chrono::seconds lifetime)
    : key_(std::make_unique<Key>()), apps_(std::move(apps)), lifetime_(lifetime) {
  for (const auto& app : apps_) {
    for (const auto& source : app.certificates) {
      auto c = std::make_unique<Certificate>();
      c->client_id = app.client_id;
      c->cert = load_certificate(source);
      if (!c->cert) continue;  // reported by certificate_errors()
      c->x5t = thumbprint(c->cert, EVP_sha1());
      c->x5t_s256 = thumbprint(c->cert, EVP_sha256());
      certificates_.push_back(std::move(c));
    }
  }
}

std::vector<std::string> TokenService::certificate_errors() const {
  std::vector<std::string> errors;
  for (const auto& app : apps_) {
    for (const auto& source : app.certificates) {
      X509* cert = load_certificate(source);
      if (!cert) {
        errors.push_back(fmt::format(
            "graph app {}: certificate '{}' is not a readable PEM certificate (give a PEM file "
            "or the PEM text)",
            app.client_id, source.size() > 80 ? source.substr(0, 80) + "..." : source));
      }
      X509_free(cert);
    }
  }
  return errors;
}

std::optional<TokenReply> TokenService::check_assertion(const GraphAppConfig& app,
                                                        const std::string& assertion,
                                                        const std::string& tenant,
                                                        const std::string& endpoint) const {
  const auto header = jwt_part(assertion, 0);
  const auto claims = jwt_part(assertion, 1);
  if (!header.is_object() || !claims.is_object()) {
    return entra_error(400, "invalid_client", 50027,
                       "JWT token is invalid or malformed: the client assertion is not a JWT.");
  }
  // Clients differ in padding and alphabet (MSAL Python pads): compare the bytes' base64url.
  auto canonical = [](std::string text) {
    for (char& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!text.empty() && text.back() == '=') text.pop_back();
    return text;
  };
  const std::string x5t = canonical(header.value("x5t", ""));
  const std::string x5t_s256 = canonical(header.value("x5t#S256", ""));
  const Certificate* cert = nullptr;
  for (const auto& c : certificates_) {
    if (c->client_id == app.client_id &&
        ((!x5t.empty() && c->x5t == x5t) || (!x5t_s256.empty() && c->x5t_s256 == x5t_s256))) {
      cert = c.get();
    }
  }
  const std::string shown = x5t.empty() ? x5t_s256 : x5t;
  if (!cert) {
    return entra_error(
        401, "invalid_client", 700027,
        fmt::format("Client assertion failed signature validation. [Reason - The key was not "
                    "found., Thumbprint of key used by client: '{}'. Please visit the Azure "
                    "Portal, Graph Explorer or directly use MS Graph to see configured keys for "
                    "app Id '{}'.]",
                    shown, app.client_id));
  }
  const int64_t now = unix_now();
  if (X509_cmp_time(X509_get0_notAfter(cert->cert), nullptr) < 0 ||
      X509_cmp_time(X509_get0_notBefore(cert->cert), nullptr) > 0) {
    return entra_error(
        401, "invalid_client", 700027,
        fmt::format("Client assertion contains an invalid signature. [Reason - The key used is "
                    "expired., Thumbprint of key used by client: '{}', Configured keys: app Id "
                    "'{}'.] Upload a new certificate to the app registration.",
                    shown, app.client_id));
  }
  if (header.value("alg", "") != "RS256" || !rs256_valid(X509_get0_pubkey(cert->cert), assertion)) {
    return entra_error(
        401, "invalid_client", 700027,
        fmt::format("Client assertion contains an invalid signature. [Reason - The provided "
                    "signature value did not match the expected signature value., Thumbprint "
                    "of key used by client: '{}']",
                    shown));
  }
  if (claims.value("iss", "") != app.client_id || claims.value("sub", "") != app.client_id) {
    return entra_error(
        400, "invalid_client", 700021,
        "Client assertion application identifier doesn't match 'client_id' "
        "parameter. Review the documentation at "
        "https://learn.microsoft.com/entra/identity-platform/certificate-credentials.");
  }
  const std::string aud = claims.value("aud", "");
  const std::string real_endpoint =
      fmt::format("https://login.microsoftonline.com/{}/oauth2/v2.0/token", tenant);
  if (aud != real_endpoint && (endpoint.empty() || aud != endpoint)) {
    return entra_error(400, "invalid_client", 700212,
                       fmt::format("The client assertion's audience claim '{}' does not match "
                                   "the token endpoint '{}'.",
                                   aud, endpoint.empty() ? real_endpoint : endpoint));
  }
  const auto exp = claims.find("exp");
  const auto nbf = claims.find("nbf");
  constexpr int64_t kSkew = 300;  // Entra ID allows five minutes of clock skew
  if (exp == claims.end() || !exp->is_number() || exp->get<int64_t>() + kSkew <= now ||
      (nbf != claims.end() && nbf->is_number() && nbf->get<int64_t>() - kSkew > now)) {
    return entra_error(
        400, "invalid_client", 700024,
        fmt::format("Client assertion is not within its valid time range. Current time: {}, "
                    "expiry time of assertion {}.",
                    now, exp != claims.end() && exp->is_number() ? exp->get<int64_t>() : 0));
  }
  return std::nullopt;
}

TokenService::~TokenService() = default;

std::string TokenService::public_key_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_->get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string TokenService::sign(const nlohmann::json& claims) const {
  const nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"kid", "exsim-signing"}};
  const std::string input = base64url(header.dump()) + "." + base64url(claims.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t size = 0;
  std::string signature;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->get()) == 1 &&
      EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) == 1) {
    signature.resize(size);
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    signature.resize(size);
  }
  EVP_MD_CTX_free(ctx);
  return input + "." + base64url(signature);
}

std::optional<nlohmann::json> TokenService::verify(const std::string& token) const {
  if (!rs256_valid(key_->get(), token)) return std::nullopt;
  auto claims = jwt_part(token, 1);
  if (!claims.is_object()) return std::nullopt;
  const auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number() || exp->get<int64_t>() <= unix_now()) {
    return std::nullopt;
  }
  return claims;
}

TokenReply TokenService::handle_token_request(const std::string& tenant, const std::string& body,
                                              const std::string& endpoint) const {
  const auto form = parse_form(body);
  bool tenant_known = false;
  for (const auto& app : apps_) tenant_known = tenant_known || app.tenant_id == tenant;
  if (!tenant_known) {
    return entra_error(400, "invalid_request", 90002,
                       fmt::format("Tenant '{}' not found. Check to make sure you have the correct "
                                   "tenant ID and are signing into the correct cloud.",
                                   tenant));
  }
  if (form_value(form, "grant_type") != "client_credentials") {
    return entra_error(400, "unsupported_grant_type", 70003,
                       fmt::format("The app requested an unsupported grant type '{}'.",
                                   form_value(form, "grant_type")));
  }
  const std::string client_id = form_value(form, "client_id");
  const GraphAppConfig* app = nullptr;
  for (const auto& candidate : apps_) {
    if (candidate.tenant_id == tenant && candidate.client_id == client_id) app = &candidate;
  }
  if (app == nullptr) {
    return entra_error(
        400, "unauthorized_client", 700016,
        fmt::format("Application with identifier '{}' was not found in the directory '{}'. This "
                    "can happen if the application has not been installed by the administrator "
                    "of the tenant or consented to by any user in the tenant. You may have sent "
                    "your authentication request to the wrong tenant.",
                    client_id, tenant));
  }
  const std::string assertion = form_value(form, "client_assertion");
  if (!assertion.empty() || !form_value(form, "client_assertion_type").empty()) {
    if (form_value(form, "client_assertion_type") != kJwtBearer) {
      return entra_error(400, "invalid_request", 50027,
                         fmt::format("client_assertion_type must be '{}'.", kJwtBearer));
    }
    if (auto refused = check_assertion(*app, assertion, tenant, endpoint)) return *refused;
  } else if (form_value(form, "client_secret").empty()) {
    return entra_error(401, "invalid_client", 7000218,
                       "The request body must contain the following parameter: "
                       "'client_assertion' or 'client_secret'.");
  } else if (app->client_secret.empty() ||
             form_value(form, "client_secret") != app->client_secret) {
    return entra_error(
        401, "invalid_client", 7000215,
        fmt::format("Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to "
                    "app '{}'.",
                    client_id));
  }
  if (form_value(form, "scope") != kGraphScope) {
    return entra_error(
        400, "invalid_scope", 1002012,
        fmt::format("The provided value for scope {} is not valid. Client credential flows must "
                    "have a scope value with /.default suffixed to the resource identifier "
                    "(application ID URI).",
                    form_value(form, "scope")));
  }
  const int64_t now = unix_now();
  const nlohmann::json claims = {{"aud", "https://graph.microsoft.com"},
                                 {"iss", fmt::format("https://sts.windows.net/{}/", tenant)},
                                 {"iat", now},
                                 {"nbf", now},
                                 {"exp", now + lifetime_.count()},
                                 {"appid", app->client_id},
                                 {"idtyp", "app"},
                                 {"roles", app->roles},
                                 {"sub", app->client_id},
                                 {"tid", tenant},
                                 {"ver", "1.0"}};
  TokenReply reply;
  reply.body = {{"token_type", "Bearer"},
                {"expires_in", lifetime_.count()},
                {"ext_expires_in", lifetime_.count()},
                {"access_token", sign(claims)}};
  return reply;
}

namespace {

/// OpenID Connect metadata as login.microsoftonline.com serves it for `tenant`.
nlohmann::json openid_configuration(const std::string& base, const std::string& tenant) {
  const std::string root = fmt::format("{}/{}", base, tenant);
  return {{"token_endpoint", root + "/oauth2/v2.0/token"},
          {"token_endpoint_auth_methods_supported",
           {"client_secret_post", "private_key_jwt", "client_secret_basic"}},
          {"jwks_uri", root + "/discovery/v2.0/keys"},
          {"response_modes_supported", {"query", "fragment", "form_post"}},
          {"subject_types_supported", {"pairwise"}},
          {"id_token_signing_alg_values_supported", {"RS256"}},
          {"response_types_supported", {"code", "id_token", "code id_token", "id_token token"}},
          {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
          {"issuer", fmt::format("{}/{}/v2.0", base, tenant)},
          {"request_uri_parameter_supported", false},
          {"userinfo_endpoint", base + "/oidc/userinfo"},
          {"authorization_endpoint", root + "/oauth2/v2.0/authorize"},
          {"device_authorization_endpoint", root + "/oauth2/v2.0/devicecode"},
          {"http_logout_supported", true},
          {"frontchannel_logout_supported", true},
          {"end_session_endpoint", root + "/oauth2/v2.0/logout"},
          {"claims_supported",
           {"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver", "oid", "appid", "roles"}},
          {"tenant_region_scope", "EU"},
          {"cloud_instance_name", "microsoftonline.com"}};
}

}  // namespace

void install_token_routes(httplib::Server& http, const TokenService& tokens,
                          std::function<std::string()> base_url) {
  http.Post(R"(/([^/]+)/oauth2/v2\.0/token)",
            [&tokens, base_url](const httplib::Request& req, httplib::Response& res) {
              const std::string tenant = req.matches[1];
              const TokenReply reply = tokens.handle_token_request(
                  tenant, req.body, fmt::format("{}/{}/oauth2/v2.0/token", base_url(), tenant));
              res.status = reply.status;
              res.set_content(reply.body.dump(), "application/json; charset=utf-8");
            });
  http.Get(R"(/([^/]+)/v2\.0/\.well-known/openid-configuration)",
           [base_url](const httplib::Request& req, httplib::Response& res) {
             res.set_content(openid_configuration(base_url(), req.matches[1]).dump(),
                             "application/json; charset=utf-8");
           });
  // Instance discovery: exsim is its own cloud; the host is its only alias.
  http.Get(R"(/([^/]+)/discovery/instance)",
           [base_url](const httplib::Request& req, httplib::Response& res) {
             const std::string base = base_url();
             const std::string host = base.substr(base.find("://") + 3);
             const std::string tenant = req.matches[1];
             nlohmann::json body = {
                 {"tenant_discovery_endpoint",
                  fmt::format("{}/{}/v2.0/.well-known/openid-configuration", base, tenant)},
                 {"api-version", "1.1"},
                 {"metadata",
                  {{{"preferred_network", host}, {"preferred_cache", host}, {"aliases", {host}}}}}};
             res.set_content(body.dump(), "application/json; charset=utf-8");
           });
}

}  // namespace exsim
