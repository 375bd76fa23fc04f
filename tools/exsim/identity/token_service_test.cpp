#include "exsim/identity/token_service.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "exsim/store/ids.h"

namespace exsim {
namespace {

TokenService make_service(std::chrono::seconds lifetime = std::chrono::seconds(3600)) {
  return TokenService({GraphAppConfig{"tenant-1", "app-1", "s3cret", {"Calendars.ReadWrite"}, {}}},
                      lifetime);
}

const std::string kScope = "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default";

TEST(TokenService, SecretGrantIssuesSignedTokenWithRoles) {
  const auto service = make_service();
  const auto reply = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&" + kScope);
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["token_type"], "Bearer");
  const auto claims = service.verify(reply.body["access_token"].get<std::string>());
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ((*claims)["tid"], "tenant-1");
  EXPECT_EQ((*claims)["appid"], "app-1");
  EXPECT_EQ((*claims)["roles"], nlohmann::json::array({"Calendars.ReadWrite"}));
}

TEST(TokenService, TamperedTokenFailsVerification) {
  const auto service = make_service();
  auto token = service
                   .handle_token_request("tenant-1",
                                         "grant_type=client_credentials&client_id=app-1&"
                                         "client_secret=s3cret&" +
                                             kScope)
                   .body["access_token"]
                   .get<std::string>();
  token[token.size() / 2] = token[token.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(service.verify(token).has_value());
  EXPECT_FALSE(make_service().verify(token).has_value()) << "another key must not verify it";
}

TEST(TokenService, ExpiredTokenFailsVerification) {
  const auto service = make_service(std::chrono::seconds(0));
  const auto token = service
                         .handle_token_request("tenant-1",
                                               "grant_type=client_credentials&client_id=app-1&"
                                               "client_secret=s3cret&" +
                                                   kScope)
                         .body["access_token"]
                         .get<std::string>();
  EXPECT_FALSE(service.verify(token).has_value());
}

TEST(TokenService, ErrorsAsEntraIdAnswers) {
  const auto service = make_service();
  auto wrong_secret = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-1&client_secret=nope&" + kScope);
  EXPECT_EQ(wrong_secret.status, 401);
  EXPECT_EQ(wrong_secret.body["error"], "invalid_client");
  EXPECT_EQ(wrong_secret.body["error_codes"][0], 7000215);
  EXPECT_EQ(wrong_secret.body.dump().find("nope"), std::string::npos) << "secret echoed";

  auto unknown_app = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-9&client_secret=s3cret&" + kScope);
  EXPECT_EQ(unknown_app.status, 400);
  EXPECT_EQ(unknown_app.body["error"], "unauthorized_client");
  EXPECT_EQ(unknown_app.body["error_codes"][0], 700016);

  auto unknown_tenant = service.handle_token_request(
      "tenant-9", "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&" + kScope);
  EXPECT_EQ(unknown_tenant.status, 400);
  EXPECT_EQ(unknown_tenant.body["error_codes"][0], 90002);

  auto bad_scope = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&scope=x");
  EXPECT_EQ(bad_scope.body["error"], "invalid_scope");
}

// A key pair and a self-signed certificate valid from `from_days` to `to_days` (from now).
struct TestCertificate {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  TestCertificate(long from_days, long to_days) {
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), to_days * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("agendasync-test"), -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
  }
  ~TestCertificate() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::string pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(size));
    BIO_free(bio);
    return out;
  }
  static std::string b64url(std::string_view bytes) {
    std::string out = base64_encode(bytes);
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!out.empty() && out.back() == '=') out.pop_back();
    return out;
  }
  std::string x5t() const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    X509_digest(cert, EVP_sha1(), digest, &size);
    return b64url(std::string_view(reinterpret_cast<const char*>(digest), size));
  }
  /// A client assertion as MSAL builds it, signed with this key.
  std::string assertion(const std::string& aud, int64_t exp_offset,
                        const std::string& client = "app-c") const {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", x5t()}};
    nlohmann::json claims = {{"aud", aud}, {"iss", client},   {"sub", client},
                             {"jti", "1"}, {"nbf", now - 60}, {"exp", now + exp_offset}};
    std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t size = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string signature(size, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    signature.resize(size);
    return input + "." + b64url(signature);
  }
};

const std::string kEndpoint = "http://127.0.0.1:1/tenant-1/oauth2/v2.0/token";

TokenReply assert_with(const TokenService& service, const std::string& assertion) {
  return service.handle_token_request(
      "tenant-1",
      "grant_type=client_credentials&client_id=app-c&client_assertion_type=urn%3Aietf%3Aparams%3A"
      "oauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" +
          assertion + "&" + kScope,
      kEndpoint);
}

TEST(TokenService, CertificateAssertionIssuesTokenAndRefusesBadOnes) {
  TestCertificate valid(-1, 365);
  TestCertificate expired(-30, -1);
  TestCertificate unregistered(-1, 365);
  TokenService service(
      {GraphAppConfig{
          "tenant-1", "app-c", "", {"Calendars.ReadWrite"}, {valid.pem(), expired.pem()}}},
      std::chrono::seconds(3600));
  EXPECT_TRUE(service.certificate_errors().empty());

  auto ok = assert_with(service, valid.assertion(kEndpoint, 600));
  ASSERT_EQ(ok.status, 200) << ok.body.dump();
  auto claims = service.verify(ok.body["access_token"].get<std::string>());
  ASSERT_TRUE(claims);
  EXPECT_EQ((*claims)["appid"], "app-c");
  EXPECT_EQ(
      assert_with(service, valid.assertion(
                               "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token", 600))
          .status,
      200);

  auto old = assert_with(service, valid.assertion(kEndpoint, -3600));
  EXPECT_EQ(old.body["error_codes"][0], 700024) << old.body.dump();
  auto cert_expired = assert_with(service, expired.assertion(kEndpoint, 600));
  EXPECT_EQ(cert_expired.status, 401);
  EXPECT_EQ(cert_expired.body["error_codes"][0], 700027);
  EXPECT_NE(cert_expired.body["error_description"].get<std::string>().find("expired"),
            std::string::npos);
  auto unknown = assert_with(service, unregistered.assertion(kEndpoint, 600));
  EXPECT_EQ(unknown.body["error_codes"][0], 700027);
  auto wrong_aud = assert_with(service, valid.assertion("https://elsewhere/token", 600));
  EXPECT_EQ(wrong_aud.body["error"], "invalid_client");
  auto wrong_client = assert_with(service, valid.assertion(kEndpoint, 600, "someone-else"));
  EXPECT_EQ(wrong_client.body["error_codes"][0], 700021);
  std::string forged = valid.assertion(kEndpoint, 600);
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(assert_with(service, forged).body["error_codes"][0], 700027);
  auto neither = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-c&" + kScope, kEndpoint);
  EXPECT_EQ(neither.body["error_codes"][0], 7000218);
}

TEST(TokenService, UnreadableCertificateIsReported) {
  TokenService service({GraphAppConfig{"tenant-1", "app-c", "", {}, {"/nonexistent/cert.pem"}}},
                       std::chrono::seconds(3600));
  ASSERT_EQ(service.certificate_errors().size(), 1u);
  EXPECT_NE(service.certificate_errors()[0].find("app-c"), std::string::npos);
}

TEST(TokenService, FormDecoding) {
  const auto form = parse_form("a=1+2&b=%2F%3d&c");
  ASSERT_EQ(form.size(), 3u);
  EXPECT_EQ(form[0].second, "1 2");
  EXPECT_EQ(form[1].second, "/=");
  EXPECT_EQ(form[2].first, "c");
}

}  // namespace
}  // namespace exsim
