#pragma once
/// AES-256-GCM sealing of one secret value (OpenSSL EVP). The sealed text carries the key id,
/// a random 96-bit nonce and the ciphertext with its 128-bit tag:
/// "v1:<key id>:<nonce hex>:<ciphertext+tag hex>". The value's name is bound as associated
/// data, so a sealed password cannot be swapped into the client-secret slot.
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/secret.h"
#include "service/secrets/key_ring.h"

namespace agendasync::service::secrets {

/// Seals `plain` under the ring's current key. kPermission when the ring is empty.
Result<std::string> seal(const KeyRing& ring, std::string_view name, const Secret& plain);
/// Opens a value sealed by seal(). kPermission when its key is not in the ring, kInvalidData
/// when the text is malformed or fails authentication (tampered, or sealed under another name).
Result<Secret> open(const KeyRing& ring, std::string_view name, std::string_view sealed);
/// The key id a sealed value names ("" when malformed).
std::string key_id_of(std::string_view sealed);

}  // namespace agendasync::service::secrets
