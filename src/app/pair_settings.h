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
/// each write's send_invitations, which plan_policy keeps off, R39). Fails naming the setting when
/// the backend is not Graph.
Result<graph::GraphSideOptions> graph_side_options(const config::Config& config,
                                                   const std::string& mailbox);

/// R12, R16, R19, R21, R24, R25: the engine's policy for `user`: organisation defaults with
/// the user's overrides, the activity types the admin chose.
sync::PlanPolicy plan_policy(const User& user, const store::OrganisationSettings& settings,
                             const std::vector<store::ActivityType>& types);

}  // namespace agendasync::app
