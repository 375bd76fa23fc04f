#include "connectors/graph/token.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "connectors/graph/base64url.h"
#include "connectors/graph/testing/test_cert.h"
#include "net/testing/fake_http.h"

namespace agendasync::graph {
namespace {

using net::testing::FakeHttp;
using nlohmann::json;

/// An unsigned JWT whose payload carries `roles` (the connector only reads it).
std::string jwt_with_roles(const std::vector<std::string>& roles) {
  return base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." +
         base64url_encode(json{{"aud", "https://graph.microsoft.com"}, {"roles", roles}}.dump()) +
         ".c2ln";
}

std::string token_body(const std::string& token, int expires_in = 3599) {
  return json{{"token_type", "Bearer"}, {"expires_in", expires_in}, {"access_token", token}}.dump();
}

AppCredentials secret_app() {
  AppCredentials app;
  app.authority = "https://login.example.test/";
  app.tenant = "contoso.onmicrosoft.com";
  app.client_id = "11111111-2222-3333-4444-555555555555";
  app.client_secret = Secret("s3cr3t~value+/=");
  return app;
}

TEST(GraphToken, EndpointAndAdminConsentUrl) {
  const auto app = secret_app();
  EXPECT_EQ(token_endpoint(app),
            "https://login.example.test/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(admin_consent_url(app),
            "https://login.example.test/contoso.onmicrosoft.com/adminconsent?client_id="
            "11111111-2222-3333-4444-555555555555");
}

TEST(GraphToken, SecretGrantIsFormEncodedAndCachedUntilShortlyBeforeExpiry) {
  FakeHttp http;
  auto now = std::chrono::system_clock::now();
  http.handler = [&](const net::Request&) -> Result<net::Response> {
    net::Response response;
    response.status = 200;
    response.body = token_body(jwt_with_roles(required_roles()), 3600);
    return response;
  };
  TokenProvider provider(http, secret_app(), [&] { return now; });
  auto first = provider.token();
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(http.requests.size(), 1u);
  const auto& request = http.requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://login.example.test/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_NE(request.body.find("grant_type=client_credentials"), std::string::npos);
  EXPECT_NE(request.body.find("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"),
            std::string::npos);
  EXPECT_NE(request.body.find("client_secret=s3cr3t~value%2B%2F%3D"), std::string::npos);

  now += std::chrono::minutes(50);  // 10 minutes left: still cached
  ASSERT_TRUE(provider.token());
  EXPECT_EQ(http.requests.size(), 1u);
  now += std::chrono::minutes(6);  // 4 minutes left: renewed
  ASSERT_TRUE(provider.token());
  EXPECT_EQ(http.requests.size(), 2u);
  ASSERT_TRUE(provider.refresh());
  EXPECT_EQ(http.requests.size(), 3u);
}

TEST(GraphToken, ConcurrentCallersShareOneRefresh) {
  FakeHttp http;
  http.handler = [&](const net::Request&) -> Result<net::Response> {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    net::Response response;
    response.status = 200;
    response.body = token_body(jwt_with_roles(required_roles()));
    return response;
  };
  TokenProvider provider(http, secret_app());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (provider.token()) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(GraphToken, MissingRoleIsNamedWithWhereToGrantIt) {
  FakeHttp http;
  http.push(token_body(jwt_with_roles({"Calendars.ReadWrite", "MailboxSettings.ReadWrite"})));
  TokenProvider provider(http, secret_app());
  auto roles = provider.roles();
  ASSERT_TRUE(roles) << roles.error().message;
  auto checked = check_roles(*roles, provider.app());
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::kPermission);
  const auto& message = checked.error().message;
  EXPECT_NE(message.find("User.Read.All"), std::string::npos);
  EXPECT_EQ(message.find("Calendars.ReadWrite,"), std::string::npos);
  EXPECT_EQ(message.find("MailboxSettings.Read,"), std::string::npos);  // ReadWrite covers it
  EXPECT_NE(message.find("API permissions"), std::string::npos);
  EXPECT_NE(message.find("Grant admin consent"), std::string::npos);
  EXPECT_NE(message.find("/adminconsent?client_id="), std::string::npos);
  EXPECT_TRUE(check_roles(required_roles(), provider.app()));
}

TEST(GraphToken, WrongSecretSaysWhatToCopyAndNeverShowsTheSecret) {
  FakeHttp http;
  http.push(
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: x","error_codes":[7000215]})",
      401);
  TokenProvider provider(http, secret_app());
  auto token = provider.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(token.error().protocol_code, "AADSTS7000215");
  EXPECT_NE(token.error().message.find("Certificates & secrets"), std::string::npos);
  EXPECT_EQ(token.error().message.find("s3cr3t"), std::string::npos);
}

TEST(GraphToken, TransportsAuthErrorOnTheTokenEndpointStillNamesTheSecretSetting) {
  // libcurl's client turns a 401 into an auth error without the body: the remedy must still
  // point at the secret, not at a service account.
  FakeHttp http;
  http.handler = [](const net::Request&) -> Result<net::Response> {
    return std::unexpected(Error::make(ErrorKind::kAuth, "host requires authentication", "401"));
  };
  TokenProvider provider(http, secret_app());
  auto token = provider.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(token.error().protocol_code, "invalid_client");
  EXPECT_NE(token.error().message.find("client secret"), std::string::npos);
  EXPECT_NE(token.error().message.find("Certificates & secrets"), std::string::npos);
  EXPECT_EQ(token.error().message.find("s3cr3t"), std::string::npos);
}

TEST(GraphToken, AadstsCodesMapToRemedies) {
  const auto app = secret_app();
  const auto expired = token_error(
      401,
      R"({"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired."})",
      app);
  EXPECT_NE(expired.message.find("expired"), std::string::npos);
  const auto tenant = token_error(400, R"({"error":"invalid_request","error_codes":[90002]})", app);
  EXPECT_NE(tenant.message.find("[graph] tenant_id"), std::string::npos);
  const auto unknown_app =
      token_error(400, R"({"error":"unauthorized_client","error_codes":[700016]})", app);
  EXPECT_NE(unknown_app.message.find("[graph] client_id"), std::string::npos);
  const auto consent = token_error(400, R"({"error":"invalid_grant","error_codes":[65001]})", app);
  EXPECT_EQ(consent.kind, ErrorKind::kPermission);
  EXPECT_NE(consent.message.find("adminconsent"), std::string::npos);
  EXPECT_EQ(token_error(503, "", app).kind, ErrorKind::kTransient);
}

TEST(GraphToken, ExpiredCertificateIsRefusedBeforeAnyRequest) {
  FakeHttp http;
  auto app = secret_app();
  app.client_secret = Secret{};
  const auto cert = testing::make_certificate(-400, -35);
  app.certificate_pem = cert.certificate_pem;
  app.private_key_pem = Secret(cert.private_key_pem);
  TokenProvider provider(http, app);
  auto token = provider.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth);
  EXPECT_NE(token.error().message.find("expired on"), std::string::npos);
  EXPECT_NE(token.error().message.find("Certificates & secrets"), std::string::npos);
  EXPECT_TRUE(http.requests.empty());
}

TEST(GraphToken, CertificateAssertionIsSignedRs256WithThumbprintAndClaims) {
  const auto cert = testing::make_certificate(-1, 30);
  auto app = secret_app();
  app.client_secret = Secret{};
  app.certificate_pem = cert.certificate_pem;
  app.private_key_pem = Secret(cert.private_key_pem);
  const auto now = std::chrono::system_clock::now();
  auto assertion = client_assertion(app, now);
  ASSERT_TRUE(assertion) << assertion.error().message;
  const auto dot1 = assertion->find('.');
  const auto dot2 = assertion->rfind('.');
  const auto header = json::parse(*base64url_decode(assertion->substr(0, dot1)));
  const auto claims = json::parse(*base64url_decode(assertion->substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(claims["aud"], token_endpoint(app));
  EXPECT_EQ(claims["iss"], app.client_id);
  EXPECT_EQ(claims["sub"], app.client_id);
  EXPECT_FALSE(claims["jti"].get<std::string>().empty());
  EXPECT_GT(claims["exp"].get<long>(), claims["nbf"].get<long>());

  BIO* bio =
      BIO_new_mem_buf(cert.certificate_pem.data(), static_cast<int>(cert.certificate_pem.size()));
  X509* x509 = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  unsigned char* der = nullptr;
  const int der_size = i2d_X509(x509, &der);
  unsigned char sha1[SHA_DIGEST_LENGTH];
  SHA1(der, static_cast<std::size_t>(der_size), sha1);
  OPENSSL_free(der);
  EXPECT_EQ(header["x5t"],
            base64url_encode(std::string_view(reinterpret_cast<char*>(sha1), sizeof sha1)));

  // The signature verifies with the certificate's public key.
  EVP_PKEY* key = X509_get_pubkey(x509);
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  const std::string input = assertion->substr(0, dot2);
  const std::string signature = *base64url_decode(assertion->substr(dot2 + 1));
  ASSERT_EQ(EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, key), 1);
  EXPECT_EQ(EVP_DigestVerify(context, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()),
            1);
  EVP_MD_CTX_free(context);
  EVP_PKEY_free(key);
  X509_free(x509);
  BIO_free(bio);

  FakeHttp http;
  http.push(token_body(jwt_with_roles(required_roles())));
  TokenProvider provider(http, app);
  ASSERT_TRUE(provider.token());
  EXPECT_NE(
      http.requests[0].body.find(
          "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"),
      std::string::npos);
  EXPECT_EQ(http.requests[0].body.find("client_secret"), std::string::npos);
}

TEST(GraphToken, ConformanceTokenResponsesParse) {
  const std::string dir =
      std::string(AGENDASYNC_CONFORMANCE_DIR) + "/graph-examples/oauth2-client-credentials/";
  std::ifstream success(dir + "token-response-success.json");
  ASSERT_TRUE(success) << "missing " << dir;
  const std::string success_body((std::istreambuf_iterator<char>(success)), {});
  FakeHttp http;
  http.push(success_body);
  TokenProvider provider(http, secret_app());
  EXPECT_TRUE(provider.token());
  std::ifstream scope(dir + "token-response-error-invalid_scope.json");
  ASSERT_TRUE(scope);
  const std::string scope_body((std::istreambuf_iterator<char>(scope)), {});
  const auto error = token_error(400, scope_body, secret_app());
  EXPECT_EQ(error.kind, ErrorKind::kInvalidData);
  EXPECT_NE(error.message.find(".default"), std::string::npos);
}

}  // namespace
}  // namespace agendasync::graph
