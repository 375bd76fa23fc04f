#include "app/pair_settings.h"

#include <fmt/format.h>

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
  if (config.exchange.backend != config::ExchangeBackend::kEws &&
      config.exchange.backend != config::ExchangeBackend::kHybrid) {
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
                                        config.exchange.access == config::EwsAccess::kDelegate
                                            ? ews::AccessMode::kDelegate
                                            : ews::AccessMode::kImpersonation,
                                        mailbox};
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
  if (config.exchange.backend != config::ExchangeBackend::kGraph &&
      config.exchange.backend != config::ExchangeBackend::kHybrid) {
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
  // The app with the mailbox is the budget Graph limits (net budget key, issue 16 §3).
  options.app_id = config.graph.client_id;
  return options;
}

SyncSettings effective_settings(const config::Config& config,
                                const store::OrganisationSettings& organisation, const User* user) {
  return layer_sync_settings(config.sync, organisation.sync,
                             user ? user->overrides : UserOverrides{});
}

sync::CircuitBreaker circuit_breaker(const SyncSettings& settings) {
  sync::CircuitBreaker breaker;
  breaker.max_share = settings.breaker_share_percent.value / 100.0;
  breaker.min_items = static_cast<std::size_t>(settings.breaker_min_items.value);
  return breaker;
}

Result<PairPolicy> pair_policy(const User& user, const config::Config& config,
                               const store::OrganisationSettings& organisation,
                               const std::vector<store::ActivityType>& types) {
  const SyncSettings settings = effective_settings(config, organisation, &user);
  if (settings.send_meeting_requests.value &&
      config.exchange.backend != config::ExchangeBackend::kGraph) {
    // The configuration file refuses this combination itself; an organisation setting can
    // still ask for it, and writing attendees without the mail would be a silent lie.
    return std::unexpected(Error::make(
        ErrorKind::kUnsupported,
        fmt::format("send_meeting_requests is on ({}) but backend \"{}\" writes attendees as "
                    "information only; real meeting requests need backend = \"graph\". Turn it "
                    "off with `agendasync settings set --send-meeting-requests default` (or "
                    "false)",
                    to_string(settings.send_meeting_requests.source),
                    config::to_string(config.exchange.backend))));
  }
  PairPolicy pair;
  pair.plan = plan_policy(user, settings, types);
  pair.breaker = circuit_breaker(settings);
  pair.first_sync_requires_approval = settings.first_sync_approval.value;
  return pair;
}

sync::PlanPolicy plan_policy(const User& user, const SyncSettings& settings,
                             const std::vector<store::ActivityType>& types) {
  sync::PlanPolicy policy;
  policy.pair_id = user.user_name;
  policy.host_user = user.user_name;
  policy.direction = settings.direction.value;
  policy.conflict_policy = settings.conflict_policy.value;
  policy.deleted_in_exchange = settings.deleted_in_exchange.value;
  policy.skip_ended_after = std::chrono::days{settings.first_sync_days.value};
  policy.send_invitations = settings.send_meeting_requests.value;  // R39: off by default
  // R41: every linked Exchange item carries the key, so a mailbox that moves between backends
  // is re-linked by it. Not under from-Exchange: the sync writes nothing to Exchange then.
  policy.stamp_keys = policy.direction != SyncDirection::kFromExchange;
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
