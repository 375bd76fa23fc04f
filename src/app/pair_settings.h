#pragma once
/// How one user's pair is configured: the EWS side's connection (from the Config) and the
/// engine's policy (from the organisation settings in the agenda, with the user's
/// overrides). Pure functions of their inputs, so the rules are testable without a server.
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/ews/ews_side.h"
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

/// R12, R16, R19, R21, R24, R25: the engine's policy for `user`: organisation defaults with
/// the user's overrides, the activity types the admin chose.
sync::PlanPolicy plan_policy(const User& user, const store::OrganisationSettings& settings,
                             const std::vector<store::ActivityType>& types);

}  // namespace agendasync::app
