#include "exsim/store/ids.h"

#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace exsim {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_le(std::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  }
  return v;
}

constexpr std::string_view kItemMagic = "EXSI";
constexpr std::string_view kFolderMagic = "EXSF";
constexpr std::string_view kChangeMagic = "EXSC";
constexpr std::string_view kStateMagic = "EXSS";

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

std::string encode_item_id(const ItemKey& key) {
  std::string raw(kItemMagic);
  raw.push_back(key.occurrence ? 'O' : 'I');
  put_u32(raw, key.mailbox);
  put_u64(raw, key.item);
  if (key.occurrence)
    put_u64(raw, static_cast<uint64_t>(key.occurrence->time_since_epoch().count()));
  // Exchange ids are long; pad so clients that store ids see realistic lengths.
  raw.append(std::string(8, '\0'));
  return base64_encode(raw);
}

std::optional<ItemKey> decode_item_id(std::string_view id) {
  auto raw = base64_decode(id);
  if (!raw || raw->size() < 25 || std::string_view(*raw).substr(0, 4) != kItemMagic) {
    return std::nullopt;
  }
  ItemKey key;
  char kind = (*raw)[4];
  key.mailbox = static_cast<uint32_t>(get_le(*raw, 5, 4));
  key.item = get_le(*raw, 9, 8);
  if (kind == 'O') {
    if (raw->size() < 33) return std::nullopt;
    key.occurrence =
        std::chrono::sys_seconds{std::chrono::seconds{static_cast<int64_t>(get_le(*raw, 17, 8))}};
  } else if (kind != 'I') {
    return std::nullopt;
  }
  return key;
}

std::string encode_folder_id(uint32_t mailbox, FolderKind folder) {
  std::string raw(kFolderMagic);
  put_u32(raw, mailbox);
  raw.push_back(static_cast<char>(folder));
  raw.append(std::string(7, '\x01'));
  return base64_encode(raw);
}

std::optional<std::pair<uint32_t, FolderKind>> decode_folder_id(std::string_view id) {
  auto raw = base64_decode(id);
  if (!raw || raw->size() < 9 || std::string_view(*raw).substr(0, 4) != kFolderMagic) {
    return std::nullopt;
  }
  auto f = static_cast<uint8_t>((*raw)[8]);
  if (f < 1 || f > 4) return std::nullopt;
  return std::pair{static_cast<uint32_t>(get_le(*raw, 4, 4)), static_cast<FolderKind>(f)};
}

std::string encode_change_key(uint64_t item, uint64_t version) {
  std::string raw(kChangeMagic);
  put_u64(raw, item);
  put_u64(raw, version);
  return base64_encode(raw);
}

std::optional<uint64_t> decode_change_key(std::string_view key, uint64_t item) {
  auto raw = base64_decode(key);
  if (!raw || raw->size() != 20 || std::string_view(*raw).substr(0, 4) != kChangeMagic) {
    return std::nullopt;
  }
  if (get_le(*raw, 4, 8) != item) return std::nullopt;
  return get_le(*raw, 12, 8);
}

SyncStateCodec::SyncStateCodec(std::string secret) : secret_(std::move(secret)) {}

std::string SyncStateCodec::encode(uint32_t mailbox, FolderKind folder, uint64_t watermark) const {
  std::string raw(kStateMagic);
  put_u32(raw, mailbox);
  raw.push_back(static_cast<char>(folder));
  put_u64(raw, watermark);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), mac, &mac_len);
  raw.append(reinterpret_cast<const char*>(mac), 16);
  return base64_encode(raw);
}

std::optional<uint64_t> SyncStateCodec::decode(std::string_view state, uint32_t mailbox,
                                               FolderKind folder) const {
  auto raw = base64_decode(state);
  if (!raw || raw->size() != 17 + 16) return std::nullopt;
  std::string_view payload = std::string_view(*raw).substr(0, 17);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &mac_len);
  if (CRYPTO_memcmp(mac, raw->data() + 17, 16) != 0) return std::nullopt;
  if (payload.substr(0, 4) != kStateMagic) return std::nullopt;
  if (get_le(payload, 4, 4) != mailbox ||
      static_cast<uint8_t>(payload[8]) != static_cast<uint8_t>(folder)) {
    return std::nullopt;
  }
  return get_le(payload, 9, 8);
}

}  // namespace exsim
