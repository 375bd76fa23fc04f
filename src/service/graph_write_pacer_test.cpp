// The pacer of Graph subscription writes: never more than its limit in any window, a 429's
// Retry-After holds every writer, and a stop or a deadline ends a wait.
#include "service/graph_write_pacer.h"

#include <gtest/gtest.h>

#include <thread>

namespace agendasync::service {
namespace {

using namespace std::chrono_literals;
using Clock = GraphWritePacer::Clock;

TEST(GraphWritePacer, NoMoreThanItsLimitInAnyWindow) {
  GraphWritePacer pacer(5, 300ms);
  std::stop_source stop;
  std::vector<Clock::time_point> starts;
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(pacer.acquire(stop.get_token()));
    starts.push_back(Clock::now());
  }
  // Any six consecutive starts span at least one window.
  for (std::size_t i = 5; i < starts.size(); ++i) {
    EXPECT_GE(starts[i] - starts[i - 5], 300ms) << i;
  }
  // The first five went at once.
  EXPECT_LT(starts[4] - starts[0], 250ms);
}

TEST(GraphWritePacer, RetryAfterHoldsEveryWriter) {
  GraphWritePacer pacer(0, 1s);  // no pacing: only the hold
  std::stop_source stop;
  ASSERT_TRUE(pacer.hold(250ms));
  EXPECT_FALSE(pacer.hold(10ms));  // an earlier end does not shorten the hold
  const auto before = Clock::now();
  std::vector<std::thread> writers;
  std::vector<Clock::duration> waited(3);
  for (int i = 0; i < 3; ++i) {
    writers.emplace_back([&, i] {
      EXPECT_TRUE(pacer.acquire(stop.get_token()));
      waited[static_cast<std::size_t>(i)] = Clock::now() - before;
    });
  }
  for (auto& writer : writers) writer.join();
  for (auto wait : waited) EXPECT_GE(wait, 240ms);
}

TEST(GraphWritePacer, StopAndDeadlineEndAWait) {
  GraphWritePacer pacer(1, 10s);
  std::stop_source stop;
  ASSERT_TRUE(pacer.acquire(stop.get_token()));
  EXPECT_FALSE(pacer.acquire_until(Clock::now() + 50ms));
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    stop.request_stop();
  });
  const auto before = Clock::now();
  EXPECT_FALSE(pacer.acquire(stop.get_token()));
  EXPECT_LT(Clock::now() - before, 2s);
  stopper.join();
  EXPECT_EQ(pacer.in_window(), 1u);
}

}  // namespace
}  // namespace agendasync::service
