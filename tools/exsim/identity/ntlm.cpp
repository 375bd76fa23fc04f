#include "exsim/identity/ntlm.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <ctime>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace exsim {
namespace {

constexpr std::string_view kSignature{"NTLMSSP\0", 8};

uint32_t le32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}
uint16_t le16(std::string_view s, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(s[at]) |
                               (static_cast<unsigned char>(s[at + 1]) << 8));
}
void put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string utf16le(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

std::string from_utf16le(std::string_view s) {
  std::string out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(s[i]);
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string hmac_md5(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// Returns the bytes a security buffer at `at` points to, or nullopt when out of range.
std::optional<std::string_view> buffer(std::string_view msg, size_t at) {
  if (msg.size() < at + 8) return std::nullopt;
  uint16_t len = le16(msg, at);
  uint32_t off = le32(msg, at + 4);
  if (static_cast<size_t>(off) + len > msg.size()) return std::nullopt;
  return msg.substr(off, len);
}

uint32_t rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

}  // namespace

std::string md4(std::string_view data) {
  std::string msg(data);
  uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back('\x80');
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 0; i < 8; ++i) msg.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  uint32_t a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  for (size_t chunk = 0; chunk < msg.size(); chunk += 64) {
    uint32_t x[16];
    for (int i = 0; i < 16; ++i) x[i] = le32(msg, chunk + 4 * static_cast<size_t>(i));
    uint32_t a = a0, b = b0, c = c0, d = d0;
    auto f = [](uint32_t x1, uint32_t y, uint32_t z) { return (x1 & y) | (~x1 & z); };
    auto g = [](uint32_t x1, uint32_t y, uint32_t z) { return (x1 & y) | (x1 & z) | (y & z); };
    auto h = [](uint32_t x1, uint32_t y, uint32_t z) { return x1 ^ y ^ z; };
    static constexpr int r1[4] = {3, 7, 11, 19};
    for (int i = 0; i < 16; ++i) {
      uint32_t t = rotl(a + f(b, c, d) + x[i], r1[i % 4]);
      a = d;
      d = c;
      c = b;
      b = t;
    }
    static constexpr int r2[4] = {3, 5, 9, 13};
    static constexpr int o2[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
    for (int i = 0; i < 16; ++i) {
      uint32_t t = rotl(a + g(b, c, d) + x[o2[i]] + 0x5a827999u, r2[i % 4]);
      a = d;
      d = c;
      c = b;
      b = t;
    }
    static constexpr int r3[4] = {3, 9, 11, 15};
    static constexpr int o3[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    for (int i = 0; i < 16; ++i) {
      uint32_t t = rotl(a + h(b, c, d) + x[o3[i]] + 0x6ed9eba1u, r3[i % 4]);
      a = d;
      d = c;
      c = b;
      b = t;
    }
    a0 += a;
    b0 += b;
    c0 += c;
    d0 += d;
  }
  std::string out;
  for (uint32_t v : {a0, b0, c0, d0}) put32(out, v);
  return out;
}

int ntlm_message_type(std::string_view raw) {
  if (raw.size() < 12 || raw.substr(0, 8) != kSignature) return 0;
  uint32_t t = le32(raw, 8);
  return (t >= 1 && t <= 3) ? static_cast<int>(t) : 0;
}

std::string ntlm_challenge_message(std::string_view challenge, std::string_view domain,
                                   std::string_view host) {
  std::string target = utf16le(domain);
  std::string info;
  auto av = [&](uint16_t id, std::string_view value) {
    put16(info, id);
    put16(info, static_cast<uint16_t>(value.size()));
    info.append(value);
  };
  av(2, utf16le(domain));
  av(1, utf16le(host));
  av(4, utf16le(domain));
  av(3, utf16le(host));
  // MsvAvTimestamp: FILETIME of now.
  std::string ts;
  uint64_t ft = static_cast<uint64_t>(std::time(nullptr)) * 10000000ULL + 116444736000000000ULL;
  for (int i = 0; i < 8; ++i) ts.push_back(static_cast<char>((ft >> (8 * i)) & 0xff));
  av(7, ts);
  av(0, "");
  constexpr uint32_t kFlags = 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00010000 |
                              0x00080000 | 0x00800000 | 0x02000000 | 0x20000000 | 0x80000000;
  std::string m(kSignature);
  put32(m, 2);
  uint32_t payload = 56;
  put16(m, static_cast<uint16_t>(target.size()));
  put16(m, static_cast<uint16_t>(target.size()));
  put32(m, payload);
  put32(m, kFlags);
  m.append(challenge);
  m.append(8, '\0');
  put16(m, static_cast<uint16_t>(info.size()));
  put16(m, static_cast<uint16_t>(info.size()));
  put32(m, payload + static_cast<uint32_t>(target.size()));
  m.append("\x0a\x00\x63\x45\x00\x00\x00\x0f", 8);  // version 10.0.17763, NTLM revision 15
  m.append(target);
  m.append(info);
  return m;
}

std::optional<NtlmAuthenticate> ntlm_parse_authenticate(std::string_view raw) {
  if (ntlm_message_type(raw) != 3 || raw.size() < 64) return std::nullopt;
  auto lm = buffer(raw, 12);
  auto nt = buffer(raw, 20);
  auto domain = buffer(raw, 28);
  auto user = buffer(raw, 36);
  if (!lm || !nt || !domain || !user) return std::nullopt;
  uint32_t flags = le32(raw, 60);
  bool unicode = flags & 0x1;
  NtlmAuthenticate out;
  out.user = unicode ? from_utf16le(*user) : std::string(*user);
  out.domain = unicode ? from_utf16le(*domain) : std::string(*domain);
  out.nt_response = std::string(*nt);
  out.lm_response = std::string(*lm);
  return out;
}

bool ntlm_v2_verify(const NtlmAuthenticate& msg, std::string_view password,
                    std::string_view server_challenge) {
  // NTLMv2 responses are NTProofStr (16 bytes) + a client blob; 24 bytes would be NTLMv1.
  if (msg.nt_response.size() <= 24) return false;
  std::string nt_hash = md4(utf16le(password));
  std::string key = hmac_md5(nt_hash, utf16le(upper(msg.user) + msg.domain));
  std::string_view blob = std::string_view(msg.nt_response).substr(16);
  std::string proof = hmac_md5(key, std::string(server_challenge) + std::string(blob));
  return CRYPTO_memcmp(proof.data(), msg.nt_response.data(), 16) == 0;
}

}  // namespace exsim
