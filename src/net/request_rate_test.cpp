// The pacing window alone, on a synthetic clock: never more than N in any period, waits that
// end exactly when enough counts leave, idle keys forgotten.
#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "net/request_rate.h"

namespace agendasync::net {
namespace {

using namespace std::chrono_literals;
using Clock = RateWindows::Clock;

TEST(RateWindows, FillsToTheRateThenWaitsUntilTheOldestLeaves) {
  RateWindows windows;
  const RequestRate rate{10, 6000ms};  // buckets of 100 ms
  const auto start = Clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(windows.wait_for("k", rate, 1, start), 0ms) << i;
    windows.spend("k", rate, 1, start);
  }
  const auto wait = windows.wait_for("k", rate, 1, start + 1s);
  ASSERT_TRUE(wait.has_value());
  // All ten went out at `start`: they leave a period (plus at most one bucket) later.
  EXPECT_GE(*wait, 5000ms);
  EXPECT_LE(*wait, 5100ms);
  EXPECT_EQ(windows.wait_for("k", rate, 1, start + 1s + *wait), 0ms);
  EXPECT_EQ(windows.wait_for("other", rate, 10, start), 0ms) << "keys are separate";
}

TEST(RateWindows, ACostAboveTheRateCanNeverGo) {
  RateWindows windows;
  EXPECT_FALSE(windows.wait_for("k", RequestRate{5, 1000ms}, 6, Clock::now()).has_value());
  EXPECT_EQ(windows.wait_for("k", RequestRate{}, 1000, Clock::now()), 0ms) << "no rate, no wait";
}

// Property: a sender that always waits what it is told never has more than `requests` sends
// in any period, whatever its costs and timing.
TEST(RateWindows, NeverMoreThanTheRateInAnyPeriod) {
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    RateWindows windows;
    const RequestRate rate{20 + static_cast<int>(random() % 50),
                           std::chrono::milliseconds(500 + random() % 10'000)};
    auto now = Clock::time_point{} + 10h;
    std::deque<std::pair<Clock::time_point, int>> sent;
    int in_period = 0;
    for (int i = 0; i < 2000; ++i) {
      now += std::chrono::milliseconds(random() % 200);
      const int cost = 1 + static_cast<int>(random() % 20);
      auto wait = windows.wait_for("k", rate, cost, now);
      ASSERT_TRUE(wait.has_value());
      now += *wait;
      ASSERT_EQ(windows.wait_for("k", rate, cost, now), 0ms);
      windows.spend("k", rate, cost, now);
      sent.emplace_back(now, cost);
      in_period += cost;
      while (sent.front().first + rate.per <= now) {
        in_period -= sent.front().second;
        sent.pop_front();
      }
      ASSERT_LE(in_period, rate.requests) << "round " << round << " send " << i;
    }
  }
}

TEST(RateWindows, IdleKeysAreForgotten) {
  RateWindows windows;
  const RequestRate rate{100, 1000ms};
  auto now = Clock::time_point{} + 1h;
  for (int i = 0; i < 5000; ++i) windows.spend("mailbox-" + std::to_string(i), rate, 1, now);
  EXPECT_GT(windows.keys(), 4000u);
  now += 10s;
  for (int i = 0; i < 5000; ++i) windows.spend("busy", rate, 1, now + std::chrono::milliseconds(i));
  EXPECT_LT(windows.keys(), 1000u) << "a node with 100,000 mailboxes keeps only the busy ones";
}

}  // namespace
}  // namespace agendasync::net
