#pragma once
/// The keys that encrypt secrets at rest (R9): one current key that seals new values and any
/// number of previous keys that can still open old ones, so keys rotate without downtime.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace agendasync::service::secrets {

/// One AES-256 key and the id stored next to every value it seals.
struct SecretKey {
  std::string id;
  std::array<std::uint8_t, 32> bytes{};
};

/// Current key first, then previous keys (oldest last).
class KeyRing {
 public:
  KeyRing() = default;
  explicit KeyRing(std::vector<SecretKey> keys) : keys_(std::move(keys)) {}

  bool empty() const { return keys_.empty(); }
  /// The key that seals new values. Precondition: !empty().
  const SecretKey& current() const { return keys_.front(); }
  /// The key with `id`, or nullptr when the ring does not hold it (a key was dropped too soon).
  const SecretKey* find(std::string_view id) const;
  const std::vector<SecretKey>& keys() const { return keys_; }

 private:
  std::vector<SecretKey> keys_;
};

/// The environment variable that may hold the key ring.
inline constexpr const char* kSecretKeyEnv = "AGENDASYNC_SECRET_KEY";

/// Parses "id:hex64[,id:hex64...]" (current key first; 64 hex digits = 32 bytes). Whitespace
/// and newlines between entries are ignored, so a key file may list one key per line.
/// kInvalidData names the entry (never the key material).
Result<KeyRing> parse_key_ring(std::string_view text);
/// The ring from `file` when given, else from $AGENDASYNC_SECRET_KEY; an empty ring when
/// neither is set (secrets then cannot be stored, and the API says how to fix that).
Result<KeyRing> load_key_ring(const std::filesystem::path& file);
/// A fresh random key in the text form parse_key_ring reads ("id:hex").
Result<std::string> generate_key_text(std::string_view id);

}  // namespace agendasync::service::secrets
