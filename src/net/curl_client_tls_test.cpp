// TLS against real servers on 127.0.0.1 with certificates made at test time (R6): the
// configured CA is trusted, unknown and self-signed certificates are refused with the way to
// add a CA, TLS older than 1.2 is refused, verification is off only when asked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <atomic>
#include <mutex>
#include <set>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/local_server.h"
#include "net/testing/test_pki.h"

namespace agendasync::net {
namespace {

using ::testing::HasSubstr;
using testing::KeyPair;
using testing::LocalServer;
using testing::TestPki;

Request get_url(std::string url) {
  Request request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

const TestPki& pki() {
  static const TestPki instance;
  return instance;
}

/// A TLS server with `pair`, offering protocol versions up to `max_version` (0 = newest).
std::unique_ptr<httplib::SSLServer> tls_server(const KeyPair& pair, int max_version = 0) {
  auto server = std::make_unique<httplib::SSLServer>([&pair, max_version](SSL_CTX& ctx) {
    if (SSL_CTX_use_certificate_chain_file(&ctx, pair.certificate.c_str()) != 1) return false;
    if (SSL_CTX_use_PrivateKey_file(&ctx, pair.key.c_str(), SSL_FILETYPE_PEM) != 1) return false;
    if (max_version != 0) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(&ctx, max_version);
      // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level, even as a server.
      SSL_CTX_set_cipher_list(&ctx, "DEFAULT:@SECLEVEL=0");
    }
    return true;
  });
  if (!server->is_valid()) throw std::runtime_error("test TLS server set-up failed");
  return server;
}

std::atomic<int>& hits() {
  static std::atomic<int> count{0};
  return count;
}

void add_routes(httplib::Server& server) {
  server.Get("/ews", [](const httplib::Request&, httplib::Response& res) {
    ++hits();
    res.set_content("secure", "text/plain");
  });
}

Request get(const LocalServer<httplib::SSLServer>& running) {
  Request request;
  request.method = "GET";
  request.url = running.url("/ews", "https");
  return request;
}

ClientOptions trusting_test_ca() {
  ClientOptions options;
  options.tls.ca_bundle_path = pki().ca_certificate();
  return options;
}

class CurlClientTlsTest : public testing::BothSends {};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientTlsTest);

TEST_P(CurlClientTlsTest, TheConfiguredCaIsTrusted) {
  auto server = tls_server(pki().server());
  add_routes(*server);
  LocalServer running(*server);
  auto client = make_client(trusting_test_ca());
  auto got = client->send(get(running), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "secure");
  EXPECT_EQ(got->tls_version, "TLSv1.3");
  EXPECT_EQ(got->remote_address, "127.0.0.1:" + std::to_string(running.port()));
}

TEST_P(CurlClientTlsTest, AnUnknownCaIsRefusedWithTheWayToAddOne) {
  auto server = tls_server(pki().server());
  add_routes(*server);
  LocalServer running(*server);
  const int before = hits();
  auto client = make_client({});  // system store only
  auto got = client->send(get(running), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kPermanent);
  EXPECT_THAT(got.error().message, HasSubstr("is not trusted"));
  EXPECT_THAT(got.error().message, HasSubstr("[tls] ca_bundle"));
  EXPECT_THAT(got.error().message, HasSubstr("unable to get local issuer certificate"));
  EXPECT_EQ(hits(), before);
  EXPECT_EQ(client->stats().attempts, 1u) << "certificate failures are not retried";
}

TEST_P(CurlClientTlsTest, ASelfSignedCertificateIsRefused) {
  auto server = tls_server(pki().self_signed());
  add_routes(*server);
  LocalServer running(*server);
  auto client = make_client(trusting_test_ca());
  auto got = client->send(get(running), {});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("self-signed certificate"));
  EXPECT_THAT(got.error().message, HasSubstr("[tls] ca_bundle"));
}

TEST_P(CurlClientTlsTest, VerificationIsOffOnlyWhenExplicitlyTurnedOff) {
  auto server = tls_server(pki().self_signed());
  add_routes(*server);
  LocalServer running(*server);
  ClientOptions defaults;
  EXPECT_TRUE(defaults.tls.verify);
  EXPECT_FALSE(make_client(defaults)->send(get(running), {}));
  ClientOptions insecure;
  insecure.tls.verify = false;
  auto got = make_client(insecure)->send(get(running), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "secure");
}

TEST_P(CurlClientTlsTest, ACertificateForAnotherNameIsRefused) {
  auto server = tls_server(pki().wrong_name());
  add_routes(*server);
  LocalServer running(*server);
  auto got = make_client(trusting_test_ca())->send(get(running), {});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("not issued for '127.0.0.1'"));
}

TEST_P(CurlClientTlsTest, AServerOfferingOnlyTls11IsRefusedWithTheTls12Message) {
  auto server = tls_server(pki().server(), TLS1_1_VERSION);
  add_routes(*server);
  LocalServer running(*server);
  const int before = hits();
  auto client = make_client(trusting_test_ca());
  auto got = client->send(get(running), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kPermanent);
  EXPECT_THAT(got.error().message,
              HasSubstr("the server offers only TLS older than 1.2; AgendaSync requires TLS 1.2 "
                        "or newer — upgrade the server's TLS configuration"));
  EXPECT_EQ(hits(), before);
  EXPECT_EQ(client->stats().attempts, 1u);
}

TEST_P(CurlClientTlsTest, ATls12ServerIsAccepted) {
  auto server = tls_server(pki().server(), TLS1_2_VERSION);
  add_routes(*server);
  LocalServer running(*server);
  auto got = make_client(trusting_test_ca())->send(get(running), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->tls_version, "TLSv1.2");
}

TEST_P(CurlClientTlsTest, Tls13CanBeCappedTo12) {
  auto server = tls_server(pki().server());
  add_routes(*server);
  LocalServer running(*server);
  auto options = trusting_test_ca();
  options.tls.allow_tls13 = false;
  auto got = make_client(options)->send(get(running), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->tls_version, "TLSv1.2");
}

TEST_P(CurlClientTlsTest, AnUnreadableCaBundleFailsEveryRequestNamingTheSetting) {
  ClientOptions options;
  options.tls.ca_bundle_path = (pki().directory() / "missing.pem").string();
  auto got = make_client(options)->send(get_url("https://127.0.0.1:1/"), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kPermanent);
  EXPECT_THAT(got.error().message, HasSubstr("[tls] ca_bundle"));
  EXPECT_THAT(got.error().message, HasSubstr("missing.pem"));

  options.tls.ca_bundle_path = pki().server().key;  // a PEM file, but no certificate in it
  got = make_client(options)->send(get_url("https://127.0.0.1:1/"), {});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("holds no PEM certificate"));
}

TEST_P(CurlClientTlsTest, PlainHttpOnTheTlsUrlIsExplained) {
  httplib::Server plain;
  add_routes(plain);
  LocalServer running(plain);
  auto got = make_client(trusting_test_ca())->send(get_url(running.url("/ews", "https")), {});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("did not answer with TLS"));
}

TEST_P(CurlClientTlsTest, ConnectionsAndSessionsAreReusedOverTls) {
  auto server = tls_server(pki().server());
  std::mutex mutex;
  std::set<int> ports;
  server->Get("/r", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    ports.insert(req.remote_port);
    res.set_content("ok", "text/plain");
  });
  LocalServer running(*server);
  auto client = make_client(trusting_test_ca());
  for (int i = 0; i < 20; ++i) {
    auto got = client->send(get_url(running.url("/r", "https")), {});
    ASSERT_TRUE(got) << got.error().message;
  }
  EXPECT_EQ(ports.size(), 1u);
}

}  // namespace
}  // namespace agendasync::net
