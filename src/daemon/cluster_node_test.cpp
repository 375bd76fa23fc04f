// The daemon's cluster hooks (issue 17) with two in-process servers joined to one cluster on
// the real PostgreSQL (AGENDASYNC_TEST_PG): the organisation's watchers start on its owner
// only, an API write on the other node is synced by the owner (the hop timed), and when the
// owner stops its organisation and watchers move to the other node. Each server keeps its own
// SQLite agenda here — `serve` on PostgreSQL is another part of issue 17 — so this tests the
// coordination, not the shared data.
#include "daemon/cluster_node.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "cluster/test_support.h"
#include "net/http.h"
#include "platform/platform.h"
#include "service/secrets/key_ring.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using cluster::testing::ClusterDatabase;
using cluster::testing::eventually;

/// One node: its own agenda file, server, cluster node, and what ran on it.
struct TestNode {
  TestNode(ClusterDatabase& db, const std::string& name) : name(name) {
    std::random_device random;
    dir = std::filesystem::temp_directory_path() /
          ("agendasync-cluster-" + name + "-" + std::to_string(random()));
    std::filesystem::create_directories(dir);
    {
      auto store = store::open_sqlite_agenda_store(dir / "agenda.db", {.create = true}).value();
      store::OrganisationSettings settings;
      settings.mail_domain = "example.com";
      EXPECT_TRUE(store->set_settings(settings));
      EXPECT_TRUE(store->add_user(User{"anna", "Anna", "", false, true, {}}));
      EXPECT_TRUE(store->put_activity_type({"Meeting", true, true, false}));
    }
    cluster::NodeOptions node_options;
    node_options.database = db.target().conninfo;
    node_options.schema = db.target().schema;
    node_options.name = name;
    node_options.lease = 1500ms;
    node = std::shared_ptr<cluster::Node>(cluster::Node::open(node_options).value());

    config::Config config;
    config.database = dir / "agenda.db";
    platform = std::shared_ptr<platform::Platform>(
        platform::Platform::open(config, service::secrets::KeyRing{}).value());
    service::ServerOptions options;
    options.database = dir / "agenda.db";
    options.scheduler.debounce = 0ms;  // the hop is what is timed, not the burst window
    options.scheduler.safety_net = 0ms;
    options.feed_poll = 20ms;
    options.sync = [this](const service::PairRef& pair) -> Result<service::SyncResult> {
      std::lock_guard lock(mutex);
      runs.emplace_back(pair.org + "/" + pair.user, Clock::now());
      return service::SyncResult{};
    };
    std::shared_ptr<cluster::Node> held = node;
    options.start_organisation = [this, held](service::Server&, const std::string& org,
                                              const config::Config&) {
      // As daemon.cpp: the watchers run only on the organisation's owner.
      if (!may_watch(held, org)) return Result<std::function<void()>>([] {});
      std::lock_guard lock(mutex);
      ++watching[org];
      return Result<std::function<void()>>([this, org] {
        std::lock_guard lock(mutex);
        --watching[org];
      });
    };
    wire_cluster(node, platform, options);
    auto companions = options.start_companions;
    server = service::Server::start(std::move(options)).value();
    stop_companions = companions(*server).value();
    admin = server->tokens().create("admin", "t")->value.reveal();
    operator_token = server->operator_tokens().create("operator", "ops")->value.reveal();
  }
  ~TestNode() {
    stop();
    std::filesystem::remove_all(dir);
  }
  void stop() {
    if (stop_companions) std::exchange(stop_companions, nullptr)();
    if (server) server->stop();
  }
  int watchers(const std::string& org) {
    std::lock_guard lock(mutex);
    return watching[org];
  }
  std::size_t run_count() {
    std::lock_guard lock(mutex);
    return runs.size();
  }

  std::string name;
  std::filesystem::path dir;
  std::shared_ptr<cluster::Node> node;
  std::shared_ptr<platform::Platform> platform;
  std::unique_ptr<service::Server> server;
  std::function<void()> stop_companions;
  std::string admin, operator_token;
  std::mutex mutex;
  std::map<std::string, int> watching;
  std::vector<std::pair<std::string, Clock::time_point>> runs;
};

TEST(ClusterHooks, WatchersRunOnTheOwnerAndAnApiWriteOnAnotherNodeIsSyncedThere) {
  ClusterDatabase db;
  db.migrate();
  TestNode a(db, "node-a");
  ASSERT_TRUE(eventually([&] { return a.watchers("default") == 1; }, 5s))
      << "the first node owns the organisation and watches it";
  // Its catch-up ran the pair once on the owner.
  ASSERT_TRUE(eventually([&] { return a.run_count() >= 1; }, 3s));
  TestNode b(db, "node-b");
  std::this_thread::sleep_for(1s);  // a few ticks: the one organisation stays where it is
  EXPECT_EQ(b.watchers("default"), 0) << "exactly one node watches an organisation";
  EXPECT_EQ(a.watchers("default"), 1);
  EXPECT_EQ(b.run_count(), 0u) << "the other node's catch-up and safety net are the owner's";

  // libcurl, as the daemon's own client (cpp-httplib's client cannot connect in every
  // sandbox the tests run in).
  auto client = net::make_curl_client({});
  auto request = [&](const std::string& method, const std::string& path, const std::string& token,
                     const std::string& body) {
    net::Request sent;
    sent.method = method;
    sent.url = "http://127.0.0.1:" + std::to_string(b.server->port()) + path;
    sent.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    sent.body = body;
    sent.retry_allowed = false;
    return client->send(sent, {});
  };
  // GET /api/v1/nodes on node-b: both nodes, node-a owning the organisation.
  auto listed = request("GET", "/api/v1/nodes", b.operator_token, "");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->status, 200) << listed->body;
  const auto nodes = nlohmann::json::parse(listed->body);
  EXPECT_EQ(nodes["clustered"], true);
  ASSERT_EQ(nodes["nodes"].size(), 2u) << listed->body;
  EXPECT_EQ(nodes["nodes"][0]["name"], "node-a");
  EXPECT_EQ(nodes["nodes"][0]["alive"], true);
  ASSERT_EQ(nodes["nodes"][0]["organisations"].size(), 1u) << listed->body;
  EXPECT_EQ(nodes["nodes"][0]["organisations"][0]["org"], "default");
  EXPECT_TRUE(nodes["nodes"][1]["organisations"].empty());
  auto refused = request("GET", "/api/v1/nodes", b.admin, "");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << "operators only";
  std::vector<double> hops;
  for (int i = 0; i < 20; ++i) {
    const std::size_t before = a.run_count();
    const nlohmann::json body = {{"subject", "write " + std::to_string(i)},
                                 {"start", "2027-01-12T09:00:00Z"},
                                 {"end", "2027-01-12T10:00:00Z"},
                                 {"time_zone", "Europe/Amsterdam"},
                                 {"owner", "anna"}};
    const auto sent = Clock::now();
    auto posted = request("POST", "/api/v1/appointments", b.admin, body.dump());
    ASSERT_TRUE(posted) << posted.error().message;
    ASSERT_EQ(posted->status, 201) << posted->body;
    ASSERT_TRUE(eventually([&] { return a.run_count() > before; }, 3s))
        << "write " << i << " never reached the owner";
    std::lock_guard lock(a.mutex);
    hops.push_back(std::chrono::duration<double, std::milli>(a.runs[before].second - sent).count());
    // Let the follower's second wake of the same write land before the next one.
    std::this_thread::sleep_for(50ms);
  }
  std::sort(hops.begin(), hops.end());
  std::cout << "API write on node-b -> run on node-a: p50 " << hops[hops.size() / 2] << " ms, p99 "
            << hops[hops.size() * 99 / 100] << " ms\n";
  EXPECT_LT(hops[hops.size() * 99 / 100], 500.0);
  EXPECT_EQ(b.run_count(), 0u) << "never run on the node that does not own the organisation";

  // The owner stops (SIGTERM): its watchers stop, the other node takes over within a tick.
  const auto stopping = Clock::now();
  a.stop();
  EXPECT_EQ(a.watchers("default"), 0);
  ASSERT_TRUE(eventually([&] { return b.watchers("default") == 1; }, 3s));
  std::cout << "watchers moved in "
            << std::chrono::duration<double, std::milli>(Clock::now() - stopping).count()
            << " ms\n";
  ASSERT_TRUE(eventually([&] { return b.run_count() >= 1; }, 3s)) << "the new owner catches up";
}

}  // namespace
}  // namespace agendasync::daemon
