// Requests per second through the curl client (sequential on one kept-alive connection, async
// bursts under the per-server cap, over TLS) and through cpp-httplib's client as the peer.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "net/http.h"
#include "net/testing/local_server.h"
#include "net/testing/test_pki.h"

namespace {

using namespace agendasync;
using namespace std::chrono_literals;

const std::string kBody(2048, 'x');  // about a small EWS response

void add_routes(httplib::Server& server) {
  server.Get("/small", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kBody, "text/xml");
  });
  server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(100ms);
    res.set_content("ok", "text/plain");
  });
}

struct PlainServer {
  httplib::Server server;
  std::unique_ptr<net::testing::LocalServer<httplib::Server>> running;
  PlainServer() {
    add_routes(server);
    running = std::make_unique<net::testing::LocalServer<httplib::Server>>(server, 64);
  }
};

PlainServer& plain() {
  static PlainServer instance;
  return instance;
}

struct TlsServer {
  net::testing::TestPki pki;
  httplib::SSLServer server{pki.server().certificate.c_str(), pki.server().key.c_str()};
  std::unique_ptr<net::testing::LocalServer<httplib::SSLServer>> running;
  TlsServer() {
    add_routes(server);
    running = std::make_unique<net::testing::LocalServer<httplib::SSLServer>>(server, 64);
  }
};

TlsServer& tls() {
  static TlsServer instance;
  return instance;
}

net::Request get(std::string url) {
  net::Request request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

void BM_CurlClientSequentialGet(benchmark::State& state) {
  auto client = net::make_curl_client({});
  const auto request = get(plain().running->url("/small"));
  for (auto _ : state) {
    auto got = client->send(request, {});
    if (!got || got->body.size() != kBody.size()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CurlClientSequentialGet)->UseRealTime();

/// Without compression: the test server's brotli at its default (best, slowest) quality
/// dominates small responses; this isolates the transport.
void BM_CurlClientSequentialGetIdentity(benchmark::State& state) {
  auto client = net::make_curl_client({});
  auto request = get(plain().running->url("/small"));
  request.headers.emplace_back("Accept-Encoding", "identity");
  for (auto _ : state) {
    auto got = client->send(request, {});
    if (!got || got->body.size() != kBody.size()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CurlClientSequentialGetIdentity)->UseRealTime();

void BM_HttplibClientSequentialGet(benchmark::State& state) {
  httplib::Client client("127.0.0.1", plain().running->port());
  client.set_keep_alive(true);
  for (auto _ : state) {
    auto got = client.Get("/small");
    if (!got || got->body.size() != kBody.size()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttplibClientSequentialGet)->UseRealTime();

void BM_CurlClientSequentialGetTls(benchmark::State& state) {
  net::ClientOptions options;
  options.tls.ca_bundle_path = tls().pki.ca_certificate();
  auto client = net::make_curl_client(options);
  const auto request = get(tls().running->url("/small", "https"));
  for (auto _ : state) {
    auto got = client->send(request, {});
    if (!got || got->body.size() != kBody.size()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CurlClientSequentialGetTls)->UseRealTime();

void BM_HttplibClientSequentialGetTls(benchmark::State& state) {
  httplib::SSLClient client("127.0.0.1", tls().running->port());
  client.set_ca_cert_path(tls().pki.ca_certificate().c_str());
  client.enable_server_certificate_verification(true);
  client.set_keep_alive(true);
  for (auto _ : state) {
    auto got = client.Get("/small");
    if (!got || got->body.size() != kBody.size()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttplibClientSequentialGetTls)->UseRealTime();

/// `count` async requests to `path` at once; waits for all.
void burst(net::HttpClient& client, const std::string& url, int count) {
  std::mutex mutex;
  std::condition_variable done;
  int left = count;
  for (int i = 0; i < count; ++i) {
    client.send_async(get(url), {}, [&](Result<net::Response>) {
      std::lock_guard lock(mutex);
      if (--left == 0) done.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return left == 0; });
}

void BM_CurlClientAsyncBurst(benchmark::State& state) {
  net::ClientOptions options;
  options.max_concurrency_per_host = static_cast<int>(state.range(1));
  auto client = net::make_curl_client(options);
  const int count = static_cast<int>(state.range(0));
  // Open the connections before timing: cpp-httplib listens with a backlog of 5, so 20
  // simultaneous connects lose SYNs and pay the kernel's 1 s SYN retransmit once.
  burst(*client, plain().running->url("/small"), count);
  for (auto _ : state) burst(*client, plain().running->url("/small"), count);
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_CurlClientAsyncBurst)->Args({1000, 20})->Args({1000, 4})->UseRealTime();

/// 200 requests the server holds 100 ms each: serially 20 s; the cap of 20 makes ~1 s.
void BM_CurlClient200SlowRequests(benchmark::State& state) {
  auto client = net::make_curl_client({});
  burst(*client, plain().running->url("/slow"), 20);  // connections first, as above
  for (auto _ : state) burst(*client, plain().running->url("/slow"), 200);
  state.SetItemsProcessed(state.iterations() * 200);
}
BENCHMARK(BM_CurlClient200SlowRequests)
    ->Iterations(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
