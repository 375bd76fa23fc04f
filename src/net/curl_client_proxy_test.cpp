// The outbound proxy (R6) with tiny proxies on 127.0.0.1: HTTPS tunnels through CONNECT
// (the usual way to EWS and Graph), plain HTTP is forwarded, and proxy failures are named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <mutex>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/local_server.h"
#include "net/testing/raw_server.h"
#include "net/testing/test_pki.h"

namespace agendasync::net {
namespace {

using ::testing::HasSubstr;
using testing::LocalServer;
using testing::RawServer;

Request get_url(std::string url) {
  Request request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

/// Relays CONNECT tunnels and forwards absolute-form plain HTTP requests, to 127.0.0.1 only;
/// answers `refuse_with` (e.g. "407 ...") instead when set.
class TestProxy {
 public:
  explicit TestProxy(std::string refuse_with = {})
      : refuse_with_(std::move(refuse_with)), server_([this](int fd, int) { serve(fd); }) {}

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  int port() const { return server_.port(); }
  std::vector<std::string> request_lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  void serve(int client) {
    std::string request = testing::read_http_request(client);
    const auto line_end = request.find("\r\n");
    if (line_end == std::string::npos) return;
    const std::string line = request.substr(0, line_end);
    {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    }
    if (!refuse_with_.empty()) {
      testing::send_all(client, "HTTP/1.1 " + refuse_with_ +
                                    "\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\n"
                                    "Content-Length: 0\r\n\r\n");
      return;
    }
    const std::string loopback = "127.0.0.1:";
    const auto host_at = line.find(loopback);
    if (host_at == std::string::npos) return;  // never anywhere but loopback
    const int port = std::stoi(line.substr(host_at + loopback.size()));
    const int upstream = testing::connect_loopback(port);
    if (upstream < 0) {
      testing::send_all(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (line.starts_with("CONNECT ")) {
      testing::send_all(client, "HTTP/1.1 200 Connection established\r\n\r\n");
    } else {
      // "GET http://127.0.0.1:p/path HTTP/1.1" -> "GET /path HTTP/1.1", one request only.
      const auto path_at = line.find('/', host_at);
      const std::string method = line.substr(0, line.find(' '));
      request.replace(0, line_end, method + " " + line.substr(path_at));
      testing::send_all(upstream, request);
    }
    testing::relay(client, upstream, std::chrono::milliseconds(2000));
    ::close(upstream);
  }

  std::string refuse_with_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
  RawServer server_;  // last: its threads use the members above
};

class CurlClientProxyTest : public testing::BothSends {};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientProxyTest);

TEST_P(CurlClientProxyTest, HttpsGoesThroughAConnectTunnel) {
  testing::TestPki pki;
  httplib::SSLServer server(pki.server().certificate.c_str(), pki.server().key.c_str());
  server.Get("/ews", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("tunnelled", "text/plain");
  });
  LocalServer running(server);
  TestProxy proxy;
  ClientOptions options;
  options.proxy = proxy.url();
  options.tls.ca_bundle_path = pki.ca_certificate();
  auto got = make_client(options)->send(get_url(running.url("/ews", "https")), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "tunnelled");
  EXPECT_EQ(got->tls_version, "TLSv1.3");
  const auto lines = proxy.request_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "CONNECT 127.0.0.1:" + std::to_string(running.port()) + " HTTP/1.1");
}

TEST_P(CurlClientProxyTest, PlainHttpIsForwarded) {
  httplib::Server server;
  server.Get("/r", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("forwarded", "text/plain");
  });
  LocalServer running(server);
  TestProxy proxy;
  ClientOptions options;
  options.proxy = proxy.url();
  auto got = make_client(options)->send(get_url(running.url("/r")), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "forwarded");
  const auto lines = proxy.request_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "GET " + running.url("/r") + " HTTP/1.1");
}

TEST_P(CurlClientProxyTest, AProxyAskingForCredentialsIsAnAuthError) {
  TestProxy proxy("407 Proxy Authentication Required");
  ClientOptions options;
  options.proxy = proxy.url();
  auto client = make_client(options);
  auto tunnel = client->send(get_url("https://127.0.0.1:9/"), {});
  ASSERT_FALSE(tunnel);
  EXPECT_EQ(tunnel.error().kind, ErrorKind::kAuth);
  EXPECT_THAT(tunnel.error().message, HasSubstr(proxy.url() + " requires authentication"));
  auto forward = client->send(get_url("http://127.0.0.1:9/"), {});
  ASSERT_FALSE(forward);
  EXPECT_EQ(forward.error().kind, ErrorKind::kAuth);
}

TEST_P(CurlClientProxyTest, AProxyRefusingTheTunnelIsNamed) {
  TestProxy proxy("403 Forbidden");
  ClientOptions options;
  options.proxy = proxy.url();
  auto got = make_client(options)->send(get_url("https://127.0.0.1:9/"), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kPermanent);
  EXPECT_THAT(got.error().message, HasSubstr("the proxy " + proxy.url() +
                                             " refused the tunnel to 127.0.0.1:9 (HTTP 403)"));
}

TEST_P(CurlClientProxyTest, AnUnreachableProxyIsNamedWithoutItsPassword) {
  const int port = testing::unused_port();
  ClientOptions options;
  options.proxy = "http://agent:proxy-secret@127.0.0.1:" + std::to_string(port);
  options.max_attempts = 1;
  auto got = make_client(options)->send(get_url("https://127.0.0.1:9/"), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kTransient);
  EXPECT_THAT(got.error().message,
              HasSubstr("through proxy http://127.0.0.1:" + std::to_string(port)));
  EXPECT_THAT(got.error().message, ::testing::Not(HasSubstr("proxy-secret")));
}

}  // namespace
}  // namespace agendasync::net
