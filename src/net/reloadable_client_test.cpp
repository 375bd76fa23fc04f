// A reload of the TLS trust (net/reloadable_client.h, issue 19's SIGHUP) against a real TLS
// server on 127.0.0.1 with certificates made at test time: the next request verifies against
// the new bundle, a request in flight finishes on the client it started on, a broken bundle
// changes nothing, counters and run-time caps survive the switch.
#include "net/reloadable_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <future>

#include "net/testing/local_server.h"
#include "net/testing/test_pki.h"

namespace agendasync::net {
namespace {

using ::testing::HasSubstr;
using testing::KeyPair;
using testing::LocalServer;
using testing::TestPki;

const TestPki& pki() {
  static const TestPki instance;
  return instance;
}

std::unique_ptr<httplib::SSLServer> tls_server(const KeyPair& pair) {
  auto server = std::make_unique<httplib::SSLServer>([&pair](SSL_CTX& ctx) {
    return SSL_CTX_use_certificate_chain_file(&ctx, pair.certificate.c_str()) == 1 &&
           SSL_CTX_use_PrivateKey_file(&ctx, pair.key.c_str(), SSL_FILETYPE_PEM) == 1;
  });
  if (!server->is_valid()) throw std::runtime_error("test TLS server set-up failed");
  server->Get("/ews", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("secure", "text/plain");
  });
  server->Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    res.set_content("slow", "text/plain");
  });
  return server;
}

Request get(const LocalServer<httplib::SSLServer>& running, const char* path = "/ews") {
  Request request;
  request.method = "GET";
  request.url = running.url(path, "https");
  return request;
}

TEST(ReloadableClient, TheNextRequestVerifiesAgainstTheNewBundle) {
  auto server = tls_server(pki().server());
  LocalServer running(*server);
  TrustedClients trust("", "");  // the system store: the test CA is unknown
  auto client = trust.make({});
  auto refused = client->send(get(running), {});
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("[tls] ca_bundle"));

  auto switched = trust.reload(pki().ca_certificate(), "");
  ASSERT_TRUE(switched) << switched.error().message;
  EXPECT_EQ(*switched, 1u);
  auto got = client->send(get(running), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "secure");
  // A client made after the reload trusts the new bundle from the start.
  auto later = trust.make({})->send(get(running), {});
  ASSERT_TRUE(later) << later.error().message;

  // And back: a bundle without the server's CA refuses the next request again.
  ASSERT_TRUE(trust.reload(pki().self_signed().certificate, ""));
  EXPECT_FALSE(client->send(get(running), {}));
}

TEST(ReloadableClient, ARequestInFlightFinishesOnTheClientItStartedOn) {
  auto server = tls_server(pki().server());
  LocalServer running(*server);
  TrustedClients trust(pki().ca_certificate(), "");
  auto client = trust.make({});
  std::promise<Result<Response>> slow;
  client->send_async(get(running, "/slow"), {},
                     [&slow](Result<Response> result) { slow.set_value(std::move(result)); });
  // The new bundle does not hold the test CA: the slow request's client is the old one.
  ASSERT_TRUE(trust.reload(pki().self_signed().certificate, ""));
  auto* reloadable = dynamic_cast<ReloadableHttpClient*>(client.get());
  ASSERT_NE(reloadable, nullptr);
  EXPECT_EQ(reloadable->retired_clients(), 1u) << "the old client lives while its request runs";
  EXPECT_EQ(reloadable->options().tls.ca_bundle_path, pki().self_signed().certificate);
  auto finished = slow.get_future().get();
  ASSERT_TRUE(finished) << finished.error().message;
  EXPECT_EQ(finished->body, "slow");
  EXPECT_FALSE(client->send(get(running), {})) << "a new request uses the new trust";
  // Counters add up over both clients.
  EXPECT_EQ(client->stats().requests, 2u);
  // Once its callback is gone, nothing holds the old client; the next reload drops it.
  for (int i = 0; i < 200 && reloadable->retired_clients() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(reloadable->retired_clients(), 0u);
  ASSERT_TRUE(trust.reload(pki().ca_certificate(), ""));
  EXPECT_EQ(client->stats().requests, 2u) << "a dropped client's counters are kept";
  EXPECT_TRUE(client->send(get(running), {}));
}

TEST(ReloadableClient, ABrokenBundleIsRefusedAndTheTrustStays) {
  auto server = tls_server(pki().server());
  LocalServer running(*server);
  TrustedClients trust(pki().ca_certificate(), "");
  auto client = trust.make({});
  const std::string missing = (pki().directory() / "missing.pem").string();
  auto refused = trust.reload(missing, "http://proxy.invalid:3128");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("missing.pem"));
  EXPECT_THAT(refused.error().message, HasSubstr("[tls] ca_bundle"));
  EXPECT_EQ(trust.ca_bundle_path(), pki().ca_certificate());
  EXPECT_EQ(trust.proxy(), "");
  auto got = client->send(get(running), {});
  ASSERT_TRUE(got) << got.error().message;
}

/// Records the options each client was made with and the caps set on it.
struct Recorded {
  std::vector<ClientOptions> made;
  std::vector<std::pair<std::string, int>> budgets;
};

class RecordingClient final : public HttpClient {
 public:
  explicit RecordingClient(Recorded& recorded) : recorded_(recorded) {}
  Result<Response> send(const Request&, const Credentials&) override { return Response{}; }
  void send_async(Request, Credentials, std::function<void(Result<Response>)> done) override {
    done(Response{});
  }
  void set_budget_concurrency(std::string_view key, int limit) override {
    recorded_.budgets.emplace_back(std::string(key), limit);
  }

 private:
  Recorded& recorded_;
};

TEST(ReloadableClient, KeepsItsOwnOptionsAndRunTimeCapsAcrossAReload) {
  Recorded recorded;
  TrustedClients trust("/etc/a.pem", "", [&recorded](ClientOptions options) {
    recorded.made.push_back(options);
    return std::make_unique<RecordingClient>(recorded);
  });
  ClientOptions own;
  own.max_concurrency_per_host = 100'000;
  own.request_timeout = std::chrono::seconds(30);
  own.tls.ca_bundle_path = "/ignored.pem";  // the node's trust wins
  auto client = trust.make(own);
  client->set_budget_concurrency("svc@example.com|ews.example.com", 10);
  // The factory is not asked to read the file; reload checks it, so give it a real one.
  ASSERT_TRUE(trust.reload(pki().ca_certificate(), "http://proxy:3128"));
  ASSERT_EQ(recorded.made.size(), 2u);
  EXPECT_EQ(recorded.made[0].tls.ca_bundle_path, "/etc/a.pem");
  EXPECT_EQ(recorded.made[1].tls.ca_bundle_path, pki().ca_certificate());
  EXPECT_EQ(recorded.made[1].proxy, "http://proxy:3128");
  EXPECT_EQ(recorded.made[1].max_concurrency_per_host, 100'000);
  EXPECT_EQ(recorded.made[1].request_timeout, std::chrono::seconds(30));
  ASSERT_EQ(recorded.budgets.size(), 2u) << "the cap was set again on the new client";
  EXPECT_EQ(recorded.budgets[1],
            std::make_pair(std::string("svc@example.com|ews.example.com"), 10));
  // A client that is gone is not switched.
  client.reset();
  auto switched = trust.reload(pki().ca_certificate(), "");
  ASSERT_TRUE(switched);
  EXPECT_EQ(*switched, 0u);
}

}  // namespace
}  // namespace agendasync::net
