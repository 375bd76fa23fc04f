// Authentication against real servers on 127.0.0.1: Basic, Bearer with one refresh on 401,
// and the NTLM handshake as far as a test server can take it (Type 1 -> Type 2 -> Type 3 on
// one connection). The full NTLMv2 verification is exsim's, in the EWS integration tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/local_server.h"

namespace agendasync::net {
namespace {

using ::testing::HasSubstr;
using testing::LocalServer;
using ::testing::Not;

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(data.data()),
                                     static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::string unbase64(std::string_view text) {
  std::string out(3 * (text.size() / 4) + 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) return {};
  out.resize(static_cast<std::size_t>(length));
  while (!text.empty() && text.back() == '=') {  // DecodeBlock keeps padding bytes
    out.pop_back();
    text.remove_suffix(1);
  }
  return out;
}

Request get(std::string url) {
  Request request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

class CurlClientAuthTest : public testing::BothSends {};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientAuthTest);

TEST_P(CurlClientAuthTest, BasicSendsTheCredentials) {
  httplib::Server server;
  server.Get("/r", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Basic " + base64("alice:open sesame")) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"test\"");
      return;
    }
    res.set_content("welcome", "text/plain");
  });
  LocalServer running(server);
  auto client = make_client({});
  Credentials basic{AuthMethod::kBasic, "alice", "", Secret("open sesame"), {}, {}};
  auto got = client->send(get(running.url("/r")), basic);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "welcome");

  basic.password = Secret("wrong password");
  got = client->send(get(running.url("/r")), basic);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kAuth);
  EXPECT_THAT(got.error().message, HasSubstr("Basic authentication as alice was rejected"));
  EXPECT_THAT(got.error().message, Not(HasSubstr("wrong password")));
}

struct BearerServer {
  httplib::Server server;
  std::atomic<int> hits{0};
  BearerServer() {
    server.Get("/me", [this](const httplib::Request& req, httplib::Response& res) {
      ++hits;
      if (req.get_header_value("Authorization") != "Bearer fresh-token") {
        res.status = 401;
        res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return;
      }
      res.set_content("{}", "application/json");
    });
  }
};

TEST_P(CurlClientAuthTest, BearerAsksOnceForAFreshTokenAfterA401) {
  BearerServer bearer;
  LocalServer running(bearer.server);
  auto client = make_client({});
  std::atomic<int> cached_calls{0};
  std::atomic<int> refresh_calls{0};
  Credentials credentials;
  credentials.method = AuthMethod::kBearer;
  credentials.bearer_token = [&]() -> Result<Secret> {
    ++cached_calls;
    return Secret("stale-token");
  };
  credentials.bearer_token_refresh = [&]() -> Result<Secret> {
    ++refresh_calls;
    return Secret("fresh-token");
  };
  auto got = client->send(get(running.url("/me")), credentials);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(cached_calls.load(), 1);
  EXPECT_EQ(refresh_calls.load(), 1);
  EXPECT_EQ(bearer.hits.load(), 2);
}

TEST_P(CurlClientAuthTest, BearerWithoutARefreshSourceAsksTheTokenSourceAgain) {
  BearerServer bearer;
  LocalServer running(bearer.server);
  auto client = make_client({});
  std::atomic<int> calls{0};
  Credentials credentials;
  credentials.method = AuthMethod::kBearer;
  credentials.bearer_token = [&]() -> Result<Secret> {
    return Secret(++calls == 1 ? "stale-token" : "fresh-token");
  };
  std::promise<Result<Response>> done;
  client->send_async(get(running.url("/me")), credentials,
                     [&](Result<Response> result) { done.set_value(std::move(result)); });
  auto got = done.get_future().get();
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(calls.load(), 2);
}

TEST_P(CurlClientAuthTest, BearerRejectedTwiceIsAnAuthErrorWithoutTheToken) {
  BearerServer bearer;
  LocalServer running(bearer.server);
  auto client = make_client({});
  std::atomic<int> calls{0};
  Credentials credentials;
  credentials.method = AuthMethod::kBearer;
  credentials.bearer_token = [&]() -> Result<Secret> {
    ++calls;
    return Secret("eyJhbGciOi.revoked");
  };
  auto got = client->send(get(running.url("/me")), credentials);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kAuth);
  EXPECT_THAT(got.error().message, HasSubstr("Bearer token was rejected"));
  EXPECT_THAT(got.error().message, HasSubstr("invalid_token"));
  EXPECT_THAT(got.error().message, Not(HasSubstr("eyJhbGciOi")));
  EXPECT_EQ(calls.load(), 2) << "one refresh, not more";
  EXPECT_EQ(bearer.hits.load(), 2);
}

TEST_P(CurlClientAuthTest, ATokenSourceFailureIsReportedWithoutSending) {
  BearerServer bearer;
  LocalServer running(bearer.server);
  auto client = make_client({});
  Credentials credentials;
  credentials.method = AuthMethod::kBearer;
  credentials.bearer_token = []() -> Result<Secret> {
    return fail(ErrorKind::kAuth, "the token endpoint refused the client secret");
  };
  auto got = client->send(get(running.url("/me")), credentials);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kAuth);
  EXPECT_THAT(got.error().message, HasSubstr("refused the client secret"));
  EXPECT_EQ(bearer.hits.load(), 0);
}

TEST_P(CurlClientAuthTest, AThrowingTokenSourceIsAnErrorNotAHang) {
  BearerServer bearer;
  LocalServer running(bearer.server);
  Credentials credentials;
  credentials.method = AuthMethod::kBearer;
  credentials.bearer_token = []() -> Result<Secret> { throw std::runtime_error("cache broken"); };
  auto got = make_client({})->send(get(running.url("/me")), credentials);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kAuth);
  EXPECT_THAT(got.error().message, HasSubstr("cache broken"));
  EXPECT_EQ(bearer.hits.load(), 0);
}

TEST_P(CurlClientAuthTest, ATokenSourceMaySendThroughTheSameClient) {
  // Token fetches run off the event loop, so a token endpoint call through the client works.
  httplib::Server server;
  server.Post("/token", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("fresh-token", "text/plain");
  });
  server.Get("/me", [](const httplib::Request& req, httplib::Response& res) {
    res.status = req.get_header_value("Authorization") == "Bearer fresh-token" ? 200 : 401;
  });
  LocalServer running(server);
  auto client = make_client({});
  Credentials credentials;
  credentials.method = AuthMethod::kBearer;
  credentials.bearer_token = [&]() -> Result<Secret> {
    Request token;
    token.url = running.url("/token");
    auto answer = client->send(token, {});
    if (!answer) return std::unexpected(answer.error());
    return Secret(answer->body);
  };
  auto got = client->send(get(running.url("/me")), credentials);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
}

TEST_P(CurlClientAuthTest, NoCredentialsAndA401IsAnAuthErrorNamingTheOfferedMethods) {
  httplib::Server server;
  server.Get("/r", [](const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Negotiate");
  });
  LocalServer running(server);
  auto got = make_client({})->send(get(running.url("/r")), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kAuth);
  EXPECT_THAT(got.error().message, HasSubstr("it offers Negotiate"));
}

TEST_P(CurlClientAuthTest, NoCredentialsAndAJson401ComeBackAsTheServersAnswer) {
  // Entra ID's token endpoint (and Graph) explain a 401 in JSON: the caller maps that body.
  const std::string body =
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret"})";
  httplib::Server server;
  server.Post("/token", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_content(body, "application/json; charset=utf-8");
  });
  LocalServer running(server);
  Request token;
  token.url = running.url("/token");
  token.body = "grant_type=client_credentials";
  auto got = make_client({})->send(token, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 401);
  EXPECT_EQ(got->body, body);
}

TEST_P(CurlClientAuthTest, BearerRejectedTwiceWithJsonComesBackAfterOneRefresh) {
  // Graph answers a bad token with its error object; after the one refresh the answer goes
  // to the connector's error mapping instead of the transport's generic message.
  const std::string body =
      R"({"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}})";
  std::atomic<int> hits{0};
  httplib::Server server;
  server.Get("/me", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"\"");
    res.set_content(body, "application/json");
  });
  LocalServer running(server);
  std::atomic<int> fetched{0}, refreshed{0};
  Credentials credentials;
  credentials.method = AuthMethod::kBearer;
  credentials.bearer_token = [&]() -> Result<Secret> {
    ++fetched;
    return Secret("stale");
  };
  credentials.bearer_token_refresh = [&]() -> Result<Secret> {
    ++refreshed;
    return Secret("also-bad");
  };
  auto got = make_client({})->send(get(running.url("/me")), credentials);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 401);
  EXPECT_EQ(got->body, body);
  EXPECT_EQ(hits.load(), 2) << "one try, one more after the refresh";
  EXPECT_EQ(refreshed.load(), 1);
}

TEST_P(CurlClientAuthTest, AnHtml401StaysAnAuthErrorAsForEws) {
  // IIS in front of EWS: a challenge and an HTML page. The transport's message names the
  // configured method; the page is not passed on.
  httplib::Server server;
  server.Post("/EWS/Exchange.asmx", [](const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Negotiate");
    res.set_content("<html><body>401 - Unauthorized</body></html>", "text/html");
  });
  LocalServer running(server);
  Request request;
  request.url = running.url("/EWS/Exchange.asmx");
  request.body = "<soap/>";
  auto got = make_client({})->send(request, {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(got.error().protocol_code, "401");
  EXPECT_THAT(got.error().message, HasSubstr("it offers Negotiate"));
}

// --- NTLM -------------------------------------------------------------------------------------

std::uint32_t read32(std::string_view data, std::size_t at) {
  if (at + 4 > data.size()) return 0;
  return static_cast<std::uint32_t>(static_cast<unsigned char>(data[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 3])) << 24;
}

std::uint16_t read16(std::string_view data, std::size_t at) {
  if (at + 2 > data.size()) return 0;
  return static_cast<std::uint16_t>(static_cast<unsigned char>(data[at]) |
                                    static_cast<unsigned char>(data[at + 1]) << 8);
}

/// A Type 3 security buffer's text; UTF-16LE is narrowed (test names are ASCII).
std::string field(std::string_view message, std::size_t buffer_at) {
  const std::uint16_t length = read16(message, buffer_at);
  const std::uint32_t offset = read32(message, buffer_at + 4);
  if (offset + length > message.size()) return "<out of range>";
  const std::string_view raw = message.substr(offset, length);
  const bool unicode = (read32(message, 60) & 0x1) != 0;
  std::string text;
  for (std::size_t i = 0; i < raw.size(); i += unicode ? 2 : 1) text.push_back(raw[i]);
  return text;
}

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
  put16(out, static_cast<std::uint16_t>(v >> 16));
}

/// A Type 2 challenge with target info, so curl answers with NTLMv2 as Exchange expects.
std::string type2_challenge() {
  std::string target_info;
  put16(target_info, 2);  // MsvAvNbDomainName "TEST" in UTF-16LE
  put16(target_info, 8);
  for (char c : std::string("TEST")) {
    target_info.push_back(c);
    target_info.push_back('\0');
  }
  put16(target_info, 0);  // MsvAvEOL
  put16(target_info, 0);
  std::string message("NTLMSSP\0", 8);
  put32(message, 2);
  put16(message, 0);  // target name: empty
  put16(message, 0);
  put32(message, 48);
  // UNICODE | REQUEST_TARGET | NTLM | ALWAYS_SIGN | NTLM2 session | TARGET_INFO
  put32(message, 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00080000 | 0x00800000);
  message += std::string("\x01\x23\x45\x67\x89\xab\xcd\xef", 8);  // server challenge
  message += std::string(8, '\0');
  put16(message, static_cast<std::uint16_t>(target_info.size()));
  put16(message, static_cast<std::uint16_t>(target_info.size()));
  put32(message, 48);
  return message + target_info;
}

/// Plays the server side of NTLM: challenge, Type 1 -> Type 2, Type 3 -> accept or reject.
struct NtlmServer {
  httplib::Server server;
  std::mutex mutex;
  std::vector<int> type1_ports, type3_ports;
  std::string type1_header, type3_user, type3_domain, body_with_type3;
  bool accept = true;
  NtlmServer() {
    server.Post("/EWS/Exchange.asmx", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      const std::string authorization = req.get_header_value("Authorization");
      res.status = 401;
      if (!authorization.starts_with("NTLM ")) {
        res.set_header("WWW-Authenticate", "NTLM");
        return;
      }
      const std::string message = unbase64(std::string_view(authorization).substr(5));
      if (read32(message, 8) == 1) {
        type1_header = authorization;
        type1_ports.push_back(req.remote_port);
        res.set_header("WWW-Authenticate", "NTLM " + base64(type2_challenge()));
        return;
      }
      if (read32(message, 8) == 3) {
        type3_ports.push_back(req.remote_port);
        type3_domain = field(message, 28);
        type3_user = field(message, 36);
        body_with_type3 = req.body;
        if (accept) {
          res.status = 200;
          res.set_content("<soap/>", "text/xml");
          return;
        }
      }
      res.set_header("WWW-Authenticate", "NTLM");
    });
  }
};

Request soap(const LocalServer<httplib::Server>& running) {
  Request request;
  request.url = running.url("/EWS/Exchange.asmx");
  request.headers.emplace_back("Content-Type", "text/xml; charset=utf-8");
  request.body = "<soap:Envelope>GetFolder</soap:Envelope>";
  return request;
}

class CurlClientNtlmTest : public testing::BothSends {};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientNtlmTest);

TEST_P(CurlClientNtlmTest, TheHandshakeRunsOnOneConnectionAndCarriesDomainAndUser) {
  NtlmServer ntlm;
  LocalServer running(ntlm.server);
  auto client = make_client({});
  Credentials credentials{AuthMethod::kNtlm, "svc-sync", "CONTOSO", Secret("Pa55w0rd!"), {}, {}};
  auto got = client->send(soap(running), credentials);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "<soap/>");
  std::lock_guard lock(ntlm.mutex);
  // "NTLMSSP\0" + type 1, base64.
  EXPECT_THAT(ntlm.type1_header, ::testing::StartsWith("NTLM TlRMTVNTUAABAAAA"));
  ASSERT_EQ(ntlm.type1_ports.size(), 1u);
  ASSERT_EQ(ntlm.type3_ports.size(), 1u);
  EXPECT_EQ(ntlm.type1_ports[0], ntlm.type3_ports[0]) << "NTLM authenticates a connection";
  EXPECT_EQ(ntlm.type3_domain, "CONTOSO");
  EXPECT_EQ(ntlm.type3_user, "svc-sync");
  EXPECT_EQ(ntlm.body_with_type3, "<soap:Envelope>GetFolder</soap:Envelope>");
}

TEST_P(CurlClientNtlmTest, DomainBackslashUserIsSplitForTheServer) {
  NtlmServer ntlm;
  LocalServer running(ntlm.server);
  Credentials credentials{AuthMethod::kNtlm, "FABRIKAM\\agenda", "", Secret("x"), {}, {}};
  auto got = make_client({})->send(soap(running), credentials);
  ASSERT_TRUE(got) << got.error().message;
  std::lock_guard lock(ntlm.mutex);
  EXPECT_EQ(ntlm.type3_domain, "FABRIKAM");
  EXPECT_EQ(ntlm.type3_user, "agenda");
}

TEST_P(CurlClientNtlmTest, AuthenticatedConnectionsAreReusedForLaterRequests) {
  NtlmServer ntlm;
  LocalServer running(ntlm.server);
  auto client = make_client({});
  Credentials credentials{AuthMethod::kNtlm, "svc-sync", "CONTOSO", Secret("x"), {}, {}};
  for (int i = 0; i < 5; ++i) {
    auto got = client->send(soap(running), credentials);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->status, 200);
  }
  std::lock_guard lock(ntlm.mutex);
  std::set<int> ports(ntlm.type3_ports.begin(), ntlm.type3_ports.end());
  EXPECT_EQ(ports.size(), 1u);
}

TEST_P(CurlClientNtlmTest, ARejectedHandshakeNamesTheAccountButNotThePassword) {
  NtlmServer ntlm;
  ntlm.accept = false;
  LocalServer running(ntlm.server);
  Credentials credentials{AuthMethod::kNtlm, "svc-sync", "CONTOSO", Secret("Pa55w0rd!"), {}, {}};
  auto got = make_client({})->send(soap(running), credentials);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kAuth);
  EXPECT_THAT(got.error().message, HasSubstr("NTLM authentication as CONTOSO\\svc-sync was "
                                             "rejected by 127.0.0.1:" +
                                             std::to_string(running.port())));
  EXPECT_THAT(got.error().message, Not(HasSubstr("Pa55w0rd!")));
}

TEST_P(CurlClientNtlmTest, AServerWithoutNtlmSaysWhatItOffers) {
  httplib::Server server;
  server.Post("/EWS/Exchange.asmx", [](const httplib::Request&, httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Basic realm=\"mail\"");
  });
  LocalServer running(server);
  Credentials credentials{AuthMethod::kNtlm, "svc-sync", "CONTOSO", Secret("x"), {}, {}};
  auto got = make_client({})->send(soap(running), credentials);
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("offers only Basic"));
}

}  // namespace
}  // namespace agendasync::net
