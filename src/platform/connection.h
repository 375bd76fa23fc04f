#pragma once
/// An organisation's connection to Exchange (issue 16 §2): what a configuration file's
/// [exchange] and [graph] sections say for a single-organisation node, kept per organisation
/// in the platform database with its secrets sealed by the key ring (R9). Secrets are
/// write-only: the API and the CLI learn whether one is set, never its value.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/error.h"
#include "core/secret.h"

namespace agendasync::platform {

struct Connection {
  /// backend ews, graph or none; url or autodiscover, version, auth, NetBIOS domain, service
  /// account, access. `password.value` holds the unsealed password (daemon only).
  config::ExchangeConfig exchange;
  /// tenant_id always; client_id empty = the platform's app (the node file's [graph]),
  /// else the organisation's own app registration with its secret or certificate + key.
  config::GraphConfig graph;
  /// "database", or the configuration file the connection is read from (organisation
  /// `default` of a node whose file still has [exchange]: the file wins, the API refuses to
  /// edit it).
  std::string source = "database";
  bool operator==(const Connection&) const = default;
};

/// New values for the write-only secrets: nullopt leaves a secret as it is, an empty Secret
/// removes it.
struct SecretUpdates {
  std::optional<Secret> exchange_password;
  std::optional<Secret> graph_client_secret;
  std::optional<Secret> graph_private_key;
};

/// The non-secret fields as JSON (the API's and the platform table's form):
/// {"backend": "ews", "ews": {...}, "graph": {...}}. Secrets appear only as
/// "password_set"/"client_secret_set"/"private_key_set" booleans.
nlohmann::json connection_to_json(const Connection& connection);
/// Reads the form connection_to_json writes (unknown keys refused, each error naming the
/// key), over `base` (fields left out keep base's value). Secrets are not read here.
Result<Connection> connection_from_json(const nlohmann::json& document, Connection base);
/// What a connection needs before it can sync, as the configuration file's checks say it:
/// kInvalidData naming the field and what to set. `platform_app` is the node's [graph]
/// (the app an organisation without its own uses).
Result<void> check_connection(const Connection& connection,
                              const config::GraphConfig& platform_app);

/// The link a customer's Entra administrator opens to consent to the platform's app for their
/// tenant (Microsoft identity platform admin consent endpoint,
/// https://learn.microsoft.com/en-us/entra/identity-platform/v2-admin-consent). Empty when the
/// organisation has no tenant id or no platform app is configured.
std::string admin_consent_link(const Connection& connection,
                               const config::GraphConfig& platform_app,
                               const std::string& redirect_uri);

}  // namespace agendasync::platform
