#include "platform/connection.h"

#include <fmt/format.h>

#include <initializer_list>

#include "config/config_names.h"

namespace agendasync::platform {

namespace {

using config::EwsAccess;
using config::EwsAuth;
using config::ExchangeBackend;
using config::ExchangeVersion;
using nlohmann::json;

constexpr std::initializer_list<ExchangeBackend> kBackends = {
    ExchangeBackend::kNone, ExchangeBackend::kEws, ExchangeBackend::kGraph,
    ExchangeBackend::kHybrid};
constexpr std::initializer_list<ExchangeVersion> kVersions = {
    ExchangeVersion::k2013, ExchangeVersion::k2013Sp1, ExchangeVersion::k2016,
    ExchangeVersion::k2019};
constexpr std::initializer_list<EwsAuth> kAuths = {EwsAuth::kNtlm, EwsAuth::kBasic,
                                                   EwsAuth::kOAuth};
constexpr std::initializer_list<EwsAccess> kAccesses = {EwsAccess::kImpersonation,
                                                        EwsAccess::kDelegate};

Error invalid(std::string_view key, std::string_view what) {
  return Error::make(ErrorKind::kInvalidData, fmt::format("{}: {}", key, what));
}

/// Reads one JSON object's keys through `fields`; any other key is an error naming it.
template <class Fields>
Result<void> read_object(const json& object, std::string_view where, const Fields& fields) {
  if (!object.is_object()) return std::unexpected(invalid(where, "expected an object"));
  for (const auto& [key, value] : object.items()) {
    auto field = fields.find(key);
    if (field == fields.end()) {
      std::string known;
      for (const auto& [name, reader] : fields) known += (known.empty() ? "" : ", ") + name;
      return std::unexpected(
          invalid(fmt::format("{}.{}", where, key), "unknown field (known: " + known + ")"));
    }
    if (auto read = field->second(value, fmt::format("{}.{}", where, key)); !read) {
      return read;
    }
  }
  return {};
}

using Reader = std::function<Result<void>(const json&, const std::string&)>;

Reader text(std::string& target) {
  return [&target](const json& value, const std::string& key) -> Result<void> {
    if (!value.is_string()) return std::unexpected(invalid(key, "expected a string"));
    target = value.get<std::string>();
    return {};
  };
}

Reader flag(bool& target) {
  return [&target](const json& value, const std::string& key) -> Result<void> {
    if (!value.is_boolean()) return std::unexpected(invalid(key, "expected true or false"));
    target = value.get<bool>();
    return {};
  };
}

template <class Enum>
Reader name(Enum& target, std::initializer_list<Enum> values) {
  return [&target, values](const json& value, const std::string& key) -> Result<void> {
    auto parsed =
        value.is_string() ? config::parse_name(value.get<std::string>(), values) : std::nullopt;
    if (!parsed) return std::unexpected(invalid(key, "expected " + config::list_names(values)));
    target = *parsed;
    return {};
  };
}

bool is_https_or_loopback(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("http://127.0.0.1") ||
         url.starts_with("http://localhost") || url.starts_with("http://[::1]");
}

}  // namespace

json connection_to_json(const Connection& connection) {
  const auto& ex = connection.exchange;
  const auto& graph = connection.graph;
  return {{"backend", config::to_string(ex.backend)},
          {"source", connection.source},
          {"ews",
           {{"url", ex.url},
            {"autodiscover", ex.autodiscover},
            {"version", config::to_string(ex.version)},
            {"auth", config::to_string(ex.auth)},
            {"domain", ex.domain},
            {"user", ex.user},
            {"access", config::to_string(ex.access)},
            {"streaming_connections", ex.streaming_connections},
            {"password_set", !ex.password.empty()}}},
          {"graph",
           {{"tenant_id", graph.tenant_id},
            {"client_id", graph.client_id},
            {"certificate_pem", graph.certificate_pem},
            {"graph_url", graph.graph_url},
            {"authority_url", graph.authority_url},
            {"client_secret_set", !graph.client_secret.empty()},
            {"private_key_set", !graph.private_key.empty()}}}};
}

Result<Connection> connection_from_json(const json& document, Connection base) {
  auto& ex = base.exchange;
  auto& graph = base.graph;
  int streaming = ex.streaming_connections;
  // The *_set flags and the source are what connection_to_json reports; a client that sends
  // the document back unchanged is not refused for them.
  bool ignored = false;
  std::string ignored_text;
  std::map<std::string, Reader> ews_fields = {
      {"url", text(ex.url)},
      {"autodiscover", flag(ex.autodiscover)},
      {"version", name(ex.version, kVersions)},
      {"auth", name(ex.auth, kAuths)},
      {"domain", text(ex.domain)},
      {"user", text(ex.user)},
      {"access", name(ex.access, kAccesses)},
      {"streaming_connections",
       [&streaming](const json& value, const std::string& key) -> Result<void> {
         if (!value.is_number_integer() || value.get<int>() < 1 || value.get<int>() > 100) {
           return std::unexpected(invalid(key, "expected a whole number from 1 to 100"));
         }
         streaming = value.get<int>();
         return {};
       }},
      {"password_set", flag(ignored)}};
  std::map<std::string, Reader> graph_fields = {{"tenant_id", text(graph.tenant_id)},
                                                {"client_id", text(graph.client_id)},
                                                {"certificate_pem", text(graph.certificate_pem)},
                                                {"graph_url", text(graph.graph_url)},
                                                {"authority_url", text(graph.authority_url)},
                                                {"client_secret_set", flag(ignored)},
                                                {"private_key_set", flag(ignored)}};
  std::map<std::string, Reader> fields = {
      {"backend", name(ex.backend, kBackends)},
      {"source", text(ignored_text)},
      {"ews",
       [&ews_fields](const json& value, const std::string& key) {
         return read_object(value, key, ews_fields);
       }},
      {"graph", [&graph_fields](const json& value, const std::string& key) {
         return read_object(value, key, graph_fields);
       }}};
  if (auto read = read_object(document, "connection", fields); !read) {
    return std::unexpected(read.error());
  }
  ex.streaming_connections = streaming;
  base.source = "database";
  return base;
}

Result<void> check_connection(const Connection& connection,
                              const config::GraphConfig& platform_app) {
  const auto& ex = connection.exchange;
  const auto& graph = connection.graph;
  auto refuse = [](std::string_view key, std::string_view what) -> Result<void> {
    return std::unexpected(invalid(key, what));
  };
  if (!ex.url.empty() && !is_https_or_loopback(ex.url)) {
    return refuse("ews.url", "\"" + ex.url + "\" must start with https:// (TLS 1.2 or newer, R6)");
  }
  for (const auto* url : {&graph.graph_url, &graph.authority_url}) {
    if (!url->empty() && !is_https_or_loopback(*url)) {
      return refuse(url == &graph.graph_url ? "graph.graph_url" : "graph.authority_url",
                    "\"" + *url + "\" must start with https://");
    }
  }
  const bool hybrid = ex.backend == ExchangeBackend::kHybrid;
  if (ex.backend == ExchangeBackend::kEws || hybrid) {
    // Hybrid (R41), as the configuration file says it: the on-premises EWS address is also
    // where Autodiscover tells a mailbox that moved to Exchange Online.
    if (hybrid && ex.url.empty()) {
      return refuse("ews.url",
                    "backend \"hybrid\" needs the on-premises EWS address (e.g. "
                    "https://mail.example.com/EWS/Exchange.asmx) beside graph");
    }
    if (ex.url.empty() && !ex.autodiscover) {
      return refuse("ews.url",
                    "backend \"ews\" needs the EWS address (e.g. "
                    "https://mail.example.com/EWS/Exchange.asmx) or autodiscover = true");
    }
    if (ex.auth != EwsAuth::kOAuth && (ex.user.empty() || ex.password.empty())) {
      return refuse("ews.user", "backend \"" + std::string(config::to_string(ex.backend)) +
                                    "\" with " + std::string(config::to_string(ex.auth)) +
                                    " authentication needs the service account: set ews.user "
                                    "and the secret exchange_password");
    }
  }
  if (ex.backend == ExchangeBackend::kGraph || hybrid ||
      (ex.backend == ExchangeBackend::kEws && ex.auth == EwsAuth::kOAuth)) {
    if (graph.tenant_id.empty()) {
      return refuse("graph.tenant_id",
                    "Exchange Online needs the customer's directory (tenant) id");
    }
    if (graph.client_id.empty()) {
      if (platform_app.client_id.empty()) {
        return refuse("graph.client_id",
                      "no app registration: set the organisation's own client_id (with its "
                      "secret or certificate), or configure the platform's app in the node's "
                      "[graph] section");
      }
    } else {
      if (graph.client_secret.empty() && graph.certificate_pem.empty()) {
        return refuse("graph.client_secret",
                      "the organisation's own app needs its credential: set the secret "
                      "graph_client_secret, or certificate_pem with the secret "
                      "graph_private_key");
      }
      if (!graph.certificate_pem.empty() && graph.private_key.empty()) {
        return refuse("graph.private_key", "certificate_pem needs the secret graph_private_key");
      }
      if (!graph.certificate_pem.empty() &&
          graph.certificate_pem.find("-----BEGIN CERTIFICATE") == std::string::npos) {
        return refuse("graph.certificate_pem",
                      "expected a PEM certificate (-----BEGIN CERTIFICATE-----)");
      }
    }
  }
  return {};
}

std::string admin_consent_link(const Connection& connection,
                               const config::GraphConfig& platform_app,
                               const std::string& redirect_uri) {
  const auto& graph = connection.graph;
  const std::string& client = graph.client_id.empty() ? platform_app.client_id : graph.client_id;
  if (graph.tenant_id.empty() || client.empty()) return {};
  const std::string& authority =
      platform_app.authority_url.empty() ? graph.authority_url : platform_app.authority_url;
  std::string link = fmt::format(
      "{}/{}/v2.0/adminconsent?client_id={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
      authority, graph.tenant_id, client);
  if (!redirect_uri.empty()) {
    std::string encoded;
    for (unsigned char c : redirect_uri) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        encoded += static_cast<char>(c);
      } else {
        encoded += fmt::format("%{:02X}", c);
      }
    }
    link += "&redirect_uri=" + encoded;
  }
  return link;
}

}  // namespace agendasync::platform
