#include "net/transfer_errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agendasync::net {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TransferContext mail_server() {
  TransferContext where;
  where.host_port = "mail.contoso.com:443";
  where.timeout = std::chrono::milliseconds(120'000);
  where.connect_timeout = std::chrono::milliseconds(10'000);
  return where;
}

TEST(TransportErrorTest, DnsFailureNamesHostAndPortAndIsRetryable) {
  const Error error = transport_error(CURLE_COULDNT_RESOLVE_HOST,
                                      "Could not resolve host: mail.contoso.com", mail_server());
  EXPECT_EQ(error.kind, ErrorKind::kTransient);
  EXPECT_TRUE(is_retryable(error));
  EXPECT_THAT(error.message, HasSubstr("'mail.contoso.com' (port 443)"));
  EXPECT_THAT(error.message, HasSubstr("DNS"));
  EXPECT_EQ(error.protocol_code, "curl:6");
}

TEST(TransportErrorTest, RefusedConnectionNamesHostPortAndProxy) {
  auto where = mail_server();
  where.proxy = "http://proxy.contoso.com:3128";
  const Error error = transport_error(CURLE_COULDNT_CONNECT, "Connection refused", where);
  EXPECT_EQ(error.kind, ErrorKind::kTransient);
  EXPECT_THAT(error.message, HasSubstr("cannot connect to mail.contoso.com:443"));
  EXPECT_THAT(error.message, HasSubstr("through proxy http://proxy.contoso.com:3128"));
  EXPECT_THAT(error.message, HasSubstr("Connection refused"));
}

TEST(TransportErrorTest, TlsVersionRefusalSaysTls12IsRequired) {
  for (const char* detail : {"error:0A00042E:SSL routines::tlsv1 alert protocol version",
                             "OpenSSL/3.0.19: error:0A000102:SSL routines::unsupported protocol",
                             "error:0A0000BF:SSL routines::no protocols available"}) {
    const Error error = transport_error(CURLE_SSL_CONNECT_ERROR, detail, mail_server());
    EXPECT_EQ(error.kind, ErrorKind::kPermanent) << detail;
    EXPECT_FALSE(is_retryable(error));
    EXPECT_THAT(error.message,
                HasSubstr("the server offers only TLS older than 1.2; AgendaSync requires TLS "
                          "1.2 or newer — upgrade the server's TLS configuration"));
    EXPECT_THAT(error.message, HasSubstr("mail.contoso.com:443"));
  }
}

TEST(TransportErrorTest, OtherHandshakeFailuresAreTransient) {
  const Error error = transport_error(
      CURLE_SSL_CONNECT_ERROR, "OpenSSL SSL_connect: Connection reset by peer", mail_server());
  EXPECT_EQ(error.kind, ErrorKind::kTransient);
}

TEST(TransportErrorTest, PlainHttpOnATlsPortIsNamed) {
  const Error error = transport_error(
      CURLE_SSL_CONNECT_ERROR, "error:0A00010B:SSL routines::wrong version number", mail_server());
  EXPECT_EQ(error.kind, ErrorKind::kPermanent);
  EXPECT_THAT(error.message, HasSubstr("did not answer with TLS"));
}

TEST(TransportErrorTest, UntrustedCertificateSaysHowToAddACa) {
  const Error error = transport_error(
      CURLE_PEER_FAILED_VERIFICATION,
      "SSL certificate problem: unable to get local issuer certificate", mail_server());
  EXPECT_EQ(error.kind, ErrorKind::kPermanent);
  EXPECT_THAT(error.message, HasSubstr("[tls] ca_bundle"));
  EXPECT_THAT(error.message, HasSubstr("unable to get local issuer certificate"));
}

TEST(TransportErrorTest, NameMismatchSaysUseTheCertificateName) {
  const Error error = transport_error(
      CURLE_PEER_FAILED_VERIFICATION,
      "SSL: no alternative certificate subject name matches target host name 'mail'",
      mail_server());
  EXPECT_THAT(error.message, HasSubstr("not issued for 'mail.contoso.com'"));
}

TEST(TransportErrorTest, TimeoutsBrokenConnectionsAndTruncationAreTransient) {
  for (CURLcode code : {CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
                        CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE}) {
    EXPECT_TRUE(is_retryable(transport_error(code, "", mail_server()))) << code;
  }
  const Error timeout = transport_error(
      CURLE_OPERATION_TIMEDOUT, "Operation timed out after 120001 milliseconds", mail_server());
  EXPECT_THAT(timeout.message, HasSubstr("within 120000 ms"));
}

TEST(TransportErrorTest, UnknownCodesArePermanentWithCurlsText) {
  const Error error = transport_error(CURLE_BAD_FUNCTION_ARGUMENT, "", mail_server());
  EXPECT_EQ(error.kind, ErrorKind::kPermanent);
  EXPECT_THAT(error.message, HasSubstr(curl_easy_strerror(CURLE_BAD_FUNCTION_ARGUMENT)));
}

Response challenge(std::initializer_list<const char*> values) {
  Response response;
  response.status = 401;
  for (const char* value : values) response.headers.emplace_back("www-authenticate", value);
  return response;
}

TEST(AuthErrorTest, OfferedSchemesAreRead) {
  const auto schemes = offered_auth_schemes(
      challenge({"Negotiate", "NTLM", "Basic realm=\"mail\", Bearer error=\"invalid_token\""}));
  EXPECT_EQ(schemes, (std::vector<std::string>{"Negotiate", "NTLM", "Basic", "Bearer"}));
}

TEST(AuthErrorTest, NtlmRejectionNamesTheAccountNeverThePassword) {
  Credentials ntlm{AuthMethod::kNtlm, "svc-sync", "CONTOSO", Secret("Pa55w0rd!"), {}, {}};
  const Error error = auth_rejected(ntlm, challenge({"NTLM"}), "mail.contoso.com:443");
  EXPECT_EQ(error.kind, ErrorKind::kAuth);
  EXPECT_EQ(error.protocol_code, "401");
  EXPECT_THAT(error.message, HasSubstr("NTLM authentication as CONTOSO\\svc-sync was rejected by "
                                       "mail.contoso.com:443"));
  EXPECT_THAT(error.message, Not(HasSubstr("Pa55w0rd!")));
}

TEST(AuthErrorTest, NtlmNotOfferedSaysWhatIs) {
  Credentials ntlm{AuthMethod::kNtlm, "CONTOSO\\svc-sync", "", Secret("x"), {}, {}};
  const Error error = auth_rejected(ntlm, challenge({"Basic realm=\"x\""}), "mail:443");
  EXPECT_THAT(error.message, HasSubstr("NTLM authentication as CONTOSO\\svc-sync is not possible"));
  EXPECT_THAT(error.message, HasSubstr("offers only Basic"));
}

TEST(AuthErrorTest, BasicAndBearerAndNoneNameTheirMethod) {
  Credentials basic{AuthMethod::kBasic, "alice", "", Secret("secret-pw"), {}, {}};
  EXPECT_THAT(auth_rejected(basic, challenge({"Basic"}), "h:80").message,
              HasSubstr("Basic authentication as alice was rejected by h:80"));
  Credentials bearer;
  bearer.method = AuthMethod::kBearer;
  EXPECT_THAT(auth_rejected(bearer, challenge({"Bearer error=\"invalid_token\""}), "h:443").message,
              HasSubstr("Bearer token was rejected by h:443 even after fetching a fresh one"));
  EXPECT_THAT(auth_rejected(Credentials{}, challenge({"NTLM", "Negotiate"}), "h:443").message,
              HasSubstr("requires authentication (it offers NTLM, Negotiate)"));
}

TEST(AuthErrorTest, ProxyAuthenticationSaysWhereTheCredentialsGo) {
  const Error error = proxy_auth_required("http://proxy:3128");
  EXPECT_EQ(error.kind, ErrorKind::kAuth);
  EXPECT_THAT(error.message, HasSubstr("http://proxy:3128 requires authentication (HTTP 407)"));
}

}  // namespace
}  // namespace agendasync::net
