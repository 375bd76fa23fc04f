// Request::budget_rate against a real server on 127.0.0.1: requests beyond the rate are held
// back (not sent, not refused) until the window has room; a wait beyond max_pacing_wait ends
// the request kThrottled without sending it; a batch counts its cost.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <vector>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/local_server.h"

namespace agendasync::net {
namespace {

using namespace std::chrono_literals;
using testing::LocalServer;
using Clock = std::chrono::steady_clock;

struct CountingServer {
  httplib::Server server;
  std::mutex mutex;
  std::vector<Clock::time_point> arrivals;
  CountingServer() {
    server.Get("/r", [this](const httplib::Request&, httplib::Response& res) {
      {
        std::lock_guard lock(mutex);
        arrivals.push_back(Clock::now());
      }
      res.set_content("ok", "text/plain");
    });
  }
};

Request paced_get(const std::string& url, RequestRate rate, int cost = 1) {
  Request request;
  request.method = "GET";
  request.url = url;
  request.budget_key = "app|mailbox:pace@example.com";
  request.budget_rate = rate;
  request.budget_cost = cost;
  return request;
}

class CurlClientPacing : public testing::BothSends {};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientPacing);

TEST_P(CurlClientPacing, RequestsBeyondTheRateWaitForRoomAndAllArrive) {
  CountingServer counting;
  LocalServer running(counting.server);
  auto client = make_client({});
  const RequestRate rate{5, 1000ms};
  const auto started = Clock::now();
  std::vector<std::future<Result<Response>>> answers;
  for (int i = 0; i < 12; ++i) {
    answers.push_back(std::async(
        std::launch::async, [&] { return client->send(paced_get(running.url("/r"), rate), {}); }));
  }
  for (auto& answer : answers) {
    auto got = answer.get();
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->status, 200);
  }
  std::lock_guard lock(counting.mutex);
  ASSERT_EQ(counting.arrivals.size(), 12u);
  // 12 at 5 per second: the last group can only start after two full periods.
  EXPECT_GE(Clock::now() - started, 2000ms);
  for (std::size_t i = 5; i < counting.arrivals.size(); ++i) {
    EXPECT_GE(counting.arrivals[i] - counting.arrivals[i - 5], 1000ms)
        << "arrival " << i << ": more than 5 in one second";
  }
  EXPECT_GT(client->stats().paced_wait_ms, 0u);
}

TEST_P(CurlClientPacing, AWaitBeyondTheMaximumIsThrottledWithoutSending) {
  CountingServer counting;
  LocalServer running(counting.server);
  ClientOptions options;
  options.max_pacing_wait = 200ms;
  auto client = make_client(options);
  const RequestRate rate{4, 60'000ms};
  auto batch = client->send(paced_get(running.url("/r"), rate, 4), {});
  ASSERT_TRUE(batch) << batch.error().message;
  auto next = client->send(paced_get(running.url("/r"), rate), {});
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().kind, ErrorKind::kThrottled);
  ASSERT_TRUE(next.error().retry_after.has_value());
  EXPECT_GT(*next.error().retry_after, 50'000ms);
  EXPECT_NE(next.error().message.find("held back, not sent"), std::string::npos)
      << next.error().message;
  std::lock_guard lock(counting.mutex);
  EXPECT_EQ(counting.arrivals.size(), 1u) << "the throttled request never left the client";
  EXPECT_EQ(client->stats().paced_refused, 1u);
}

TEST_P(CurlClientPacing, ACostAboveTheWholeRateIsRefusedWithWhatToDo) {
  CountingServer counting;
  LocalServer running(counting.server);
  auto client = make_client({});
  auto got = client->send(paced_get(running.url("/r"), RequestRate{10, 1000ms}, 20), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kPermanent);
  EXPECT_NE(got.error().message.find("smaller parts"), std::string::npos) << got.error().message;
}

}  // namespace
}  // namespace agendasync::net
