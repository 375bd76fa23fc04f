// The Graph subscription keeper against a fake Graph that enforces a write limit the way the
// subscription service does (429 + Retry-After): every mailbox gets subscribed without going
// over the limit, a Retry-After holds every write, a refusal dressed as a very long
// Retry-After fails only its mailbox, creations run a few at a time, expiries are spread, and
// progress counts the mailboxes not watched.
#include "service/graph_keeper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "store/sqlite_agenda_store.h"

namespace agendasync::service {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// A Graph subscription service in memory: a sliding-window write limit (0 = none) answered
/// with 429 and the Retry-After until a write is allowed, optional latency, and a record of
/// every call.
class FakeGraph {
 public:
  std::size_t limit = 0;
  Clock::duration window = 1s;
  std::chrono::milliseconds latency{0};
  std::set<std::string> refuse;  // mailboxes answered 429 with a Retry-After of a year

  GraphSubscriptionCalls calls() {
    GraphSubscriptionCalls c;
    c.create = [this](const std::string& mailbox, const Secret&,
                      std::int64_t expires_at) -> Result<GraphSubscription> {
      if (auto refused = write(mailbox)) return std::unexpected(*refused);
      std::lock_guard lock(mutex_);
      const std::string id = fmt::format("sub-{}", ++next_id_);
      live_.insert(id);
      expiries_.push_back(expires_at);
      return GraphSubscription{id, "", expires_at};
    };
    c.renew = [this](const std::string& id, std::int64_t expires_at) -> Result<std::int64_t> {
      if (auto refused = write("")) return std::unexpected(*refused);
      std::lock_guard lock(mutex_);
      ++renewals_;
      if (!live_.contains(id)) return fail(ErrorKind::kNotFound, "gone");
      return expires_at;
    };
    c.remove = [this](const std::string& id) -> Result<void> {
      if (auto refused = write("")) return std::unexpected(*refused);
      std::lock_guard lock(mutex_);
      live_.erase(id);
      return {};
    };
    return c;
  }

  std::size_t live() {
    std::lock_guard lock(mutex_);
    return live_.size();
  }
  std::size_t throttled() {
    std::lock_guard lock(mutex_);
    return throttled_;
  }
  std::size_t max_in_flight() const { return max_in_flight_; }
  std::vector<std::int64_t> expiries() {
    std::lock_guard lock(mutex_);
    return expiries_;
  }
  std::vector<Clock::time_point> accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  /// Accepted writes in the busiest window.
  std::size_t busiest_window() {
    std::lock_guard lock(mutex_);
    std::size_t most = 0;
    for (std::size_t i = 0; i < accepted_.size(); ++i) {
      std::size_t in = 0;
      for (std::size_t j = i; j < accepted_.size() && accepted_[j] - accepted_[i] < window; ++j) {
        ++in;
      }
      most = std::max(most, in);
    }
    return most;
  }
  /// Whether any write arrived before the Retry-After of a 429 that came before it had passed.
  bool wrote_during_a_hold() {
    std::lock_guard lock(mutex_);
    for (const auto& [at, until] : holds_) {
      for (auto when : accepted_) {
        if (when > at && when < until - 20ms) return true;
      }
    }
    return false;
  }

 private:
  std::optional<Error> write(const std::string& mailbox) {
    const std::size_t now_in = ++in_flight_;
    std::size_t most = max_in_flight_.load();
    while (now_in > most && !max_in_flight_.compare_exchange_weak(most, now_in)) {
    }
    if (latency.count() > 0) std::this_thread::sleep_for(latency);
    --in_flight_;
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (refuse.contains(mailbox)) {
      ++throttled_;
      Error e{ErrorKind::kThrottled, "SubscriptionCountReached", "429", std::chrono::hours(8760)};
      return e;
    }
    std::size_t in = 0;
    Clock::time_point oldest = now;
    for (auto it = accepted_.rbegin(); it != accepted_.rend() && *it > now - window; ++it) {
      ++in;
      oldest = *it;
    }
    if (limit > 0 && in >= limit) {
      ++throttled_;
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(oldest + window - now);
      holds_.emplace_back(now, now + wait);
      return Error{ErrorKind::kThrottled, "too many", "429", wait};
    }
    accepted_.push_back(now);
    return std::nullopt;
  }

  std::mutex mutex_;
  int next_id_ = 0;
  std::set<std::string> live_;
  std::vector<std::int64_t> expiries_;
  std::vector<Clock::time_point> accepted_;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> holds_;
  std::size_t throttled_ = 0;
  std::size_t renewals_ = 0;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> max_in_flight_{0};
};

class GraphKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("agendasync-keeper-{}-{}", ::getpid(), counter++);
    std::filesystem::create_directories(dir_);
    auto store = store::open_sqlite_agenda_store(dir_ / "agenda.db", {.create = true});
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto db = ServiceDb::open(dir_ / "agenda.db", 2, false);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    secrets::SecretKey key{"k1", {}};
    key.bytes.fill(7);
    secrets_ = std::make_unique<SecretStore>(*db_, secrets::KeyRing({key}));
    records_ = std::make_unique<GraphSubscriptions>(*db_, *secrets_);
  }
  void TearDown() override {
    keeper_.reset();
    records_.reset();
    secrets_.reset();
    db_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start(std::size_t users, GraphKeeperOptions options) {
    for (std::size_t i = 0; i < users; ++i) {
      wanted_[fmt::format("U{:04}", i)] = fmt::format("u{:04}@example.com", i);
    }
    options.refresh = 100ms;
    options.on_progress = [this](const GraphKeeperProgress& p) {
      std::lock_guard lock(progress_mutex_);
      last_progress_ = p;
    };
    auto keeper = GraphSubscriptionKeeper::start(
        *records_, graph_.calls(),
        [this]() -> Result<std::map<std::string, std::string>> { return wanted_; },
        [this](const std::string&) { ++woken_; }, options);
    ASSERT_TRUE(keeper) << keeper.error().message;
    keeper_ = std::move(*keeper);
  }
  template <class F>
  bool eventually(F condition, std::chrono::milliseconds limit = 20s) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return condition();
  }
  GraphKeeperProgress last_progress() {
    std::lock_guard lock(progress_mutex_);
    return last_progress_;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::AgendaStore> store_;
  std::unique_ptr<ServiceDb> db_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<GraphSubscriptions> records_;
  std::map<std::string, std::string> wanted_;
  FakeGraph graph_;
  std::unique_ptr<GraphSubscriptionKeeper> keeper_;
  std::atomic<int> woken_{0};
  std::mutex progress_mutex_;
  GraphKeeperProgress last_progress_;
};

TEST_F(GraphKeeperTest, SubscribesEveryMailboxWithoutGoingOverTheWriteLimit) {
  graph_.limit = 10;
  graph_.window = 500ms;
  GraphKeeperOptions options;
  options.writes_per_window = 10;
  // The limit's window plus a margin, as the default does (21 s for 20): here a wide one, so
  // that a loaded machine's delay between a start and Graph's receipt cannot close it.
  options.write_window = 800ms;
  start(45, options);
  ASSERT_TRUE(eventually([&] { return graph_.live() == 45; })) << graph_.live();
  EXPECT_EQ(graph_.throttled(), 0u);  // paced: Graph never had to refuse
  EXPECT_LE(graph_.busiest_window(), 10u);
  ASSERT_TRUE(eventually([&] { return last_progress().subscribed == 45; }));
  EXPECT_EQ(last_progress().wanted, 45u);
  EXPECT_EQ(last_progress().failing, 0u);
  EXPECT_EQ(woken_, 45);
  auto recorded = records_->all();
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->size(), 45u);
  keeper_->stop();
  EXPECT_EQ(graph_.live(), 0u);  // deleted on stop, paced too
}

TEST_F(GraphKeeperTest, AKeeperWhoseOrganisationWentToAnotherNodeDeletesNothingAtStop) {
  // Issue 17: the new owner's keeper records its subscriptions in the same shared table;
  // deleting "every recorded subscription" here would delete the new owner's.
  auto handed_over = std::make_shared<std::atomic<bool>>(false);
  GraphKeeperOptions options;
  options.handed_over = handed_over;
  start(3, options);
  ASSERT_TRUE(eventually([&] { return graph_.live() == 3; })) << graph_.live();
  handed_over->store(true);
  keeper_->stop();
  EXPECT_EQ(graph_.live(), 3u) << "left for the node that owns the organisation now";
  EXPECT_EQ(records_->all()->size(), 3u);
}

TEST_F(GraphKeeperTest, RetryAfterHoldsEveryWriteUntilItPasses) {
  graph_.limit = 6;
  graph_.window = 600ms;
  GraphKeeperOptions options;
  options.writes_per_window = 1000;  // a keeper that does not know the limit: Graph tells it
  start(20, options);
  ASSERT_TRUE(eventually([&] { return graph_.live() == 20; })) << graph_.live();
  EXPECT_GE(graph_.throttled(), 1u);
  EXPECT_FALSE(graph_.wrote_during_a_hold());
  EXPECT_GE(last_progress().throttled, 1u);
  auto recorded = records_->all();
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->size(), 20u);  // no mailbox subscribed twice, none given up on
  EXPECT_EQ(last_progress().failing, 0u);
}

TEST_F(GraphKeeperTest, ARetryAfterOfAYearFailsOnlyItsMailbox) {
  graph_.refuse = {"u0003@example.com"};
  start(8, GraphKeeperOptions{});
  ASSERT_TRUE(eventually([&] { return graph_.live() == 7; }));
  ASSERT_TRUE(eventually([&] {
    auto p = last_progress();
    return p.subscribed == 7 && p.failing == 1;
  }));
  EXPECT_EQ(last_progress().wanted, 8u);
}

TEST_F(GraphKeeperTest, CreationsRunAFewAtATime) {
  graph_.latency = 40ms;
  GraphKeeperOptions options;
  options.concurrency = 4;
  start(24, options);
  ASSERT_TRUE(eventually([&] { return graph_.live() == 24; }));
  EXPECT_LE(graph_.max_in_flight(), 4u);
  EXPECT_GE(graph_.max_in_flight(), 2u);
}

TEST_F(GraphKeeperTest, ExpiriesAreSpreadSoRenewalsDoNotFallDueTogether) {
  GraphKeeperOptions options;  // 72 h lifetime, renewed with 24 h left, jitter 25% of 48 h
  const auto now = unix_now();
  start(200, options);
  ASSERT_TRUE(eventually([&] { return graph_.live() == 200; }));
  auto expiries = graph_.expiries();
  ASSERT_EQ(expiries.size(), 200u);
  std::set<std::int64_t> hours;
  for (auto at : expiries) {
    EXPECT_LE(at, now + 72 * 3600 + 5);
    EXPECT_GE(at, now + 60 * 3600 - 5);  // never due for renewal at once
    hours.insert((at - now) / 3600);
  }
  // Spread over the 12 hours before the full lifetime, not bunched into one.
  EXPECT_GE(hours.size(), 10u);
  // None is due for renewal now.
  auto due = records_->expiring(unix_now(), options.renew_before.count());
  ASSERT_TRUE(due);
  EXPECT_TRUE(due->empty());
}

/// The most of `times` (sorted) within any `window`.
std::size_t busiest(std::vector<Clock::time_point> times, Clock::duration window) {
  std::sort(times.begin(), times.end());
  std::size_t most = 0;
  for (std::size_t i = 0, j = 0; j < times.size(); ++j) {
    while (times[j] - times[i] >= window) ++i;
    most = std::max(most, j - i + 1);
  }
  return most;
}

/// One organisation of the node: its own database and subscription records, its mailboxes.
struct Organisation {
  std::filesystem::path dir;
  std::unique_ptr<ServiceDb> db;
  std::unique_ptr<SecretStore> secrets;
  std::unique_ptr<GraphSubscriptions> records;
  std::map<std::string, std::string> wanted;
  std::unique_ptr<GraphSubscriptionKeeper> keeper;

  Organisation(const std::string& name, int mailboxes) {
    dir = std::filesystem::temp_directory_path() /
          fmt::format("agendasync-keeper-{}-{}", ::getpid(), name);
    std::filesystem::create_directories(dir);
    auto store = store::open_sqlite_agenda_store(dir / "agenda.db", {.create = true});
    EXPECT_TRUE(store) << store.error().message;
    auto opened = ServiceDb::open(dir / "agenda.db", 2, false);
    EXPECT_TRUE(opened) << opened.error().message;
    db = std::move(*opened);
    secrets::SecretKey key{"k1", {}};
    key.bytes.fill(7);
    secrets = std::make_unique<SecretStore>(*db, secrets::KeyRing({key}));
    records = std::make_unique<GraphSubscriptions>(*db, *secrets);
    for (int i = 0; i < mailboxes; ++i)
      wanted[fmt::format("{}{:03}", name, i)] = fmt::format("{}{:03}@example.com", name, i);
  }
  void start(FakeGraph& graph, GraphKeeperOptions options) {
    options.refresh = 100ms;
    auto started = GraphSubscriptionKeeper::start(
        *records, graph.calls(),
        [this]() -> Result<std::map<std::string, std::string>> { return wanted; },
        [](const std::string&) {}, options);
    ASSERT_TRUE(started) << started.error().message;
    keeper = std::move(*started);
  }
  ~Organisation() {
    keeper.reset();
    records.reset();
    secrets.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }
};

// Graph counts subscription writes per app per tenant (1,000 in 20 s) and per tenant for all
// apps (2,000): organisations of one node that share an app registration share the first
// budget, and organisations of one tenant the second. Three organisations on one tenant, two of
// them with the same app, scaled to 6 writes per app and 9 per tenant in 500 ms (paced over 800
// ms): each keeper alone would stay within 6, yet together app A would see 12 and the tenant 18.
TEST_F(GraphKeeperTest, OrganisationsOfOneTenantShareItsAppAndTenantWriteLimits) {
  FakeGraph app_a;
  FakeGraph app_b;
  GraphKeeperOptions options;
  options.writes_per_window = 6;
  options.writes_per_tenant = 9;
  // Counted over 800 ms, measured over 500 ms: the margin a loaded machine needs between a
  // write's start and its receipt, as in SubscribesEveryMailboxWithoutGoingOverTheWriteLimit.
  options.write_window = 800ms;
  options.stop_budget = 0ms;  // the deletions at stop are not what this test is about
  options.tenant = "shared-tenant-" + std::to_string(::getpid());
  std::vector<std::unique_ptr<Organisation>> organisations;
  for (const char* name : {"a", "b", "c"})
    organisations.push_back(std::make_unique<Organisation>(name, 6));
  options.app = "app-a";
  organisations[0]->start(app_a, options);
  organisations[1]->start(app_a, options);
  options.app = "app-b";
  organisations[2]->start(app_b, options);
  ASSERT_TRUE(eventually([&] { return app_a.live() == 12 && app_b.live() == 6; }))
      << app_a.live() << " " << app_b.live();
  EXPECT_LE(busiest(app_a.accepted(), 500ms), 6u) << "app A went over its per-app budget";
  EXPECT_LE(busiest(app_b.accepted(), 500ms), 6u);
  auto all = app_a.accepted();
  const auto b = app_b.accepted();
  all.insert(all.end(), b.begin(), b.end());
  EXPECT_LE(busiest(all, 500ms), 9u) << "the tenant went over its budget";
  for (auto& organisation : organisations) organisation->keeper.reset();
}

std::size_t thread_count() {
  std::size_t threads = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ++threads;
  return threads;
}

// A node of many Graph customers: every keeper runs on the node's few shared threads (a lane
// each), not on a planner and four workers of its own (five threads per organisation: 2,000
// organisations would hold 10,000). And they take turns: an organisation subscribing 200
// mailboxes through a slow Graph does not hold the threads while a small one waits.
TEST_F(GraphKeeperTest, ManyOrganisationsKeepTheirSubscriptionsOnTheNodesFewThreads) {
  constexpr int kOrganisations = 40;
  FakeGraph slow;
  slow.latency = 20ms;
  FakeGraph quick;
  std::shared_ptr<TaskQueue> threads;
  std::size_t before = 0;
  GraphKeeperOptions options;
  options.stop_budget = 0ms;
  std::vector<std::unique_ptr<Organisation>> organisations;
  organisations.push_back(std::make_unique<Organisation>("big", 200));
  for (int i = 0; i < kOrganisations; ++i)
    organisations.push_back(std::make_unique<Organisation>(fmt::format("small{}-", i), 2));
  before = thread_count();
  threads = std::make_shared<TaskQueue>(4);
  options.threads = threads;
  // Opened first, started together: the big one first.
  for (std::size_t i = 0; i < organisations.size(); ++i)
    organisations[i]->start(i == 0 ? slow : quick, options);
  EXPECT_LE(thread_count(), before + 4) << "keepers started threads of their own";
  // 200 calls of 20 ms on at most 4 threads take a second at least; the 80 small ones are
  // done well within it, their tasks taking turns with the big organisation's.
  ASSERT_TRUE(eventually([&] { return quick.live() == 2 * kOrganisations; }, 10s)) << quick.live();
  EXPECT_LT(slow.live(), 200u) << "the small organisations waited for the big one";
  ASSERT_TRUE(eventually([&] { return slow.live() == 200; }, 20s)) << slow.live();
  EXPECT_LE(slow.max_in_flight(), 4u) << "one organisation's calls stay within its concurrency";
  EXPECT_LE(thread_count(), before + 4);
  for (auto& organisation : organisations) organisation->keeper.reset();
  threads->stop();
}

}  // namespace
}  // namespace agendasync::service
