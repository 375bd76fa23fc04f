#pragma once
/// Organisation secrets (R9: Exchange password, Graph client secret, private key) sealed with
/// AES-256-GCM in the service tables. Values go in and come out only as core::Secret; the
/// API can learn whether one is set, never its value.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "service/secrets/key_ring.h"
#include "service/service_db.h"

namespace agendasync::service {

/// The secret names the settings API accepts.
const std::vector<std::string>& known_secret_names();

class SecretStore {
 public:
  SecretStore(ServiceDb& db, secrets::KeyRing ring) : db_(db.sql()), ring_(std::move(ring)) {}

  /// Seals and stores `value` under `name`; an empty value removes the secret.
  Result<void> put(std::string_view name, const Secret& value);
  /// The plain value, nullopt when not set.
  Result<std::optional<Secret>> get(std::string_view name);
  /// Names of the secrets that are set.
  Result<std::vector<std::string>> names();
  /// Re-seals every value (secrets and webhook secrets) under the current key; returns how
  /// many were re-sealed. Fails, changing nothing, when a value's key is missing.
  Result<std::size_t> rotate();

  /// Seal/open for other service tables (webhook secrets, Graph client states).
  Result<std::string> seal(std::string_view name, const Secret& value) const;
  Result<Secret> open(std::string_view name, std::string_view sealed) const;

 private:
  store::sql::Database& db_;
  secrets::KeyRing ring_;
};

}  // namespace agendasync::service
