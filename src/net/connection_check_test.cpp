// doctor's transport checks against servers on 127.0.0.1: every step passes against a good
// TLS server, and each failure lands on the right line with the right remedy.
#include "net/connection_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include "net/testing/local_server.h"
#include "net/testing/raw_server.h"
#include "net/testing/test_pki.h"

namespace agendasync::net {
namespace {

using ::testing::HasSubstr;
using testing::LocalServer;
using testing::TestPki;

const TestPki& pki() {
  static const TestPki instance;
  return instance;
}

std::vector<std::string> names(const std::vector<CheckResult>& results) {
  std::vector<std::string> out;
  for (const auto& result : results) out.push_back(result.name);
  return out;
}

const std::vector<std::string> kAllSteps = {"DNS", "TCP", "TLS version", "TLS certificate"};

TEST(ConnectionCheckTest, AGoodTlsServerPassesEveryStep) {
  httplib::SSLServer server(pki().server().certificate.c_str(), pki().server().key.c_str());
  LocalServer running(server);
  ClientOptions options;
  options.tls.ca_bundle_path = pki().ca_certificate();
  const auto results = check_connection(running.url("/EWS/Exchange.asmx", "https"), options);
  ASSERT_EQ(names(results), kAllSteps);
  for (const auto& result : results)
    EXPECT_TRUE(result.passed) << result.name << ": " << result.remedy;
  EXPECT_EQ(results[0].detail, "127.0.0.1 -> 127.0.0.1");
  EXPECT_EQ(results[1].detail, "connected to 127.0.0.1:" + std::to_string(running.port()));
  EXPECT_EQ(results[2].detail, "TLSv1.3");
  EXPECT_THAT(results[3].detail, HasSubstr("CN = 127.0.0.1"));
  EXPECT_THAT(results[3].detail,
              HasSubstr("issued by O = AgendaSync tests, CN = AgendaSync Test CA"));
  EXPECT_THAT(results[3].detail, HasSubstr("valid until"));
  EXPECT_THAT(results[3].detail, ::testing::Not(HasSubstr("renew")));
}

TEST(ConnectionCheckTest, AnUntrustedCertificateFailsOnlyTheCertificateLine) {
  httplib::SSLServer server(pki().self_signed().certificate.c_str(),
                            pki().self_signed().key.c_str());
  LocalServer running(server);
  const auto results = check_connection(running.url("/", "https"), ClientOptions{});
  ASSERT_EQ(names(results), kAllSteps);
  EXPECT_TRUE(results[2].passed);
  EXPECT_EQ(results[2].detail, "TLSv1.3");
  EXPECT_FALSE(results[3].passed);
  EXPECT_THAT(results[3].detail, HasSubstr("the server presents"));
  EXPECT_THAT(results[3].remedy, HasSubstr("[tls] ca_bundle"));
  EXPECT_THAT(results[3].remedy, HasSubstr("self-signed certificate"));
}

TEST(ConnectionCheckTest, VerificationTurnedOffIsShown) {
  httplib::SSLServer server(pki().self_signed().certificate.c_str(),
                            pki().self_signed().key.c_str());
  LocalServer running(server);
  ClientOptions options;
  options.tls.verify = false;
  const auto results = check_connection(running.url("/", "https"), options);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_THAT(results[3].detail, HasSubstr("NOT verified"));
}

TEST(ConnectionCheckTest, ATls11ServerFailsTheVersionLine) {
  const auto& pair = pki().server();
  httplib::SSLServer server([&pair](SSL_CTX& ctx) {
    SSL_CTX_use_certificate_chain_file(&ctx, pair.certificate.c_str());
    SSL_CTX_use_PrivateKey_file(&ctx, pair.key.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_min_proto_version(&ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(&ctx, TLS1_1_VERSION);
    SSL_CTX_set_cipher_list(&ctx, "DEFAULT:@SECLEVEL=0");
    return true;
  });
  LocalServer running(server);
  ClientOptions options;
  options.tls.ca_bundle_path = pki().ca_certificate();
  const auto results = check_connection(running.url("/", "https"), options);
  ASSERT_EQ(names(results), kAllSteps);
  EXPECT_TRUE(results[1].passed);
  EXPECT_FALSE(results[2].passed);
  EXPECT_THAT(results[2].remedy, HasSubstr("requires TLS 1.2 or newer"));
  EXPECT_FALSE(results[3].passed);
  EXPECT_EQ(results[3].detail, "not run");
}

TEST(ConnectionCheckTest, NothingListeningFailsTheTcpLineNamingHostAndPort) {
  const int port = testing::unused_port();
  const auto results =
      check_connection("https://127.0.0.1:" + std::to_string(port) + "/", ClientOptions{});
  ASSERT_EQ(names(results), kAllSteps);
  EXPECT_TRUE(results[0].passed);
  EXPECT_FALSE(results[1].passed);
  EXPECT_THAT(results[1].remedy, HasSubstr("cannot connect to 127.0.0.1:" + std::to_string(port)));
  EXPECT_EQ(results[2].detail, "not run");
}

TEST(ConnectionCheckTest, PlainHttpHasNoTlsLines) {
  httplib::Server server;
  LocalServer running(server);
  const auto results = check_connection(running.url("/"), ClientOptions{});
  EXPECT_EQ(names(results), (std::vector<std::string>{"DNS", "TCP"}));
  EXPECT_TRUE(results[1].passed);
}

TEST(ConnectionCheckTest, ABadUrlIsOneFailedLine) {
  const auto results = check_connection("exchange.contoso.com", ClientOptions{});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].name, "URL");
  EXPECT_FALSE(results[0].passed);
}

}  // namespace
}  // namespace agendasync::net
