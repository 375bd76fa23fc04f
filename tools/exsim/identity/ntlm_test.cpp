#include "exsim/identity/ntlm.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace exsim {
namespace {

std::string hex(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += fmt::format("{:02x}", c);
  return out;
}

TEST(Ntlm, Md4MatchesRfc1320Vectors) {
  EXPECT_EQ(hex(md4("")), "31d6cfe0d16ae931b73c59d7e0c089c0");
  EXPECT_EQ(hex(md4("abc")), "a448017aaf21d8525fc10ae87aa6729d");
  EXPECT_EQ(
      hex(md4("12345678901234567890123456789012345678901234567890123456789012345678901234567890")),
      "e33b4ddc9c38f2199c3e7b164fcc0536");
}

TEST(Ntlm, ChallengeMessageIsType2) {
  std::string m = ntlm_challenge_message("12345678", "EXSIM", "HOST");
  EXPECT_EQ(ntlm_message_type(m), 2);
  EXPECT_EQ(m.substr(24, 8), "12345678");
}

TEST(Ntlm, RejectsGarbage) {
  EXPECT_EQ(ntlm_message_type("hello world!"), 0);
  EXPECT_FALSE(ntlm_parse_authenticate(std::string("NTLMSSP\0\3\0\0\0", 12)));
}

}  // namespace
}  // namespace exsim
