// Blocking sends on the callers' threads (BlockingSends::kOnCallersThread, what
// make_curl_client gives) next to the event loop's requests: one line of slots per key
// whichever thread waits, arrival order kept across both, many threads at once, a slot given
// back whatever way a request fails, one connection cache. The other rules are checked on both
// paths by the curl_client_*_test.cpp suites (testing::BothSends).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "net/curl_client.h"
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
using testing::InFlight;
using testing::LocalServer;

Request budgeted(std::string url, std::string key, int limit) {
  Request request;
  request.method = "GET";
  request.url = std::move(url);
  request.budget_key = std::move(key);
  request.budget_limit = limit;
  return request;
}

/// Waits (bounded) until the client has queued `count` requests for a cap in all.
bool queued(const HttpClient& client, std::uint64_t count) {
  for (int i = 0; i < 1000 && client.stats().queued_for_host_cap < count; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  return client.stats().queued_for_host_cap >= count;
}

TEST(CurlClientCallers, ABlockingSendRunsOnTheCallersThread) {
  httplib::Server server;
  server.Get("/r", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("busy", "text/plain");
  });
  LocalServer running(server);
  ClientOptions options;
  options.max_attempts = 1;
  Request request = budgeted(running.url("/r"), "", 0);
  std::thread::id asked_on;
  request.retry_response = [&asked_on](const Response&) {
    asked_on = std::this_thread::get_id();
    return false;
  };
  auto got = make_curl_client(options)->send(request, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 503);
  EXPECT_EQ(asked_on, std::this_thread::get_id()) << "the answer was read on another thread";

  asked_on = {};
  got = make_curl_client(options, BlockingSends::kOnTheLoop)->send(request, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_NE(asked_on, std::this_thread::get_id()) << "the loop path must stay available";
}

TEST(CurlClientCallers, CallersAndAsyncRequestsOfOneKeyWaitInOneLineInArrivalOrder) {
  // Key cap 1. The first request holds the slot until the server lets it go; meanwhile an
  // async, a blocking, an async and a blocking request queue up, in that order, each queued
  // before the next is sent. They must reach the server in that order.
  std::mutex mutex;
  std::vector<std::string> order;
  std::promise<void> let_go;
  auto released = let_go.get_future().share();
  httplib::Server server;
  server.Get("/r", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string who = req.get_param_value("who");
    {
      std::lock_guard lock(mutex);
      order.push_back(who);
    }
    if (who == "first") released.wait();
    res.set_content(who, "text/plain");
  });
  LocalServer running(server, 16);
  auto client = make_curl_client({});
  const auto url = [&](const char* who) { return running.url("/r?who=") + who; };

  std::thread first([&] { EXPECT_TRUE(client->send(budgeted(url("first"), "k", 1), {})); });
  for (int i = 0; i < 400 && order.empty(); ++i) std::this_thread::sleep_for(5ms);
  Completions asyncs(2);
  std::vector<std::thread> blocking;
  client->send_async(budgeted(url("a1"), "k", 1), {}, [&](Result<Response> r) {
    EXPECT_TRUE(r);
    asyncs.done();
  });
  ASSERT_TRUE(queued(*client, 1));
  blocking.emplace_back([&] { EXPECT_TRUE(client->send(budgeted(url("b1"), "k", 1), {})); });
  ASSERT_TRUE(queued(*client, 2));
  client->send_async(budgeted(url("a2"), "k", 1), {}, [&](Result<Response> r) {
    EXPECT_TRUE(r);
    asyncs.done();
  });
  ASSERT_TRUE(queued(*client, 3));
  blocking.emplace_back([&] { EXPECT_TRUE(client->send(budgeted(url("b2"), "k", 1), {})); });
  ASSERT_TRUE(queued(*client, 4));
  let_go.set_value();
  first.join();
  for (auto& caller : blocking) caller.join();
  ASSERT_TRUE(asyncs.wait());
  EXPECT_EQ(order, (std::vector<std::string>{"first", "a1", "b1", "a2", "b2"}));
}

TEST(CurlClientCallers, ManyThreadsAndAsyncRequestsOnOneKeyNeverExceedItsCap) {
  httplib::Server server;
  InFlight in_flight;
  server.Get("/r", [&](const httplib::Request&, httplib::Response& res) {
    in_flight.enter();
    in_flight.hold_until(3, 500ms);
    std::this_thread::sleep_for(2ms);
    in_flight.leave();
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server, 64);
  auto client = make_curl_client({});
  constexpr int kThreads = 24, kEach = 8, kAsync = 40;
  Completions asyncs(kAsync);
  std::atomic<int> ok{0};
  for (int i = 0; i < kAsync; ++i) {
    client->send_async(budgeted(running.url("/r"), "mailbox", 3), {}, [&](Result<Response> r) {
      if (r && r->status == 200) ++ok;
      asyncs.done();
    });
  }
  std::vector<std::thread> callers;
  for (int t = 0; t < kThreads; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto got = client->send(budgeted(running.url("/r"), "mailbox", 3), {});
        if (got && got->status == 200) ++ok;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  ASSERT_TRUE(asyncs.wait());
  EXPECT_EQ(ok.load(), kThreads * kEach + kAsync);
  EXPECT_EQ(in_flight.peak(), 3) << "the key's cap of 3, reached and never exceeded";
  EXPECT_EQ(client->stats().requests, static_cast<std::uint64_t>(kThreads * kEach + kAsync));
  EXPECT_EQ(client->stats().failed, 0u);
}

TEST(CurlClientCallers, AFailedBlockingSendGivesItsSlotBack) {
  // Cap 1 on a key shared by a dead server and a live one: after each way a blocking send can
  // fail (refused connection, timeout, pacing refusal), the next request of the key still runs.
  httplib::Server server;
  server.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.Get("/stuck", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(1000ms);
    res.set_content("late", "text/plain");
  });
  LocalServer running(server, 8);
  ClientOptions options;
  options.max_attempts = 2;
  options.backoff_base = 5ms;
  auto client = make_curl_client(options);
  const auto next_one_runs = [&] {
    auto next = std::async(std::launch::async,
                           [&] { return client->send(budgeted(running.url("/ok"), "k", 1), {}); });
    if (next.wait_for(10s) != std::future_status::ready) return false;
    auto got = next.get();
    return got && got->status == 200;
  };

  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::unused_port()) + "/";
  EXPECT_FALSE(client->send(budgeted(dead, "k", 1), {}));
  EXPECT_TRUE(next_one_runs()) << "a refused connection kept the slot";

  Request slow = budgeted(running.url("/stuck"), "k", 1);
  slow.timeout = 100ms;
  slow.retry_allowed = false;
  EXPECT_FALSE(client->send(slow, {}));
  EXPECT_TRUE(next_one_runs()) << "a timeout kept the slot";

  Request too_big = budgeted(running.url("/ok"), "k", 1);
  too_big.budget_rate = {2, 60'000ms};
  too_big.budget_cost = 3;
  auto refused = client->send(too_big, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kPermanent);
  EXPECT_TRUE(next_one_runs()) << "a pacing refusal kept the slot";
  EXPECT_EQ(client->stats().failed, 3u);
}

TEST(CurlClientCallers, BlockingAndAsyncRequestsShareKeptAliveConnections) {
  httplib::Server server;
  Connections connections;
  server.Get("/r", [&](const httplib::Request& req, httplib::Response& res) {
    connections.saw(req.remote_addr, req.remote_port);
    res.set_content("ok", "text/plain");
  });
  LocalServer running(server);
  auto client = make_curl_client({});
  Request request = budgeted(running.url("/r"), "", 0);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->send(request, {}));
    std::promise<bool> done;
    client->send_async(request, {}, [&](Result<Response> r) { done.set_value(r.has_value()); });
    ASSERT_TRUE(done.get_future().get());
  }
  EXPECT_EQ(connections.count(), 1u)
      << "one connection for requests in turn, whichever thread sent them";
}

}  // namespace
}  // namespace agendasync::net
