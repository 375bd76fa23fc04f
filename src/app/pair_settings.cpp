#include "app/pair_settings.h"

#include <fmt/format.h>

#include "sync/policies.h"

namespace agendasync::app {

ews::ServerVersion server_version(config::ExchangeVersion version) {
  switch (version) {
    case config::ExchangeVersion::k2013:
      return ews::ServerVersion::kExchange2013;
    case config::ExchangeVersion::k2013Sp1:
      return ews::ServerVersion::kExchange2013Sp1;
    case config::ExchangeVersion::k2016:
    case config::ExchangeVersion::k2019:
      return ews::ServerVersion::kExchange2016;
  }
  return ews::ServerVersion::kExchange2016;
}

net::Credentials service_credentials(const config::ExchangeConfig& exchange,
                                     const Secret& password) {
  net::Credentials credentials;
  credentials.user = exchange.user;
  switch (exchange.auth) {
    case config::EwsAuth::kNtlm:
      credentials.method = net::AuthMethod::kNtlm;
      credentials.domain = exchange.domain;
      credentials.password = password;
      break;
    case config::EwsAuth::kBasic:
      credentials.method = net::AuthMethod::kBasic;
      credentials.password = password;
      break;
    case config::EwsAuth::kOAuth:
      credentials.method = net::AuthMethod::kBearer;
      credentials.bearer_token = [password]() -> Result<Secret> { return password; };
      break;
  }
  return credentials;
}

Result<ews::EwsSideOptions> ews_side_options(const config::Config& config, const Secret& password,
                                             const std::string& mailbox) {
  if (config.exchange.backend != config::ExchangeBackend::kEws) {
    return std::unexpected(Error::make(
        ErrorKind::kUnsupported,
        fmt::format("{}: exchange.backend is \"{}\": set backend = \"ews\" (Exchange Server) or "
                    "\"graph\" (Exchange Online) in [exchange]",
                    config.source.string(), config::to_string(config.exchange.backend))));
  }
  if (config.exchange.url.empty()) {
    return std::unexpected(
        Error::make(ErrorKind::kInvalidData,
                    fmt::format("{}: exchange.url is empty; set it to the EWS endpoint, e.g. "
                                "https://mail.example.com/EWS/Exchange.asmx",
                                config.source.string())));
  }
  ews::EwsSideOptions options;
  options.endpoint = config.exchange.url;
  options.context = ews::RequestContext{server_version(config.exchange.version),
                                        ews::AccessMode::kImpersonation, mailbox};
  options.credentials = service_credentials(config.exchange, password);
  return options;
}

graph::AppCredentials graph_app_credentials(const config::GraphConfig& graph, Secret client_secret,
                                            std::string certificate_pem, Secret private_key_pem) {
  graph::AppCredentials app;
  app.authority = graph.authority_url;
  app.tenant = graph.tenant_id;
  app.client_id = graph.client_id;
  app.client_secret = std::move(client_secret);
  app.certificate_pem = std::move(certificate_pem);
  app.private_key_pem = std::move(private_key_pem);
  return app;
}

Result<graph::GraphSideOptions> graph_side_options(const config::Config& config,
                                                   const std::string& mailbox) {
  if (config.exchange.backend != config::ExchangeBackend::kGraph) {
    return std::unexpected(Error::make(
        ErrorKind::kUnsupported,
        fmt::format("{}: exchange.backend is \"{}\", not \"graph\"; set backend = \"graph\" "
                    "in [exchange] to sync Exchange Online through Microsoft Graph",
                    config.source.string(), config::to_string(config.exchange.backend))));
  }
  graph::GraphSideOptions options;
  options.base_url = config.graph.graph_url;
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  options.mailbox = mailbox;
  return options;
}

sync::PlanPolicy plan_policy(const User& user, const store::OrganisationSettings& settings,
                             const std::vector<store::ActivityType>& types) {
  sync::PlanPolicy policy;
  policy.pair_id = user.user_name;
  policy.host_user = user.user_name;
  policy.direction = sync::effective_direction(settings.default_direction, user);
  policy.conflict_policy = sync::effective_conflict_policy(settings.conflict_policy, user);
  policy.deleted_in_exchange = settings.deleted_in_exchange;
  policy.skip_ended_after = std::chrono::days{settings.first_sync_days};
  policy.send_invitations = false;  // R39: never, until a setting for real meetings exists
  // Items from Exchange get the default type (R16); the host refuses unknown types, so with
  // no default type defined they come in untyped rather than as a type that does not exist.
  policy.activity_types.default_type.clear();
  bool any_unsynced = false;
  for (const auto& type : types) {
    policy.activity_types.existing_types.insert(type.name);
    if (type.synced)
      policy.activity_types.synced_types.insert(type.name);
    else
      any_unsynced = true;
    if (type.is_default) policy.activity_types.default_type = type.name;
    if (type.is_personal) policy.activity_types.personal_type = type.name;
  }
  // An empty set means "every type" to the policy; when the admin unchecked every type,
  // nothing may sync, so name a type no appointment can carry.
  if (any_unsynced && policy.activity_types.synced_types.empty()) {
    policy.activity_types.synced_types.insert("\x1f(none)");
  } else if (!policy.activity_types.synced_types.empty()) {
    // An appointment without an activity type is a plain appointment: it syncs.
    policy.activity_types.synced_types.insert("");
  }
  return policy;
}

}  // namespace agendasync::app
