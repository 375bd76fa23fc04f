#pragma once
/// How one user's pair is configured: the Exchange side's connection (EWS or Graph, from the
/// Config) and the engine's policy (from the organisation settings in the agenda, with the user's
/// overrides). Pure functions of their inputs, so the rules are testable without a server.
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/ews/ews_side.h"
#include "connectors/graph/graph_side.h"
#include "connectors/graph/token.h"
#include "core/secret.h"
#include "store/agenda_store.h"
#include "sync/plan.h"
#include "sync/policies.h"

namespace agendasync::app {

/// R1: the EWS schema family for the configured version (2019 speaks the 2016 schema).
ews::ServerVersion server_version(config::ExchangeVersion version);

/// R3, R4: the service account's credentials for the configured auth method. OAuth sends the
/// configured secret as the bearer token.
net::Credentials service_credentials(const config::ExchangeConfig& exchange,
                                     const Secret& password);

/// The EWS side of `mailbox`: endpoint, version, impersonation, credentials. Fails naming the
/// setting when no endpoint is configured or the backend is not EWS.
Result<ews::EwsSideOptions> ews_side_options(const config::Config& config, const Secret& password,
                                             const std::string& mailbox);

/// R5: the Entra ID app registration from [graph] with the credential already read: the
/// client secret, or the certificate (PEM text) and its private key.
graph::AppCredentials graph_app_credentials(const config::GraphConfig& graph, Secret client_secret,
                                            std::string certificate_pem, Secret private_key_pem);

/// The Graph side of `mailbox`: Graph's address from [graph] graph_url (invitations follow
/// each write's send_invitations: the send_meeting_requests setting, off by default, R39). Fails
/// naming the setting when the backend is not Graph.
Result<graph::GraphSideOptions> graph_side_options(const config::Config& config,
                                                   const std::string& mailbox);

/// R12: the sync settings in effect, each with the layer it came from: built-in default <
/// the configuration file's [sync] < the organisation settings in the agenda < `user`'s
/// overrides (none when `user` is null: the organisation's view).
SyncSettings effective_settings(const config::Config& config,
                                const store::OrganisationSettings& organisation,
                                const User* user = nullptr);

/// R16, R19, R21, R24, R25, R39: the engine's plan policy for `user` under `settings`, with
/// the activity types the admin chose.
sync::PlanPolicy plan_policy(const User& user, const SyncSettings& settings,
                             const std::vector<store::ActivityType>& types);

/// R38: the circuit breaker `settings` ask for.
sync::CircuitBreaker circuit_breaker(const SyncSettings& settings);

/// Everything a run of one user's pair takes from the settings. The CLI and the daemon get it
/// the same way: SyncApp reads the organisation settings for every run (so a change through
/// `agendasync settings set` or the REST API applies at the next run) and layers them over
/// AppOptions::config.
struct PairPolicy {
  sync::PlanPolicy plan;
  sync::CircuitBreaker breaker;
  bool first_sync_requires_approval = false;  ///< R38
};

/// The pair policy for `user`. Fails (kUnsupported, naming the setting and how to change it)
/// when the settings ask for meeting requests the configured backend cannot send (R39: the
/// EWS connector writes without meeting mail; only Graph sends invitations).
Result<PairPolicy> pair_policy(const User& user, const config::Config& config,
                               const store::OrganisationSettings& organisation,
                               const std::vector<store::ActivityType>& types);

}  // namespace agendasync::app
