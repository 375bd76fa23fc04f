#include "service/secrets/key_ring.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "service/secrets/hex.h"

namespace agendasync::service::secrets {

const SecretKey* KeyRing::find(std::string_view id) const {
  for (const auto& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

Result<KeyRing> parse_key_ring(std::string_view text) {
  std::vector<SecretKey> keys;
  std::size_t position = 0;
  int entry = 0;
  while (position <= text.size()) {
    std::size_t end = text.find_first_of(",\n", position);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = trim(text.substr(position, end - position));
    position = end + 1;
    if (item.empty()) continue;
    ++entry;
    auto colon = item.find(':');
    const std::string where = "secret key entry " + std::to_string(entry);
    if (colon == std::string_view::npos) {
      return fail(ErrorKind::kInvalidData,
                  where + " is not \"id:hex\"; generate one with `agendasync secrets new-key`");
    }
    std::string_view id = item.substr(0, colon);
    if (!valid_id(id)) {
      return fail(ErrorKind::kInvalidData,
                  where + ": the key id must be 1-32 letters, digits, '-' or '_'");
    }
    auto bytes = from_hex(item.substr(colon + 1));
    if (!bytes || bytes->size() != 32) {
      return fail(ErrorKind::kInvalidData, where + " (id " + std::string(id) +
                                               "): the key must be 64 hex digits (32 bytes)");
    }
    if (std::any_of(keys.begin(), keys.end(), [&](const SecretKey& k) { return k.id == id; })) {
      return fail(ErrorKind::kInvalidData, where + ": key id " + std::string(id) + " repeats");
    }
    SecretKey key;
    key.id = std::string(id);
    std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
    keys.push_back(std::move(key));
  }
  return KeyRing(std::move(keys));
}

Result<KeyRing> load_key_ring(const std::filesystem::path& file) {
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      return fail(ErrorKind::kNotFound,
                  "cannot read the secret key file " + file.string() +
                      "; check the path and that the agendasync user may read it");
    }
    std::stringstream text;
    text << in.rdbuf();
    auto ring = parse_key_ring(text.str());
    if (!ring) {
      return fail(ErrorKind::kInvalidData, file.string() + ": " + ring.error().message);
    }
    return ring;
  }
  if (const char* env = std::getenv(kSecretKeyEnv); env != nullptr && *env != '\0') {
    auto ring = parse_key_ring(env);
    if (!ring) {
      return fail(ErrorKind::kInvalidData,
                  std::string(kSecretKeyEnv) + ": " + ring.error().message);
    }
    return ring;
  }
  return KeyRing{};
}

Result<std::string> generate_key_text(std::string_view id) {
  if (!valid_id(id)) {
    return fail(ErrorKind::kInvalidData, "the key id must be 1-32 letters, digits, '-' or '_'");
  }
  std::array<std::uint8_t, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return fail(ErrorKind::kPermanent, "the system random generator failed");
  }
  return std::string(id) + ":" + to_hex(bytes.data(), bytes.size());
}

}  // namespace agendasync::service::secrets
