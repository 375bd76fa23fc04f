#include "service/secrets/cipher.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <vector>

#include "service/secrets/hex.h"

namespace agendasync::service::secrets {

namespace {

constexpr std::size_t kNonceSize = 12;  // 96 bits: GCM's native nonce size
constexpr std::size_t kTagSize = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() { return CipherContext(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

struct Parts {
  std::string key_id;
  std::vector<std::uint8_t> nonce;
  std::vector<std::uint8_t> sealed;  // ciphertext followed by the tag
};

std::optional<Parts> split(std::string_view text) {
  if (!text.starts_with("v1:")) return std::nullopt;
  text.remove_prefix(3);
  auto first = text.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  auto second = text.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto nonce = from_hex(text.substr(first + 1, second - first - 1));
  auto sealed = from_hex(text.substr(second + 1));
  if (!nonce || nonce->size() != kNonceSize || !sealed || sealed->size() < kTagSize) {
    return std::nullopt;
  }
  return Parts{std::string(text.substr(0, first)), std::move(*nonce), std::move(*sealed)};
}

}  // namespace

std::string key_id_of(std::string_view sealed) {
  auto parts = split(sealed);
  return parts ? parts->key_id : std::string();
}

Result<std::string> seal(const KeyRing& ring, std::string_view name, const Secret& plain) {
  if (ring.empty()) {
    return fail(ErrorKind::kPermission,
                "no secret key is configured, so secrets cannot be stored encrypted; set "
                "AGENDASYNC_SECRET_KEY or --secret-key-file (create a key with `agendasync "
                "secrets new-key`)");
  }
  const SecretKey& key = ring.current();
  std::array<std::uint8_t, kNonceSize> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return fail(ErrorKind::kPermanent, "the system random generator failed");
  }
  const std::string& text = plain.reveal();
  std::vector<std::uint8_t> out(text.size() + kTagSize);
  auto context = new_context();
  int length = 0, total = 0;
  bool ok =
      context &&
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
      EVP_EncryptInit_ex(context.get(), nullptr, nullptr, key.bytes.data(), nonce.data()) == 1 &&
      EVP_EncryptUpdate(context.get(), nullptr, &length,
                        reinterpret_cast<const unsigned char*>(name.data()),
                        static_cast<int>(name.size())) == 1 &&
      EVP_EncryptUpdate(context.get(), out.data(), &length,
                        reinterpret_cast<const unsigned char*>(text.data()),
                        static_cast<int>(text.size())) == 1;
  total = length;
  ok = ok && EVP_EncryptFinal_ex(context.get(), out.data() + total, &length) == 1;
  total += length;
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, out.data() + total) == 1;
  if (!ok) return fail(ErrorKind::kPermanent, "AES-256-GCM encryption failed (OpenSSL)");
  return "v1:" + key.id + ":" + to_hex(nonce.data(), nonce.size()) + ":" +
         to_hex(out.data(), static_cast<std::size_t>(total) + kTagSize);
}

Result<Secret> open(const KeyRing& ring, std::string_view name, std::string_view sealed) {
  auto parts = split(sealed);
  if (!parts) {
    return fail(ErrorKind::kInvalidData,
                "the stored secret " + std::string(name) + " is malformed; set it again");
  }
  const SecretKey* key = ring.find(parts->key_id);
  if (key == nullptr) {
    return fail(ErrorKind::kPermission,
                "the secret " + std::string(name) + " was sealed with key \"" + parts->key_id +
                    "\", which is not in the key ring; add that key back as a previous key "
                    "(after the current one) or set the secret again");
  }
  std::size_t cipher_size = parts->sealed.size() - kTagSize;
  std::vector<std::uint8_t> plain(cipher_size + 1);
  auto context = new_context();
  int length = 0, total = 0;
  bool ok = context &&
            EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
            EVP_DecryptInit_ex(context.get(), nullptr, nullptr, key->bytes.data(),
                               parts->nonce.data()) == 1 &&
            EVP_DecryptUpdate(context.get(), nullptr, &length,
                              reinterpret_cast<const unsigned char*>(name.data()),
                              static_cast<int>(name.size())) == 1 &&
            EVP_DecryptUpdate(context.get(), plain.data(), &length, parts->sealed.data(),
                              static_cast<int>(cipher_size)) == 1;
  total = length;
  ok = ok && EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                                 parts->sealed.data() + cipher_size) == 1;
  ok = ok && EVP_DecryptFinal_ex(context.get(), plain.data() + total, &length) == 1;
  if (!ok) {
    return fail(ErrorKind::kInvalidData, "the stored secret " + std::string(name) +
                                             " failed authentication (tampered or sealed for "
                                             "another name); set it again");
  }
  total += length;
  return Secret(
      std::string(reinterpret_cast<const char*>(plain.data()), static_cast<std::size_t>(total)));
}

}  // namespace agendasync::service::secrets
