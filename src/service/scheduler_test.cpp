// R23 scheduling with a fake SyncFn: debounce, one run per pair, bounded pool, sync-now,
// safety net, graceful stop.
#include "service/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace agendasync::service {
namespace {

using namespace std::chrono_literals;

/// Records runs; each run takes `duration`.
struct FakeSync {
  std::chrono::milliseconds duration{0};
  std::mutex mutex;
  std::map<std::string, int> runs;
  std::vector<std::chrono::steady_clock::time_point> started;
  std::atomic<int> active{0}, max_active{0};
  std::map<std::string, int> active_per_user, max_per_user;

  SyncFn fn() {
    return [this](const std::string& user) -> Result<SyncResult> {
      {
        std::lock_guard lock(mutex);
        started.push_back(std::chrono::steady_clock::now());
        int now = ++active_per_user[user];
        max_per_user[user] = std::max(max_per_user[user], now);
      }
      int now = ++active;
      int seen = max_active.load();
      while (now > seen && !max_active.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(duration);
      --active;
      std::lock_guard lock(mutex);
      --active_per_user[user];
      ++runs[user];
      return SyncResult{};
    };
  }
  int count(const std::string& user) {
    std::lock_guard lock(mutex);
    return runs[user];
  }
};

/// Polls `condition` for up to `limit`.
template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

SchedulerOptions options(std::chrono::milliseconds debounce, std::size_t workers) {
  SchedulerOptions o;
  o.debounce = debounce;
  o.workers = workers;
  o.safety_net = 0ms;
  return o;
}

TEST(Scheduler, BurstOfHostChangesBecomesOneRunAfterTheDebounce) {
  FakeSync fake;
  Scheduler scheduler(fake.fn(), options(200ms, 2));
  scheduler.start();
  auto first = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(scheduler.trigger("alice", Trigger::kHostChange));
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(eventually([&] { return fake.count("alice") == 1; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(fake.count("alice"), 1) << "a burst must coalesce into one run";
  std::lock_guard lock(fake.mutex);
  auto delay = fake.started.front() - first;
  EXPECT_GE(delay, 190ms) << "the run waits for the debounce";
  EXPECT_LT(delay, 1000ms) << "but not much longer";
}

TEST(Scheduler, SyncNowRunsAtOnceAndOvertakesADebouncedChange) {
  FakeSync fake;
  Scheduler scheduler(fake.fn(), options(2000ms, 1));
  scheduler.start();
  auto asked = std::chrono::steady_clock::now();
  scheduler.trigger("bob", Trigger::kHostChange);
  scheduler.trigger("bob", Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] { return fake.count("bob") == 1; }, 1500ms));
  std::lock_guard lock(fake.mutex);
  EXPECT_LT(fake.started.front() - asked, 500ms);
}

TEST(Scheduler, NeverRunsOnePairTwiceAtOnceButRerunsAfterwards) {
  FakeSync fake;
  fake.duration = 150ms;
  Scheduler scheduler(fake.fn(), options(0ms, 4));
  scheduler.start();
  scheduler.trigger("carol", Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] { return fake.active.load() == 1; }));
  // Requests while running queue one follow-up run (it picks up what changed meanwhile).
  for (int i = 0; i < 5; ++i) scheduler.trigger("carol", Trigger::kNotification);
  ASSERT_TRUE(eventually([&] { return fake.count("carol") == 2; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fake.count("carol"), 2);
  std::lock_guard lock(fake.mutex);
  EXPECT_EQ(fake.max_per_user["carol"], 1);
}

TEST(Scheduler, PoolBoundsConcurrentRuns) {
  FakeSync fake;
  fake.duration = 100ms;
  Scheduler scheduler(fake.fn(), options(0ms, 3));
  scheduler.start();
  for (int i = 0; i < 12; ++i) scheduler.trigger("user" + std::to_string(i), Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(fake.mutex);
    int total = 0;
    for (auto& [user, runs] : fake.runs) total += runs;
    return total == 12;
  }));
  EXPECT_EQ(fake.max_active.load(), 3);
}

// The queue is read in due order (issue 14 §4: no scan of 10,000 queued pairs per run): the
// longest-waiting pair runs first, whatever its name, and a debounced change waits its turn.
TEST(Scheduler, PairsRunInTheOrderTheyBecameDue) {
  std::mutex mutex;
  std::vector<std::string> order;
  Scheduler scheduler(
      [&](const std::string& user) -> Result<SyncResult> {
        if (user == "blocker") std::this_thread::sleep_for(100ms);
        std::lock_guard lock(mutex);
        order.push_back(user);
        return SyncResult{};
      },
      options(150ms, 1));
  scheduler.start();
  scheduler.trigger("blocker", Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] { return scheduler.running() == 1; }));
  scheduler.trigger("zed", Trigger::kHostChange);  // due in 150 ms
  for (const char* user : {"carol", "amy", "bob"}) scheduler.trigger(user, Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return order.size() == 5;
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(order, (std::vector<std::string>{"blocker", "carol", "amy", "bob", "zed"}));
}

TEST(Scheduler, SafetyNetQueuesEveryUserPeriodically) {
  FakeSync fake;
  SchedulerOptions o = options(0ms, 2);
  o.safety_net = 100ms;
  o.all_users = [] { return std::vector<std::string>{"dave", "erin"}; };
  Scheduler scheduler(fake.fn(), o);
  scheduler.start();
  ASSERT_TRUE(eventually([&] { return fake.count("dave") >= 2 && fake.count("erin") >= 2; }));
}

TEST(Scheduler, GracefulStopLetsTheRunningSyncFinishAndDropsTheQueue) {
  FakeSync fake;
  fake.duration = 300ms;
  std::atomic<int> observed{0};
  Scheduler scheduler(
      fake.fn(), options(0ms, 1),
      [&](const std::string&, Trigger, const Result<SyncResult>& result, auto, auto) {
        EXPECT_TRUE(result.has_value());
        ++observed;
      });
  scheduler.start();
  scheduler.trigger("frank", Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] { return fake.active.load() == 1; }));
  scheduler.trigger("gina", Trigger::kSyncNow);  // queued behind frank (one worker)
  scheduler.stop();
  EXPECT_EQ(fake.count("frank"), 1) << "the run in flight completed before stop returned";
  EXPECT_EQ(fake.count("gina"), 0);
  EXPECT_EQ(observed.load(), 1);
  EXPECT_FALSE(scheduler.trigger("gina", Trigger::kSyncNow));
  EXPECT_FALSE(scheduler.workers_alive());
}

TEST(Scheduler, ExceptionsFromTheSyncBecomeErrors) {
  std::atomic<bool> failed{false};
  Scheduler scheduler(
      [](const std::string&) -> Result<SyncResult> { throw std::runtime_error("boom"); },
      options(0ms, 1),
      [&](const std::string&, Trigger, const Result<SyncResult>& result, auto, auto) {
        failed = !result && result.error().message.find("boom") != std::string::npos;
      });
  scheduler.start();
  scheduler.trigger("hank", Trigger::kSyncNow);
  EXPECT_TRUE(eventually([&] { return failed.load(); }));
}

}  // namespace
}  // namespace agendasync::service
