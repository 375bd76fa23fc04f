// Fault injection end to end: exsim answers about 10% of requests with a fault (HTTP 503,
// ErrorServerBusy, connection resets, truncated bodies). The sync converges within a bounded
// number of runs, every run ends in bounded time, and nothing is duplicated or lost.
#include <gtest/gtest.h>

#include <set>

#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

TEST(FaultInjection, TenPercentFaultsConvergeWithoutDuplicates) {
  World world;
  world.add_user("jdoe");
  for (int i = 0; i < 60; ++i)
    world.add_appointment("jdoe", "Host " + std::to_string(i), future(i % 30, i % 6));
  for (int i = 0; i < 15; ++i)
    world.outlook_create("jdoe@example.com", "Outlook " + std::to_string(i), future(i, 9));
  world.set_faults({{"http_error_rate", 0.03},
                    {"http_error_status", 503},
                    {"server_busy_rate", 0.03},
                    {"back_off_ms", 20},
                    {"reset_rate", 0.02},
                    {"truncate_rate", 0.02}});

  constexpr int kMaxRuns = 20;
  int runs = 0;
  bool converged = false;
  for (; runs < kMaxRuns && !converged; ++runs) {
    const auto started = std::chrono::steady_clock::now();
    auto app = world.app();
    ASSERT_TRUE(app);
    auto run = app->sync_user("jdoe");
    ASSERT_TRUE(run) << run.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{120})
        << "a run must end in bounded time";
    converged = run->outcome == app::UserRun::Outcome::kSynced && run->report &&
                run->report->plan.operations.empty();
  }
  EXPECT_TRUE(converged) << "not converged after " << kMaxRuns << " runs";
  std::cout << "converged after " << runs << " runs with ~10% faults\n";

  world.set_faults({{"http_error_rate", 0.0},
                    {"server_busy_rate", 0.0},
                    {"reset_rate", 0.0},
                    {"truncate_rate", 0.0}});
  const auto exchange = world.exchange_items("jdoe@example.com");
  EXPECT_TRUE(duplicate_subjects(exchange).empty());
  EXPECT_EQ(exchange.size(), 75u);
  std::multiset<std::string> host;
  for (const auto& stored : world.host_items("jdoe")) host.insert(stored.item.subject);
  EXPECT_EQ(host.size(), 75u);
  EXPECT_EQ(world.outbox_size(), 0u);
}

}  // namespace
}  // namespace agendasync::e2e
