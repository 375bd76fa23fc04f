// The scheduler with many organisations on one pool (issue 16 §6), with a fake PairSyncFn:
// another organisation's change starts at once while one organisation has hundreds of runs
// queued, a single organisation keeps every worker, pairs are (organisation, user),
// forget_org drops an organisation's queue, the safety net covers every organisation.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "service/scheduler.h"

namespace agendasync::service {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string name(const PairRef& pair) { return pair.org + "/" + pair.user; }

/// Records runs by "org/user"; each run takes `duration(pair)`.
struct FakePairs {
  std::function<std::chrono::milliseconds(const PairRef&)> duration = [](const PairRef&) {
    return 0ms;
  };
  std::mutex mutex;
  std::map<std::string, int> runs;
  std::map<std::string, Clock::time_point> first_start, last_start;
  std::map<std::string, int> active_per_org, max_per_org, active_per_pair, max_per_pair;
  int active = 0, max_active = 0;

  PairSyncFn fn() {
    return [this](const PairRef& pair) -> Result<SyncResult> {
      const std::string key = name(pair);
      {
        std::lock_guard lock(mutex);
        first_start.try_emplace(key, Clock::now());
        last_start[key] = Clock::now();
        max_active = std::max(max_active, ++active);
        max_per_org[pair.org] = std::max(max_per_org[pair.org], ++active_per_org[pair.org]);
        max_per_pair[key] = std::max(max_per_pair[key], ++active_per_pair[key]);
      }
      std::this_thread::sleep_for(duration(pair));
      std::lock_guard lock(mutex);
      --active;
      --active_per_org[pair.org];
      --active_per_pair[key];
      ++runs[key];
      return SyncResult{};
    };
  }
  int count(const std::string& key) {
    std::lock_guard lock(mutex);
    return runs[key];
  }
  int running(const std::string& org) {
    std::lock_guard lock(mutex);
    return active_per_org[org];
  }
  int total_runs(const std::string& org) {
    std::lock_guard lock(mutex);
    int total = 0;
    for (const auto& [key, n] : runs) {
      if (key.starts_with(org + "/")) total += n;
    }
    return total;
  }
};

template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = 5s) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return condition();
}

SchedulerOptions options(std::size_t workers) {
  SchedulerOptions o;
  o.debounce = 0ms;
  o.workers = workers;
  o.safety_net = 0ms;
  return o;
}

TEST(SchedulerOrgs, AnotherOrganisationsChangeStartsWhileOneHasHundredsQueued) {
  // Organisation A's first sync: 500 pairs of 300 ms on 4 workers (~40 s of work). B's change
  // must not wait for A's queue, only for one of A's runs to end.
  FakePairs fake;
  fake.duration = [](const PairRef& pair) { return pair.org == "a" ? 300ms : 10ms; };
  Scheduler scheduler(fake.fn(), options(4));
  scheduler.start();
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(scheduler.trigger(PairRef{"a", "user" + std::to_string(i)}, Trigger::kSafetyNet));
  }
  ASSERT_TRUE(eventually([&] { return fake.running("a") == 4; })) << "alone, A uses every worker";
  std::this_thread::sleep_for(100ms);
  const auto asked = Clock::now();
  ASSERT_TRUE(scheduler.trigger(PairRef{"b", "bob"}, Trigger::kNotification));
  ASSERT_TRUE(eventually([&] { return fake.count("b/bob") == 1; }, 2s));
  EXPECT_LT(fake.total_runs("a"), 40) << "A's queue was far from done";
  std::lock_guard lock(fake.mutex);
  EXPECT_LT(fake.first_start["b/bob"] - asked, 600ms)
      << "B waits for one of A's runs at most, not for A's queue";
}

TEST(SchedulerOrgs, HeadroomLetsAChangeStartAtOnceWhileRunsTakeLong) {
  // Runs of a first sync take minutes, so waiting for one to end is no bound at all. Once B
  // is known, A holds at most three of the four workers and B's change starts at once.
  FakePairs fake;
  fake.duration = [](const PairRef& pair) { return pair.org == "a" ? 1500ms : 10ms; };
  Scheduler scheduler(fake.fn(), options(4));
  scheduler.start();
  scheduler.trigger(PairRef{"b", "bob"}, Trigger::kSafetyNet);
  for (int i = 0; i < 50; ++i) {
    scheduler.trigger(PairRef{"a", "user" + std::to_string(i)}, Trigger::kSafetyNet);
  }
  ASSERT_TRUE(eventually([&] { return fake.count("b/bob") == 1 && fake.running("a") == 3; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(fake.running("a"), 3) << "the fourth worker stays free for another organisation";
  const auto asked = Clock::now();
  scheduler.trigger(PairRef{"b", "bob"}, Trigger::kNotification);
  ASSERT_TRUE(eventually([&] { return fake.count("b/bob") == 2; }, 3s));
  EXPECT_EQ(fake.total_runs("a"), 0) << "B's second run did not wait for one of A's to end";
  std::lock_guard lock(fake.mutex);
  EXPECT_EQ(fake.max_per_org["a"], 3);
  EXPECT_LT(fake.last_start["b/bob"] - asked, 300ms);
}

TEST(SchedulerOrgs, TwoBusyOrganisationsShareThePool) {
  FakePairs fake;
  fake.duration = [](const PairRef&) { return 100ms; };
  Scheduler scheduler(fake.fn(), options(4));
  scheduler.start();
  for (int i = 0; i < 40; ++i) {
    scheduler.trigger(PairRef{"a", "user" + std::to_string(i)}, Trigger::kSafetyNet);
  }
  ASSERT_TRUE(eventually([&] { return fake.running("a") == 4; }));
  for (int i = 0; i < 40; ++i) {
    scheduler.trigger(PairRef{"c", "user" + std::to_string(i)}, Trigger::kSafetyNet);
  }
  // A had ~36 runs left when C arrived; taking turns, C gets about half the pool from then on.
  ASSERT_TRUE(eventually([&] { return fake.total_runs("c") >= 10; }));
  EXPECT_GE(fake.total_runs("a"), 8);
  EXPECT_LE(fake.total_runs("a"), 22) << "A did not keep the pool to itself";
}

TEST(SchedulerOrgs, OneOrganisationKeepsEveryWorker) {
  // A deployment with one organisation (named or "") loses nothing to headroom.
  FakePairs fake;
  fake.duration = [](const PairRef&) { return 100ms; };
  Scheduler scheduler(fake.fn(), options(4));
  scheduler.start();
  for (int i = 0; i < 16; ++i) {
    scheduler.trigger(PairRef{"acme", "user" + std::to_string(i)}, Trigger::kSyncNow);
  }
  ASSERT_TRUE(eventually([&] { return fake.total_runs("acme") == 16; }));
  std::lock_guard lock(fake.mutex);
  EXPECT_EQ(fake.max_active, 4);
}

TEST(SchedulerOrgs, APairIsOrganisationAndUserAndNeverRunsTwiceAtOnce) {
  FakePairs fake;
  fake.duration = [](const PairRef&) { return 150ms; };
  Scheduler scheduler(fake.fn(), options(4));
  scheduler.start();
  // The same user name in two organisations: two pairs, which may run side by side. The user
  // name compares without case within one organisation; the organisation id compares exactly.
  scheduler.trigger(PairRef{"a", "alice"}, Trigger::kSyncNow);
  scheduler.trigger(PairRef{"b", "alice"}, Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] { return fake.running("a") == 1 && fake.running("b") == 1; }));
  for (int i = 0; i < 5; ++i) {
    scheduler.trigger(PairRef{"a", "ALICE"}, Trigger::kNotification);
    scheduler.trigger(PairRef{"b", "Alice"}, Trigger::kNotification);
  }
  EXPECT_EQ(scheduler.queue_depth(), 2u) << "one follow-up run per pair";
  ASSERT_TRUE(eventually([&] { return fake.total_runs("a") == 2 && fake.total_runs("b") == 2; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fake.total_runs("a"), 2);
  EXPECT_EQ(fake.total_runs("b"), 2);
  std::lock_guard lock(fake.mutex);
  for (const auto& [pair, most] : fake.max_per_pair) EXPECT_EQ(most, 1) << pair;
  EXPECT_EQ(fake.max_active, 2);
}

TEST(SchedulerOrgs, ForgetOrgDropsItsQueueAndLetsItsRunInFlightFinish) {
  FakePairs fake;
  fake.duration = [](const PairRef& pair) { return pair.user == "first" ? 300ms : 10ms; };
  std::mutex observed_mutex;
  std::vector<PairRef> observed;
  Scheduler scheduler(fake.fn(), options(1),
                      [&](const PairRef& pair, Trigger, const Result<SyncResult>&, auto, auto) {
                        std::lock_guard lock(observed_mutex);
                        observed.push_back(pair);
                      });
  scheduler.start();
  scheduler.trigger(PairRef{"a", "first"}, Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] { return fake.running("a") == 1; }));
  for (int i = 0; i < 5; ++i) {
    scheduler.trigger(PairRef{"a", "user" + std::to_string(i)}, Trigger::kSyncNow);
  }
  scheduler.trigger(PairRef{"b", "bob"}, Trigger::kSyncNow);
  scheduler.trigger(PairRef{"b", "bea"}, Trigger::kSyncNow);
  auto load = scheduler.load_by_org();
  EXPECT_EQ(load["a"].queued, 5u);
  EXPECT_EQ(load["a"].running, 1u);
  EXPECT_EQ(load["b"].queued, 2u);

  EXPECT_EQ(scheduler.forget_org("a"), 5u);
  EXPECT_EQ(scheduler.forget_org("nobody"), 0u);
  EXPECT_EQ(scheduler.queue_depth(), 2u);
  ASSERT_TRUE(eventually([&] { return fake.total_runs("b") == 2; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(fake.total_runs("a"), 1) << "the run in flight finished, the queued ones never ran";
  EXPECT_TRUE(scheduler.load_by_org().empty());
  std::lock_guard lock(observed_mutex);
  ASSERT_EQ(observed.size(), 3u);
  EXPECT_EQ(observed[0], (PairRef{"a", "first"})) << "the observer sees the organisation";
}

TEST(SchedulerOrgs, TheSafetyNetQueuesEveryPairOfEveryOrganisation) {
  FakePairs fake;
  SchedulerOptions o = options(2);
  o.safety_net = 100ms;
  o.all_pairs = [] { return std::vector<PairRef>{{"a", "dave"}, {"b", "dave"}}; };
  o.all_users = [] { return std::vector<std::string>{"erin"}; };
  Scheduler scheduler(fake.fn(), o);
  scheduler.start();
  ASSERT_TRUE(eventually([&] {
    return fake.count("a/dave") >= 2 && fake.count("b/dave") >= 2 && fake.count("/erin");
  }));
}

TEST(SchedulerOrgs, TheStringApiIsOrganisationEmpty) {
  FakePairs fake;
  Scheduler scheduler(fake.fn(), options(1));
  scheduler.start();
  scheduler.trigger("Frank", Trigger::kSyncNow);
  ASSERT_TRUE(eventually([&] { return fake.count("/Frank") == 1; }));
  EXPECT_EQ(scheduler.forget_org(""), 0u);
}

TEST(SchedulerOrgs, RunsAnotherNodeOwnsAreHandedOverAndTheSafetyNetFollowsOwnership) {
  // Many nodes (issue 17): only organisation "mine" is this node's; the hook hands the
  // others' wake-ups over and drops their safety net (each owner runs its own).
  FakePairs fake;
  SchedulerOptions o = options(2);
  o.safety_net = 100ms;
  o.all_pairs = [] { return std::vector<PairRef>{{"mine", "anna"}, {"theirs", "ben"}}; };
  std::mutex mutex;
  std::vector<std::string> handed;
  o.elsewhere = [&](const PairRef& pair, Trigger why) {
    if (pair.org == "mine") return false;
    std::lock_guard lock(mutex);
    handed.push_back(pair.user + ":" + to_string(why));
    return true;
  };
  Scheduler scheduler(fake.fn(), o);
  scheduler.start();
  EXPECT_TRUE(scheduler.trigger(PairRef{"theirs", "ben"}, Trigger::kSyncNow))
      << "handed over counts as accepted";
  ASSERT_TRUE(eventually([&] { return fake.count("mine/anna") >= 2; }));
  EXPECT_EQ(fake.count("theirs/ben"), 0) << "never run here";
  std::lock_guard lock(mutex);
  ASSERT_FALSE(handed.empty());
  EXPECT_EQ(handed.front(), "ben:sync-now");
  EXPECT_EQ(parse_trigger("host-change"), Trigger::kHostChange);
  EXPECT_EQ(parse_trigger("safety-net"), Trigger::kSafetyNet);
  EXPECT_FALSE(parse_trigger("reboot"));
}

}  // namespace
}  // namespace agendasync::service
