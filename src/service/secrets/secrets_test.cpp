// Secrets at rest (R9): AES-256-GCM sealing, key ids, rotation, tamper detection.
#include <gtest/gtest.h>

#include <cstdlib>

#include "service/secrets/cipher.h"
#include "service/secrets/key_ring.h"

namespace agendasync::service::secrets {
namespace {

const char* kKeyA = "a:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const char* kKeyB = "b:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

KeyRing ring(const std::string& text) {
  auto parsed = parse_key_ring(text);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message);
  return parsed.value_or(KeyRing{});
}

TEST(KeyRing, ParsesCurrentAndPreviousKeys) {
  auto keys = ring(std::string(kKeyB) + ",\n" + kKeyA);
  ASSERT_EQ(keys.keys().size(), 2u);
  EXPECT_EQ(keys.current().id, "b");
  EXPECT_NE(keys.find("a"), nullptr);
  EXPECT_EQ(keys.find("c"), nullptr);
}

TEST(KeyRing, RejectsShortKeysWithoutEchoingThem) {
  auto parsed = parse_key_ring("k1:abcd");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("64 hex digits"), std::string::npos);
  EXPECT_EQ(parsed.error().message.find("abcd"), std::string::npos);
}

TEST(KeyRing, RejectsRepeatedIdsAndMissingColon) {
  EXPECT_FALSE(parse_key_ring(std::string(kKeyA) + "," + kKeyA));
  EXPECT_FALSE(parse_key_ring("nocolon"));
}

TEST(KeyRing, GeneratedKeysParse) {
  auto text = generate_key_text("k7");
  ASSERT_TRUE(text);
  auto parsed = parse_key_ring(*text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->current().id, "k7");
}

TEST(KeyRing, LoadsFromEnvironment) {
  ::setenv(kSecretKeyEnv, kKeyA, 1);
  auto loaded = load_key_ring({});
  ::unsetenv(kSecretKeyEnv);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->current().id, "a");
  auto none = load_key_ring({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(Cipher, RoundTripsAndNamesTheKey) {
  auto keys = ring(kKeyA);
  auto sealed = seal(keys, "exchange_password", Secret("Winter2024!"));
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->find("Winter2024!"), std::string::npos);
  EXPECT_EQ(key_id_of(*sealed), "a");
  auto opened = open(keys, "exchange_password", *sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->reveal(), "Winter2024!");
}

TEST(Cipher, EveryValueGetsItsOwnNonce) {
  auto keys = ring(kKeyA);
  auto first = seal(keys, "n", Secret("same"));
  auto second = seal(keys, "n", Secret("same"));
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
}

TEST(Cipher, DetectsTamperingAndSwappedNames) {
  auto keys = ring(kKeyA);
  auto sealed = seal(keys, "graph_client_secret", Secret("s3cr3t-value"));
  ASSERT_TRUE(sealed);
  std::string tampered = *sealed;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(open(keys, "graph_client_secret", tampered).error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(open(keys, "exchange_password", *sealed).error().kind, ErrorKind::kInvalidData);
  EXPECT_EQ(open(keys, "x", "garbage").error().kind, ErrorKind::kInvalidData);
}

TEST(Cipher, RotationKeepsOldValuesReadable) {
  auto old_ring = ring(kKeyA);
  auto sealed = seal(old_ring, "p", Secret("pw"));
  ASSERT_TRUE(sealed);
  auto new_ring = ring(std::string(kKeyB) + "," + kKeyA);
  EXPECT_EQ(open(new_ring, "p", *sealed)->reveal(), "pw");
  auto resealed = seal(new_ring, "p", Secret("pw"));
  EXPECT_EQ(key_id_of(*resealed), "b");
  auto only_new = ring(kKeyB);
  auto missing = open(only_new, "p", *sealed);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kPermission);
  EXPECT_NE(missing.error().message.find("\"a\""), std::string::npos);
}

TEST(Cipher, EmptyRingRefusesToSealWithAHint) {
  auto sealed = seal(KeyRing{}, "p", Secret("pw"));
  ASSERT_FALSE(sealed);
  EXPECT_NE(sealed.error().message.find("AGENDASYNC_SECRET_KEY"), std::string::npos);
}

}  // namespace
}  // namespace agendasync::service::secrets
