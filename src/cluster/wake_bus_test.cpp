// Wake-ups across nodes (issue 17 §4) against the real PostgreSQL: a wake sent by one node
// reaches the owner's LISTEN connection in under 100 ms on loopback, only the owner hears it,
// and a dropped LISTEN connection comes back and asks for a rescan.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "cluster/node.h"
#include "cluster/test_support.h"
#include "cluster/wake_bus.h"

namespace agendasync::cluster {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ClusterDatabase;
using testing::eventually;

TEST(WakePayload, RoundTripsAnyTextAndRefusesMalformedPayloads) {
  const Wake odd{"acme", "an\tna%20\nx", "host-change"};
  EXPECT_EQ(decode_wake(encode_wake(odd)), odd);
  EXPECT_FALSE(decode_wake("acme\tanna"));
  EXPECT_FALSE(decode_wake("\tanna\tx"));
  EXPECT_FALSE(decode_wake("acme\tan%2\tx"));
  EXPECT_NE(wake_channel("s", "acme"), wake_channel("s", "globex"));
  EXPECT_NE(wake_channel("s1", "acme"), wake_channel("s2", "acme")) << "clusters apart";
  EXPECT_LE(wake_channel("agendasync_cluster", std::string(59, 'x')).size(), 63u);
}

/// A receiving node: its LISTEN connection and bus, recording when each wake arrived.
struct Receiver {
  explicit Receiver(ClusterDatabase& db)
      : listener(db.target().conninfo),
        bus(db.pool(), listener, db.target().schema, [this](const Wake& wake) {
          std::lock_guard lock(mutex);
          arrived.emplace_back(wake, Clock::now());
        }) {
    listener.start();
  }
  ~Receiver() {
    bus.stop();
    listener.stop();
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return arrived.size();
  }
  PgListener listener;
  WakeBus bus;
  std::mutex mutex;
  std::vector<std::pair<Wake, Clock::time_point>> arrived;
};

TEST(WakeBus, AWakeReachesTheOwnersConnectionInUnder100Milliseconds) {
  ClusterDatabase db;
  db.migrate();
  Receiver owner(db);
  Receiver bystander(db);
  owner.bus.follow("acme");
  bystander.bus.follow("globex");
  ASSERT_TRUE(owner.listener.wait_connected(5s));
  ASSERT_TRUE(bystander.listener.wait_connected(5s));
  PgListener unused(db.target().conninfo);
  WakeBus sender(db.pool(), unused, db.target().schema, [](const Wake&) {});

  std::vector<double> latencies;
  for (int i = 0; i < 200; ++i) {
    const auto sent = Clock::now();
    sender.publish(Wake{"acme", "user" + std::to_string(i), "host-change"});
    ASSERT_TRUE(eventually([&] { return owner.count() == static_cast<std::size_t>(i + 1); }, 2s))
        << "wake " << i << " never arrived";
    latencies.push_back(
        std::chrono::duration<double, std::milli>(owner.arrived.back().second - sent).count());
  }
  std::sort(latencies.begin(), latencies.end());
  const double p50 = latencies[latencies.size() / 2];
  const double p99 = latencies[latencies.size() * 99 / 100];
  std::cout << "wake latency over NOTIFY: p50 " << p50 << " ms, p99 " << p99 << " ms\n";
  EXPECT_LT(p99, 100.0);
  EXPECT_EQ(owner.arrived.front().first.user, "user0");
  EXPECT_EQ(bystander.count(), 0u) << "only the owner's channel hears it";
  sender.stop();
}

TEST(WakeBus, UnfollowedOrganisationsAreNotHeard) {
  ClusterDatabase db;
  db.migrate();
  Receiver node(db);
  node.bus.follow("acme");
  ASSERT_TRUE(node.listener.wait_connected(5s));
  node.bus.unfollow("acme");
  std::this_thread::sleep_for(100ms);  // the UNLISTEN goes out on the listener's thread
  ASSERT_TRUE(node.bus.publish_now(Wake{"acme", "anna", "sync-now"}));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(node.count(), 0u);
  node.bus.follow("acme");
  ASSERT_TRUE(node.listener.wait_connected(5s));
  ASSERT_TRUE(node.bus.publish_now(Wake{"acme", "anna", "sync-now"}));
  EXPECT_TRUE(eventually([&] { return node.count() == 1; }, 2s));
}

TEST(WakeBus, ATerminatedListenConnectionReconnectsRescansAndHearsAgain) {
  ClusterDatabase db;
  db.migrate();
  Receiver node(db);
  std::atomic<int> rescans{0};
  node.listener.on_reconnect([&] { ++rescans; });
  node.bus.follow("acme");
  ASSERT_TRUE(node.listener.wait_connected(5s));
  const int pid = node.listener.backend_pid();
  ASSERT_GT(pid, 0);
  auto admin = db.admin();
  ASSERT_TRUE(admin);
  auto ended = admin->query("SELECT pg_terminate_backend($1::integer)", {std::int64_t{pid}});
  ASSERT_TRUE(ended) << ended.error().message;
  ASSERT_TRUE(eventually([&] { return rescans.load() == 1; }, 5s))
      << "the node rescans once it LISTENs again";
  EXPECT_NE(node.listener.backend_pid(), pid);
  EXPECT_EQ(node.listener.reconnects(), 1u);
  ASSERT_TRUE(node.bus.publish_now(Wake{"acme", "anna", "host-change"}));
  EXPECT_TRUE(eventually([&] { return node.count() == 1; }, 2s)) << "the channel is LISTENed again";
}

TEST(WakeBus, ANodeRoutesAWakeToTheOwnerWhichRunsItThere) {
  ClusterDatabase db;
  db.migrate();
  const auto lease = 1500ms;
  auto open = [&](const std::string& name) {
    NodeOptions options;
    options.database = db.target().conninfo;
    options.schema = db.target().schema;
    options.name = name;
    options.lease = lease;
    return Node::open(options).value();
  };
  auto a = open("node-a");
  auto b = open("node-b");
  std::mutex mutex;
  std::vector<std::pair<std::string, Wake>> ran;
  std::atomic<int> rescanned{0};
  auto callbacks = [&](const std::string& name, Node& node) {
    NodeCallbacks out;
    out.organisations = [] { return std::vector<std::string>{"acme"}; };
    out.wake = [&, name, &node = node](const Wake& wake) {
      // As the daemon does: the scheduler asks route(), which must keep it here.
      EXPECT_FALSE(node.route(wake.org, wake.user, wake.why, false));
      std::lock_guard lock(mutex);
      ran.emplace_back(name, wake);
    };
    out.rescan = [&](const std::string&) { ++rescanned; };
    return out;
  };
  a->run(callbacks("node-a", *a));
  ASSERT_TRUE(eventually([&] { return a->owns("acme"); }, 3 * lease));
  b->run(callbacks("node-b", *b));
  std::this_thread::sleep_for(lease / 2);
  EXPECT_FALSE(b->owns("acme"));
  EXPECT_FALSE(a->route("acme", "anna", "host-change", false)) << "the owner runs it itself";
  EXPECT_TRUE(b->route("acme", "anna", "safety-net", true)) << "the safety net is the owner's";
  std::this_thread::sleep_for(200ms);
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(ran.empty()) << "a safety-net wake is not sent";
  }
  EXPECT_TRUE(b->route("acme", "anna", "host-change", false));
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(mutex);
        return ran.size() == 1;
      },
      2s));
  EXPECT_EQ(ran[0].first, "node-a");
  EXPECT_EQ(ran[0].second, (Wake{"acme", "anna", "host-change"}));
  b->stop();
  a->stop();
}

}  // namespace
}  // namespace agendasync::cluster
