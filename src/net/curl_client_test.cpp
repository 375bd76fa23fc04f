// The curl client against real HTTP servers on 127.0.0.1: methods, headers and bodies,
// parallelism on few threads, connection reuse, the per-server cap and budget keys, timeouts,
// shutdown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/client_test_support.h"
#include "net/testing/local_server.h"
#include "net/testing/raw_server.h"

namespace agendasync::net {
namespace {

using namespace std::chrono_literals;
using testing::Completions;
using testing::Connections;
using ::testing::HasSubstr;
using testing::InFlight;
using testing::LocalServer;
using Clock = std::chrono::steady_clock;

Request get(std::string url) {
  Request request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

/// Threads of this process, from /proc.
int process_threads() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++count;
  }
  return count;
}

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

class CurlClientTest : public testing::BothSends {};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientTest);

TEST_P(CurlClientTest, GetAndPostCarryHeadersAndBodies) {
  httplib::Server server;
  server.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Served-By", "test");
    res.set_content("hello " + req.get_header_value("X-Caller"), "text/plain");
  });
  server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 201;
    res.set_content(req.get_header_value("Content-Type") + "|" + req.body, "text/plain");
  });
  LocalServer running(server);
  auto client = make_client({});

  Request hello = get(running.url("/hello"));
  hello.headers.emplace_back("X-Caller", "agendasync");
  auto got = client->send(hello, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "hello agendasync");
  EXPECT_EQ(got->header("x-served-by"), "test");
  EXPECT_EQ(got->header("X-Served-By"), "test");
  EXPECT_EQ(got->remote_address, "127.0.0.1:" + std::to_string(running.port()));
  EXPECT_EQ(got->tls_version, "");
  EXPECT_EQ(got->attempts, 1);

  Request post;
  post.url = running.url("/echo");
  post.headers.emplace_back("Content-Type", "text/xml; charset=utf-8");
  post.body = std::string(5000, 'x') + "<end/>";  // larger than curl's Expect threshold
  auto posted = client->send(post, {});
  ASSERT_TRUE(posted) << posted.error().message;
  EXPECT_EQ(posted->status, 201);
  EXPECT_EQ(posted->body, "text/xml; charset=utf-8|" + post.body);
}

TEST_P(CurlClientTest, OtherMethodsReachTheServerWithTheirBodies) {
  httplib::Server server;
  const auto echo = [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.method + ":" + req.body, "text/plain");
  };
  server.Put("/r", echo);
  server.Patch("/r", echo);
  server.Delete("/r", echo);
  LocalServer running(server);
  auto client = make_client({});
  for (const char* method : {"PUT", "PATCH", "DELETE"}) {
    Request request;
    request.method = method;
    request.url = running.url("/r");
    request.body = "{}";
    auto got = client->send(request, {});
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->body, std::string(method) + ":{}");
  }
}

TEST_P(CurlClientTest, NonSuccessStatusesComeBackAsResponses) {
  httplib::Server server;
  server.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("no such item", "text/plain");
  });
  LocalServer running(server);
  auto client = make_client({});
  auto got = client->send(get(running.url("/missing")), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 404);
  EXPECT_EQ(got->body, "no such item");
}

TEST_P(CurlClientTest, TwoHundredSlowRequestsRunInParallelOnFewThreads) {
  httplib::Server server;
  server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(100ms);
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server, 64);
  // One request first, so the server's thread pool is complete before threads are counted.
  ASSERT_TRUE(httplib::Client("127.0.0.1", running.port()).Get("/slow"));
  const int threads_before = process_threads();
  auto client = make_client({});  // default cap: 20 per server
  constexpr int kRequests = 200;
  Completions completions(kRequests);
  std::atomic<int> ok{0};
  const auto start = Clock::now();
  for (int i = 0; i < kRequests; ++i) {
    client->send_async(get(running.url("/slow")), {}, [&](Result<Response> result) {
      if (result && result->status == 200) ++ok;
      completions.done();
    });
  }
  std::this_thread::sleep_for(300ms);  // mid-burst: 20 requests in flight
  const int client_threads = process_threads() - threads_before;
  ASSERT_TRUE(completions.wait());
  const long took = elapsed_ms(start);
  EXPECT_EQ(ok.load(), kRequests);
  // One event loop, two callback and two token workers: not a thread per request.
  EXPECT_LE(client_threads, 5);
  // Serially 20 s; with 20 in flight about 1 s. Allow a slow shared machine.
  EXPECT_LT(took, 6000) << "200 requests of 100 ms took " << took << " ms";
  RecordProperty("two_hundred_100ms_requests_ms", std::to_string(took));
}

TEST_P(CurlClientTest, ConnectionsAreReused) {
  httplib::Server server;
  Connections connections;
  server.Get("/r", [&](const httplib::Request& req, httplib::Response& res) {
    connections.saw(req.remote_addr, req.remote_port);
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server);
  auto client = make_client({});
  for (int i = 0; i < 50; ++i) {
    auto got = client->send(get(running.url("/r")), {});
    ASSERT_TRUE(got) << got.error().message;
  }
  EXPECT_EQ(connections.count(), 1u) << "50 sequential requests should share one connection";

  Completions completions(100);
  for (int i = 0; i < 100; ++i) {
    client->send_async(get(running.url("/r")), {}, [&](Result<Response>) { completions.done(); });
  }
  ASSERT_TRUE(completions.wait());
  EXPECT_LE(connections.count(), 21u) << "at most one connection per in-flight slot";
}

TEST_P(CurlClientTest, ThePerServerCapHoldsAcrossBlockingAndAsyncCallers) {
  httplib::Server server;
  InFlight in_flight;
  server.Get("/r", [&](const httplib::Request&, httplib::Response& res) {
    in_flight.enter();
    in_flight.hold_until(4, 1000ms);
    std::this_thread::sleep_for(10ms);
    in_flight.leave();
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server, 32);
  ClientOptions options;
  options.max_concurrency_per_host = 4;
  auto client = make_client(options);

  Completions completions(20);
  for (int i = 0; i < 20; ++i) {
    client->send_async(get(running.url("/r")), {}, [&](Result<Response>) { completions.done(); });
  }
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (auto got = client->send(get(running.url("/r")), {}); got && got->status == 200) ++ok;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  ASSERT_TRUE(completions.wait());
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(in_flight.peak(), 4) << "never above the cap of 4, and the cap is used";
  EXPECT_GT(client->stats().queued_for_host_cap, 0u);
}

TEST_P(CurlClientTest, TheCapCanBeLoweredAtRunTime) {
  httplib::Server server;
  InFlight in_flight;
  std::atomic<int> expected_cap{8};
  server.Get("/r", [&](const httplib::Request&, httplib::Response& res) {
    in_flight.enter();
    in_flight.hold_until(expected_cap, 1000ms);
    std::this_thread::sleep_for(10ms);
    in_flight.leave();
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server, 32);
  ClientOptions options;
  options.max_concurrency_per_host = 8;
  auto client = make_client(options);
  const auto burst = [&](int count) {
    Completions completions(count);
    for (int i = 0; i < count; ++i) {
      client->send_async(get(running.url("/r")), {}, [&](Result<Response>) { completions.done(); });
    }
    return completions.wait();
  };
  ASSERT_TRUE(burst(24));
  EXPECT_EQ(in_flight.peak(), 8);

  // Any URL on the server names it; another server keeps its own cap.
  client->set_host_concurrency(running.url("/EWS/Exchange.asmx"), 2);
  expected_cap = 2;
  in_flight.reset_peak();
  ASSERT_TRUE(burst(12));
  EXPECT_EQ(in_flight.peak(), 2);

  client->set_host_concurrency(running.url("/"), 6);
  expected_cap = 6;
  in_flight.reset_peak();
  ASSERT_TRUE(burst(18));
  EXPECT_EQ(in_flight.peak(), 6);
}

TEST_P(CurlClientTest, EachServerHasItsOwnCap) {
  // Two servers, cap 2 each: lowering one leaves the other alone; a bad URL changes nothing.
  httplib::Server first_server, second_server;
  InFlight first, second;
  const auto handler = [](InFlight& in_flight, int cap) {
    return [&in_flight, cap](const httplib::Request&, httplib::Response& res) {
      in_flight.enter();
      in_flight.hold_until(cap, 1000ms);
      std::this_thread::sleep_for(10ms);
      in_flight.leave();
      res.set_content("ok", "text/plain");
    };
  };
  first_server.Get("/r", handler(first, 1));
  second_server.Get("/r", handler(second, 3));
  LocalServer first_running(first_server, 16);
  LocalServer second_running(second_server, 16);
  ClientOptions options;
  options.max_concurrency_per_host = 3;
  auto client = make_client(options);
  client->set_host_concurrency("not a url", 1);
  client->set_host_concurrency(first_running.url("/"), 1);
  Completions completions(24);
  for (int i = 0; i < 12; ++i) {
    client->send_async(get(first_running.url("/r")), {},
                       [&](Result<Response>) { completions.done(); });
    client->send_async(get(second_running.url("/r")), {},
                       [&](Result<Response>) { completions.done(); });
  }
  ASSERT_TRUE(completions.wait());
  EXPECT_EQ(first.peak(), 1);
  EXPECT_EQ(second.peak(), 3);
}

TEST_P(CurlClientTest, LoweringTheCapWhileRequestsRunHoldsTheRestBack) {
  httplib::Server server;
  InFlight in_flight;
  std::atomic<int> started{0};
  server.Get("/r", [&](const httplib::Request&, httplib::Response& res) {
    in_flight.enter();
    ++started;
    std::this_thread::sleep_for(150ms);
    in_flight.leave();
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server, 32);
  ClientOptions options;
  options.max_concurrency_per_host = 8;
  auto client = make_client(options);
  Completions completions(24);
  for (int i = 0; i < 24; ++i) {
    client->send_async(get(running.url("/r")), {}, [&](Result<Response>) { completions.done(); });
  }
  for (int i = 0; i < 200 && started.load() < 8; ++i) std::this_thread::sleep_for(5ms);
  client->set_host_concurrency(running.url("/"), 2);
  // The first eight finish after ~150 ms; from then on at most two run at once.
  std::this_thread::sleep_for(250ms);
  in_flight.reset_peak();
  ASSERT_TRUE(completions.wait());
  EXPECT_LE(in_flight.peak(), 2);
}

/// A GET that spends the budget `key` (capped at `limit` when first met).
Request budgeted(std::string url, std::string key, int limit = 0) {
  Request request = get(std::move(url));
  request.budget_key = std::move(key);
  request.budget_limit = limit;
  return request;
}

TEST_P(CurlClientTest, EachBudgetKeyOnOneHostGetsItsFullConcurrency) {
  // Two tenants' mailboxes on one host (graph.microsoft.com): each key gets its own 4 slots,
  // and the host's cap (2 here) does not hold them back; alone, one key stays at 4.
  httplib::Server server;
  InFlight all, first, second;
  std::atomic<int> together{8};
  server.Get("/r", [&](const httplib::Request& req, httplib::Response& res) {
    InFlight& mine = req.get_param_value("key") == "first" ? first : second;
    all.enter();
    mine.enter();
    all.hold_until(together, 1000ms);
    std::this_thread::sleep_for(10ms);
    mine.leave();
    all.leave();
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server, 32);
  ClientOptions options;
  options.max_concurrency_per_host = 2;
  auto client = make_client(options);

  Completions completions(32);
  for (int i = 0; i < 16; ++i) {
    client->send_async(budgeted(running.url("/r?key=first"), "tenant-a|mailbox", 4), {},
                       [&](Result<Response>) { completions.done(); });
    client->send_async(budgeted(running.url("/r?key=second"), "tenant-b|mailbox", 4), {},
                       [&](Result<Response>) { completions.done(); });
  }
  ASSERT_TRUE(completions.wait());
  EXPECT_EQ(first.peak(), 4);
  EXPECT_EQ(second.peak(), 4);
  EXPECT_EQ(all.peak(), 8) << "both keys at their full budget at once, above the host's cap";

  // One key alone is capped at its limit, whatever the host's cap.
  together = 4;
  all.reset_peak();
  first.reset_peak();
  Completions alone(12);
  for (int i = 0; i < 12; ++i) {
    client->send_async(budgeted(running.url("/r?key=first"), "tenant-a|mailbox", 4), {},
                       [&](Result<Response>) { alone.done(); });
  }
  ASSERT_TRUE(alone.wait());
  EXPECT_EQ(first.peak(), 4);
  EXPECT_EQ(all.peak(), 4);
}

TEST_P(CurlClientTest, RequestsWithoutABudgetKeyKeepTheHostCapAndABudgetCapCanBeLowered) {
  httplib::Server server;
  InFlight in_flight;
  std::atomic<int> expected{2};
  server.Get("/r", [&](const httplib::Request&, httplib::Response& res) {
    in_flight.enter();
    in_flight.hold_until(expected, 1000ms);
    std::this_thread::sleep_for(10ms);
    in_flight.leave();
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server, 32);
  ClientOptions options;
  options.max_concurrency_per_host = 2;
  auto client = make_client(options);
  const auto burst = [&](auto make, int count) {
    Completions completions(count);
    for (int i = 0; i < count; ++i) {
      client->send_async(make(), {}, [&](Result<Response>) { completions.done(); });
    }
    return completions.wait();
  };
  // The token endpoint's requests carry no key: the host's cap of 2.
  ASSERT_TRUE(burst([&] { return get(running.url("/r")); }, 8));
  EXPECT_EQ(in_flight.peak(), 2);
  // A key without a limit of its own starts at the client's default (the host cap's value).
  expected = 2;
  in_flight.reset_peak();
  ASSERT_TRUE(burst([&] { return budgeted(running.url("/r"), "svc|server"); }, 8));
  EXPECT_EQ(in_flight.peak(), 2);
  // EWS lowers an account's budget on ErrorExceededConnectionCount, and raises nothing else.
  expected = 6;
  client->set_budget_concurrency("svc|server", 6);
  in_flight.reset_peak();
  ASSERT_TRUE(burst([&] { return budgeted(running.url("/r"), "svc|server"); }, 18));
  EXPECT_EQ(in_flight.peak(), 6);
  client->set_budget_concurrency("svc|server", 1);
  expected = 1;
  in_flight.reset_peak();
  ASSERT_TRUE(burst([&] { return budgeted(running.url("/r"), "svc|server"); }, 4));
  EXPECT_EQ(in_flight.peak(), 1);
}

TEST_P(CurlClientTest, ARequestTimeoutEndsASlowAnswer) {
  httplib::Server server;
  server.Get("/stuck", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(1500ms);
    res.set_content("late", "text/plain");
  });
  LocalServer running(server);
  ClientOptions options;
  options.max_attempts = 1;
  auto client = make_client(options);
  Request request = get(running.url("/stuck"));
  request.timeout = 200ms;
  const auto start = Clock::now();
  auto got = client->send(request, {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kTransient);
  EXPECT_THAT(got.error().message, HasSubstr("did not answer completely within 200 ms"));
  EXPECT_THAT(got.error().message, HasSubstr("127.0.0.1:" + std::to_string(running.port())));
  EXPECT_LT(elapsed_ms(start), 1200);
}

TEST_P(CurlClientTest, TheClientTimeoutAppliesWhenTheRequestHasNone) {
  httplib::Server server;
  server.Get("/stuck", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(1500ms);
    res.set_content("late", "text/plain");
  });
  LocalServer running(server);
  ClientOptions options;
  options.max_attempts = 1;
  options.request_timeout = 250ms;
  auto client = make_client(options);
  auto got = client->send(get(running.url("/stuck")), {});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("within 250 ms"));
}

TEST_P(CurlClientTest, ARefusedConnectionNamesHostAndPort) {
  const int port = testing::unused_port();
  ClientOptions options;
  options.max_attempts = 2;
  options.backoff_base = 10ms;
  auto client = make_client(options);
  auto got = client->send(get("http://127.0.0.1:" + std::to_string(port) + "/"), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kTransient);
  EXPECT_THAT(got.error().message,
              HasSubstr("cannot connect to 127.0.0.1:" + std::to_string(port)));
  EXPECT_THAT(got.error().message, HasSubstr("gave up after 2 attempts"));
  EXPECT_EQ(client->stats().attempts, 2u);
  EXPECT_EQ(client->stats().failed, 1u);
}

TEST_P(CurlClientTest, ABadUrlIsInvalidData) {
  auto client = make_client({});
  auto got = client->send(get("mailto:someone@example.com"), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kInvalidData);
}

TEST_P(CurlClientTest, DestroyingTheClientCompletesEveryPendingRequest) {
  httplib::Server server;
  server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(300ms);
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server);
  std::atomic<int> called{0};
  std::atomic<int> shut_down{0};
  {
    ClientOptions options;
    options.max_concurrency_per_host = 2;
    auto client = make_client(options);
    for (int i = 0; i < 10; ++i) {
      client->send_async(get(running.url("/slow")), {}, [&](Result<Response> result) {
        ++called;
        if (!result && result.error().message.find("shut down") != std::string::npos) {
          ++shut_down;
        }
      });
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(called.load(), 10);
  EXPECT_EQ(shut_down.load(), 10);
}

std::string chunk(std::string_view data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

TEST_P(CurlClientTest, StreamedBodiesArriveAsTheyAreSentAndTheCallerCanStop) {
  // Like GetStreamingEvents: one chunked response, notifications minutes apart.
  std::atomic<bool> first_piece_seen{false};
  std::atomic<bool> server_waited_in_vain{false};
  testing::RawServer server([&](int fd, int) {
    if (testing::read_http_request(fd).empty()) return;
    testing::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    testing::send_all(fd, chunk("<Envelope>one</Envelope>"));
    for (int i = 0; i < 300 && !first_piece_seen; ++i) std::this_thread::sleep_for(10ms);
    if (!first_piece_seen) server_waited_in_vain = true;
    testing::send_all(fd, chunk("<Envelope>two</Envelope>"));
    // Never ends the response: the client has to stop it.
    testing::read_http_request(fd, 3000ms);
  });
  std::vector<std::string> pieces;
  Request request = get("http://127.0.0.1:" + std::to_string(server.port()) + "/stream");
  request.on_body_piece = [&](std::string_view piece) {
    pieces.emplace_back(piece);
    first_piece_seen = true;
    return piece.find("two") == std::string_view::npos;
  };
  const auto start = Clock::now();
  auto got = make_client({})->send(request, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "");
  EXPECT_FALSE(server_waited_in_vain) << "the first piece was not handed over before the second";
  EXPECT_EQ(pieces,
            (std::vector<std::string>{"<Envelope>one</Envelope>", "<Envelope>two</Envelope>"}));
  EXPECT_LT(elapsed_ms(start), 2500);
}

TEST_P(CurlClientTest, ASilentStreamEndsSoonAfterItIsCancelled) {
  // The server sends one piece and then nothing at all (no keep-alive): only the cancel flag
  // can end the transfer before the server's own timeout.
  testing::RawServer server([](int fd, int) {
    if (testing::read_http_request(fd).empty()) return;
    testing::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    testing::send_all(fd, chunk("<Envelope>one</Envelope>"));
    testing::read_http_request(fd, 10000ms);
  });
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  std::atomic<bool> first_piece{false};
  Request request = get("http://127.0.0.1:" + std::to_string(server.port()) + "/stream");
  request.timeout = 20000ms;
  request.cancel = cancel;
  request.on_body_piece = [&](std::string_view) { return first_piece = true; };
  auto client = make_client({});
  std::promise<Result<Response>> ended;
  client->send_async(request, {}, [&](Result<Response> got) { ended.set_value(std::move(got)); });
  for (int i = 0; i < 500 && !first_piece; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(first_piece);
  const auto start = Clock::now();
  cancel->store(true);
  auto got = ended.get_future().get();
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_LT(elapsed_ms(start), 2500);
}

TEST_P(CurlClientTest, ABrokenStreamIsNotReplayed) {
  testing::RawServer server([](int fd, int) {
    if (testing::read_http_request(fd).empty()) return;
    testing::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    testing::send_all(fd, chunk("<Envelope>one</Envelope>"));
    testing::arm_reset(fd);
  });
  ClientOptions options;
  options.backoff_base = 1ms;
  Request request = get("http://127.0.0.1:" + std::to_string(server.port()) + "/stream");
  int pieces = 0;
  request.on_body_piece = [&](std::string_view) { return ++pieces > 0; };
  auto got = make_client(options)->send(request, {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kTransient);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(pieces, 1);
}

TEST_P(CurlClientTest, AThrowingStreamHandlerEndsTheTransferWithAnError) {
  httplib::Server server;
  server.Get("/stream", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<Envelope/>", "text/xml");
  });
  LocalServer running(server);
  Request request = get(running.url("/stream"));
  request.on_body_piece = [](std::string_view) -> bool { throw std::runtime_error("parser bug"); };
  auto got = make_client({})->send(request, {});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("handler for the streamed answer"));
}

TEST_P(CurlClientTest, ErrorBodiesOfStreamedRequestsAreCollectedAsUsual) {
  httplib::Server server;
  server.Get("/stream", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("<Envelope>ErrorServerBusy</Envelope>", "text/xml");
  });
  LocalServer running(server);
  Request request = get(running.url("/stream"));
  request.retry_allowed = false;
  bool called = false;
  request.on_body_piece = [&](std::string_view) { return called = true; };
  auto got = make_client({})->send(request, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 500);
  EXPECT_EQ(got->body, "<Envelope>ErrorServerBusy</Envelope>");
  EXPECT_FALSE(called);
}

TEST_P(CurlClientTest, EnvironmentProxiesAreIgnored) {
  // A proxy variable pointing nowhere must not divert requests: only the setting counts.
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(testing::unused_port());
  setenv("http_proxy", nowhere.c_str(), 1);
  setenv("HTTPS_PROXY", nowhere.c_str(), 1);
  httplib::Server server;
  server.Get("/r", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("direct", "text/plain");
  });
  LocalServer running(server);
  auto client = make_client({});
  auto got = client->send(get(running.url("/r")), {});
  unsetenv("http_proxy");
  unsetenv("HTTPS_PROXY");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "direct");
}

}  // namespace
}  // namespace agendasync::net
