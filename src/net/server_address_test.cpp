#include "net/server_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "net/http.h"

namespace agendasync::net {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ServerAddressTest, DefaultPortsComeFromTheScheme) {
  auto https = parse_server_address("https://Mail.Contoso.com/EWS/Exchange.asmx");
  ASSERT_TRUE(https) << https.error().message;
  EXPECT_EQ(https->key(), "https://mail.contoso.com:443");
  EXPECT_EQ(https->host_port(), "mail.contoso.com:443");
  auto http = parse_server_address("http://127.0.0.1:8080/x?y=1");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->key(), "http://127.0.0.1:8080");
}

TEST(ServerAddressTest, PathsOfOneServerShareAKey) {
  EXPECT_EQ(parse_server_address("https://h/EWS/Exchange.asmx")->key(),
            parse_server_address("https://h:443/autodiscover/autodiscover.xml")->key());
}

TEST(ServerAddressTest, NonHttpOrBrokenUrlsAreRejectedWithoutCredentials) {
  auto ftp = parse_server_address("ftp://user:hunter2@h/x");
  ASSERT_FALSE(ftp);
  EXPECT_EQ(ftp.error().kind, ErrorKind::kInvalidData);
  EXPECT_THAT(ftp.error().message, Not(HasSubstr("hunter2")));
  EXPECT_FALSE(parse_server_address("not a url"));
  EXPECT_FALSE(parse_server_address(""));
}

TEST(ServerAddressTest, TheSameUrlAgainGivesTheSameAnswerAndOthersTheirOwn) {
  // Each thread keeps its last answer: asking in turns must not mix them up.
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(parse_server_address("https://a.example/EWS")->key(), "https://a.example:443");
    EXPECT_EQ(parse_server_address("https://a.example/EWS")->host_port(), "a.example:443");
    EXPECT_FALSE(parse_server_address("ftp://a.example/EWS"));
    EXPECT_EQ(parse_server_address("http://B.example:81/")->key(), "http://b.example:81");
    EXPECT_FALSE(parse_server_address("not a url"));
    EXPECT_FALSE(parse_server_address("not a url"));
  }
}

TEST(RedactUrlTest, DropsUserInfoAndQuery) {
  EXPECT_EQ(redact_url("http://u:p@proxy:3128"), "http://proxy:3128");
  EXPECT_EQ(redact_url("https://h/path?token=abc"), "https://h/path");
  EXPECT_EQ(redact_url("https://h/a@b"), "https://h/a@b");
}

TEST(AccountNameTest, NtlmJoinsDomainAndUser) {
  Credentials ntlm{AuthMethod::kNtlm, "svc", "CONTOSO", Secret("x"), {}, {}};
  EXPECT_EQ(account_name(ntlm), "CONTOSO\\svc");
  ntlm.user = "OTHER\\svc";
  EXPECT_EQ(account_name(ntlm), "OTHER\\svc");
  Credentials basic{AuthMethod::kBasic, "alice", "CONTOSO", Secret("x"), {}, {}};
  EXPECT_EQ(account_name(basic), "alice");
}

TEST(ResponseTest, HeaderLookupIgnoresCase) {
  Response response;
  response.headers.emplace_back("content-type", "text/xml");
  EXPECT_EQ(response.header("Content-Type"), "text/xml");
  EXPECT_FALSE(response.header("x-missing"));
}

}  // namespace
}  // namespace agendasync::net
