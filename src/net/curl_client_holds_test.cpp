// The shared back-off seam (issue 17 §5, budget_holds.h) with an in-memory BudgetHolds: a
// 429/503 Retry-After of a budget-keyed request is reported, a held key waits (holding no
// slot) while other keys go, hold_budget reaches the holds. The same across nodes through
// PostgreSQL: cluster_test, BudgetHolds.*.
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/local_server.h"

namespace agendasync::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct MemoryHolds final : BudgetHolds {
  std::optional<Clock::time_point> held_until(std::string_view key) override {
    std::lock_guard lock(mutex);
    auto found = until.find(std::string(key));
    if (found == until.end()) return std::nullopt;
    return found->second;
  }
  void hold(std::string_view key, std::chrono::milliseconds wait) override {
    std::lock_guard lock(mutex);
    told.emplace_back(std::string(key), wait);
    until[std::string(key)] = Clock::now() + wait;
  }
  std::mutex mutex;
  std::map<std::string, Clock::time_point> until;
  std::vector<std::pair<std::string, std::chrono::milliseconds>> told;
};

class CurlClientHolds : public testing::BothSends {};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientHolds);

TEST_P(CurlClientHolds, ARetryAfterIsReportedAndAHeldKeyWaitsWhileOthersGo) {
  httplib::Server server;
  server.Post("/busy", [](const httplib::Request&, httplib::Response& response) {
    response.status = 429;
    response.set_header("Retry-After", "1");
  });
  server.Post("/ok", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok", "text/plain");
  });
  testing::LocalServer running(server);
  auto holds = std::make_shared<MemoryHolds>();
  ClientOptions options;
  options.max_attempts = 1;
  options.budget_holds = holds;
  auto client = make_client(options);

  Request busy;
  busy.url = running.url("/busy");
  busy.budget_key = "graph|app|anna";
  auto answered = client->send(busy, {});
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 429);
  ASSERT_EQ(holds->told.size(), 1u);
  EXPECT_EQ(holds->told[0].first, "graph|app|anna");
  EXPECT_EQ(holds->told[0].second, 1000ms);

  Request other;
  other.url = running.url("/ok");
  other.budget_key = "graph|app|ben";
  auto start = Clock::now();
  ASSERT_TRUE(client->send(other, {}));
  EXPECT_LT(Clock::now() - start, 500ms) << "another mailbox's budget goes at once";

  Request held = other;
  held.budget_key = "graph|app|anna";
  start = Clock::now();
  auto waited = client->send(held, {});
  ASSERT_TRUE(waited);
  EXPECT_EQ(waited->status, 200);
  EXPECT_GE(Clock::now() - start, 800ms) << "held until the Retry-After passed";
  EXPECT_GE(waited->retry_wait, 800ms);

  Request unkeyed = other;
  unkeyed.budget_key.clear();
  start = Clock::now();
  holds->hold("", 5s);
  ASSERT_TRUE(client->send(unkeyed, {}));
  EXPECT_LT(Clock::now() - start, 500ms) << "requests without a budget key are never held";

  client->hold_budget("ews|svc|host", 2s);
  EXPECT_EQ(holds->told.back(),
            (std::pair<std::string, std::chrono::milliseconds>{"ews|svc|host", 2s}))
      << "ErrorServerBusy reaches the shared holds through hold_budget";
}

// A hold of minutes (Exchange Online's Retry-After can be ten) is not sat out on the caller's
// thread: the request ends throttled, unsent, with the wait as retry_after.
TEST_P(CurlClientHolds, AHoldLongerThanTheLongestWaitEndsThrottledWithoutSending) {
  httplib::Server server;
  int hits = 0;
  server.Post("/ok", [&hits](const httplib::Request&, httplib::Response& response) {
    ++hits;
    response.set_content("ok", "text/plain");
  });
  testing::LocalServer running(server);
  auto holds = std::make_shared<MemoryHolds>();
  ClientOptions options;
  options.budget_holds = holds;
  options.max_pacing_wait = 300ms;
  auto client = make_client(options);
  holds->hold("graph|app|anna", 600s);
  Request held;
  held.url = running.url("/ok");
  held.budget_key = "graph|app|anna";
  const auto start = Clock::now();
  auto answer = client->send(held, {});
  EXPECT_LT(Clock::now() - start, 2s);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().kind, ErrorKind::kThrottled);
  ASSERT_TRUE(answer.error().retry_after.has_value());
  EXPECT_GT(*answer.error().retry_after, 590s);
  EXPECT_EQ(hits, 0);
}

}  // namespace
}  // namespace agendasync::net
