// Retries against real servers on 127.0.0.1: 5xx and broken connections are retried with
// backoff up to max_attempts, 4xx never, Retry-After is the wait, retry_allowed=false is one
// attempt. Server-side hit counts prove the numbers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <future>
#include <thread>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/local_server.h"
#include "net/testing/raw_server.h"

namespace agendasync::net {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::LocalServer;
using testing::RawServer;
using Clock = std::chrono::steady_clock;

ClientOptions quick_retries(int attempts = 4) {
  ClientOptions options;
  options.max_attempts = attempts;
  options.backoff_base = 20ms;
  options.backoff_max = 5000ms;
  return options;
}

Request get(std::string url) {
  Request request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

/// A server answering the n-th request (0-based) with `statuses[n]`, then 200.
struct ScriptedServer {
  httplib::Server server;
  std::atomic<int> hits{0};
  explicit ScriptedServer(std::vector<int> statuses,
                          std::function<void(int, httplib::Response&)> extra = {}) {
    server.Get("/r", [this, statuses, extra](const httplib::Request&, httplib::Response& res) {
      const int n = hits++;
      res.status = n < static_cast<int>(statuses.size()) ? statuses[n] : 200;
      if (extra) extra(n, res);
      res.set_content("answer " + std::to_string(n), "text/plain");
    });
  }
};

class CurlClientRetryTest : public testing::BothSends {};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientRetryTest);

TEST_P(CurlClientRetryTest, ServerErrorsAreRetriedUntilSuccess) {
  ScriptedServer scripted({500, 502, 503});
  LocalServer running(scripted.server);
  auto client = make_client(quick_retries(4));
  auto got = client->send(get(running.url("/r")), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "answer 3");
  EXPECT_EQ(got->attempts, 4);
  EXPECT_EQ(scripted.hits.load(), 4);
  const auto stats = client->stats();
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.attempts, 4u);
  EXPECT_EQ(stats.retries, 3u);
  EXPECT_EQ(stats.retry_wait_ms, static_cast<std::uint64_t>(got->retry_wait.count()));
}

TEST_P(CurlClientRetryTest, MaxAttemptsBoundsServerErrors) {
  ScriptedServer scripted(std::vector<int>(100, 503));
  LocalServer running(scripted.server);
  auto got = make_client(quick_retries(3))->send(get(running.url("/r")), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 503) << "the last answer comes back for the connector to read";
  EXPECT_EQ(got->attempts, 3);
  EXPECT_EQ(scripted.hits.load(), 3);
}

TEST_P(CurlClientRetryTest, ClientErrorsAreNotRetried) {
  for (int status : {400, 403, 404, 409}) {
    ScriptedServer scripted({status});
    LocalServer running(scripted.server);
    auto got = make_client(quick_retries())->send(get(running.url("/r")), {});
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->status, status);
    EXPECT_EQ(scripted.hits.load(), 1) << status;
  }
}

TEST_P(CurlClientRetryTest, RetryNotAllowedMeansOneAttempt) {
  ScriptedServer scripted({503, 503});
  LocalServer running(scripted.server);
  Request request = get(running.url("/r"));
  request.retry_allowed = false;
  auto got = make_client(quick_retries())->send(request, {});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 503);
  EXPECT_EQ(scripted.hits.load(), 1);
}

TEST_P(CurlClientRetryTest, TheRequestCanKeepA5xxForItself) {
  ScriptedServer scripted({500});
  LocalServer running(scripted.server);
  Request request = get(running.url("/r"));
  request.retry_response = [](const Response& response) {
    return response.body.find("answer") == std::string::npos;  // "a SOAP fault": keep it
  };
  auto got = make_client(quick_retries())->send(request, {});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 500);
  EXPECT_EQ(scripted.hits.load(), 1);
}

TEST_P(CurlClientRetryTest, RetryAfterSecondsIsTheWait) {
  ScriptedServer scripted({429}, [](int n, httplib::Response& res) {
    if (n == 0) res.set_header("Retry-After", "1");
  });
  LocalServer running(scripted.server);
  const auto start = Clock::now();
  auto got = make_client(quick_retries())->send(get(running.url("/r")), {});
  const auto took = Clock::now() - start;
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->retry_wait, 1000ms);
  EXPECT_GE(took, 1000ms);
  EXPECT_LT(took, 2500ms);
  EXPECT_EQ(scripted.hits.load(), 2);
}

TEST_P(CurlClientRetryTest, RetryAfterAsAnHttpDateIsTheWait) {
  ScriptedServer scripted({503}, [](int n, httplib::Response& res) {
    if (n != 0) return;
    const std::time_t when = std::time(nullptr) + 2;
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&when));
    res.set_header("Retry-After", date);
  });
  LocalServer running(scripted.server);
  const auto start = Clock::now();
  auto got = make_client(quick_retries())->send(get(running.url("/r")), {});
  const auto took = Clock::now() - start;
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  // Whole seconds: "now + 2 s" read a moment later is a wait of 1 or 2 s.
  EXPECT_GE(got->retry_wait, 1000ms);
  EXPECT_LE(got->retry_wait, 2000ms);
  EXPECT_GE(took, got->retry_wait);
}

TEST_P(CurlClientRetryTest, ALongRetryAfterIsHandedBackNotWaitedOut) {
  ScriptedServer scripted(
      {503}, [](int, httplib::Response& res) { res.set_header("Retry-After", "120"); });
  LocalServer running(scripted.server);
  auto got = make_client(quick_retries())->send(get(running.url("/r")), {});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 503);
  EXPECT_EQ(retry_after(*got), 120'000ms);
  EXPECT_EQ(scripted.hits.load(), 1);
}

const std::string kOk =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

TEST_P(CurlClientRetryTest, AResetConnectionIsRetried) {
  RawServer server([](int fd, int index) {
    if (testing::read_http_request(fd).empty()) return;
    if (index < 2) {
      testing::arm_reset(fd);  // the close after this handler sends RST
      return;
    }
    testing::send_all(fd, kOk);
  });
  auto client = make_client(quick_retries(4));
  auto got = client->send(get("http://127.0.0.1:" + std::to_string(server.port()) + "/"), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "ok");
  EXPECT_EQ(got->attempts, 3);
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(client->stats().transport_errors, 2u);
}

TEST_P(CurlClientRetryTest, ATruncatedBodyIsRetried) {
  RawServer server([](int fd, int index) {
    if (testing::read_http_request(fd).empty()) return;
    if (index == 0) {
      testing::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
      return;
    }
    testing::send_all(fd, kOk);
  });
  auto got = make_client(quick_retries())
                 ->send(get("http://127.0.0.1:" + std::to_string(server.port()) + "/"), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "ok");
  EXPECT_EQ(got->attempts, 2);
}

TEST_P(CurlClientRetryTest, ResetsGiveUpAfterMaxAttemptsAndRespectRetryAllowed) {
  RawServer server([](int fd, int) {
    if (testing::read_http_request(fd).empty()) return;
    testing::arm_reset(fd);
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto got = make_client(quick_retries(3))->send(get(url), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kTransient);
  EXPECT_THAT(got.error().message, HasSubstr("gave up after 3 attempts"));
  EXPECT_EQ(server.connections(), 3);

  Request once = get(url);
  once.retry_allowed = false;
  got = make_client(quick_retries(3))->send(once, {});
  ASSERT_FALSE(got);
  EXPECT_EQ(server.connections(), 4);
}

TEST_P(CurlClientRetryTest, BackoffGrowsWithFullJitterWithinItsCap) {
  // 5 failures at base 100 ms: caps 100+200+400+800 = 1500 ms at most in total.
  ScriptedServer scripted(std::vector<int>(4, 502));
  LocalServer running(scripted.server);
  ClientOptions options;
  options.max_attempts = 5;
  options.backoff_base = 100ms;
  options.backoff_max = 10'000ms;
  auto got = make_client(options)->send(get(running.url("/r")), {});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->attempts, 5);
  EXPECT_GE(got->retry_wait, 0ms);
  EXPECT_LE(got->retry_wait, 1500ms);
}

TEST_P(CurlClientRetryTest, WaitingRetriesDoNotHoldAConcurrencySlot) {
  // Cap 1: a request waiting out a 1 s Retry-After must not block another request.
  httplib::Server server;
  std::atomic<int> throttled_hits{0};
  server.Get("/throttled", [&](const httplib::Request&, httplib::Response& res) {
    if (throttled_hits++ == 0) {
      res.status = 429;
      res.set_header("Retry-After", "1");
    }
  });
  server.Get("/quick", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("quick", "text/plain");
  });
  LocalServer running(server);
  ClientOptions options = quick_retries();
  options.max_concurrency_per_host = 1;
  auto client = make_client(options);
  std::promise<Result<Response>> slow;
  client->send_async(get(running.url("/throttled")), {},
                     [&](Result<Response> result) { slow.set_value(std::move(result)); });
  std::this_thread::sleep_for(200ms);
  const auto start = Clock::now();
  auto quick = client->send(get(running.url("/quick")), {});
  EXPECT_LT(Clock::now() - start, 700ms);
  ASSERT_TRUE(quick);
  EXPECT_EQ(quick->body, "quick");
  auto throttled = slow.get_future().get();
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->status, 200);
}

}  // namespace
}  // namespace agendasync::net
