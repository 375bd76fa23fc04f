// The node registry and organisation ownership (issue 17 §3, §6) against the real
// PostgreSQL: fair shares, take-over after a node dies or stalls, give-back on SIGTERM.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include "cluster/node.h"
#include "cluster/node_registry.h"
#include "cluster/ownership.h"
#include "cluster/test_support.h"
#include "store/database_locator.h"
#include "store/pg_schema.h"

namespace agendasync::cluster {
namespace {

using namespace std::chrono_literals;
using testing::ClusterDatabase;
using testing::eventually;

/// One node's registry row and ownership, ticked by the test.
struct TestNode {
  TestNode(ClusterDatabase& db, const std::string& name, std::chrono::milliseconds lease)
      : registry(db.pool(), name, "test", lease), ownership(db.pool(), name, lease) {
    auto joined = registry.join();
    EXPECT_TRUE(joined) << joined.error().message;
  }
  OwnershipChanges tick(const std::vector<std::string>& orgs) {
    auto beat = registry.heartbeat();
    EXPECT_TRUE(beat) << beat.error().message;
    auto live = registry.live_nodes();
    EXPECT_TRUE(live) << live.error().message;
    auto changes = ownership.tick(orgs, live ? *live : 1);
    EXPECT_TRUE(changes) << changes.error().message;
    return changes ? *changes : OwnershipChanges{};
  }
  NodeRegistry registry;
  OrgOwnership ownership;
};

std::vector<std::string> orgs(int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back("org-" + std::to_string(i));
  return out;
}

/// Ticks every node `rounds` times.
void settle(std::vector<TestNode*> nodes, const std::vector<std::string>& served, int rounds = 4) {
  for (int round = 0; round < rounds; ++round) {
    for (auto* node : nodes) node->tick(served);
  }
}

/// Every organisation owned by exactly one of `nodes`.
void expect_each_owned_once(std::vector<TestNode*> nodes, const std::vector<std::string>& served) {
  for (const auto& org : served) {
    int owners = 0;
    for (auto* node : nodes) owners += node->ownership.owns(org) ? 1 : 0;
    EXPECT_EQ(owners, 1) << org;
  }
}

TEST(ClusterSchema, ANodeRefusesMissingTablesNamingMigrateAndMigrateRunsOnce) {
  ClusterDatabase db;
  NodeOptions options;
  options.database = db.target().conninfo;
  options.schema = db.target().schema;
  options.name = "node-a";
  auto refused = Node::open(options);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("agendasync migrate"), std::string::npos)
      << refused.error().message;

  auto first = migrate_cluster(db.target());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, 0);
  auto again = migrate_cluster(db.target());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, cluster_schema_version()) << "the second migrate finds nothing to do";
  auto opened = Node::open(options);
  ASSERT_TRUE(opened) << opened.error().message;
  (*opened)->stop();
}

TEST(FairShare, RoundsUpAndCountsItselfWhenAlone) {
  EXPECT_EQ(fair_share(3, 3), 1u);
  EXPECT_EQ(fair_share(3, 2), 2u);
  EXPECT_EQ(fair_share(300, 3), 100u);
  EXPECT_EQ(fair_share(5, 0), 5u);
  EXPECT_EQ(fair_share(0, 4), 0u);
}

TEST(NodeRegistry, ANodeWithoutHeartbeatForTheLeaseIsDeadAndOneThatLeftAtOnce) {
  ClusterDatabase db;
  db.migrate();
  NodeRegistry a(db.pool(), "node-a", "1.0", 600ms);
  NodeRegistry b(db.pool(), "node-b", "1.0", 600ms);
  NodeRegistry c(db.pool(), "node-c", "1.0", 600ms);
  ASSERT_TRUE(a.join());
  ASSERT_TRUE(b.join());
  ASSERT_TRUE(c.join());
  EXPECT_EQ(a.live_nodes().value(), 3u);
  ASSERT_TRUE(c.leave());
  EXPECT_EQ(a.live_nodes().value(), 2u) << "a node that left stops counting at once";
  std::this_thread::sleep_for(400ms);
  ASSERT_TRUE(a.heartbeat());
  std::this_thread::sleep_for(400ms);  // b's heartbeat is now 800 ms old
  ASSERT_TRUE(a.heartbeat());
  EXPECT_EQ(a.live_nodes().value(), 1u) << "b missed its heartbeats for the lease time";
  auto listed = a.list({}).value();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].name, "node-a");
  EXPECT_TRUE(listed[0].alive);
  EXPECT_FALSE(listed[1].alive);
  EXPECT_GE(listed[1].heartbeat_age_seconds, 0.7);
  EXPECT_TRUE(listed[2].stopped);
  EXPECT_EQ(listed[0].version, "1.0");
  ASSERT_TRUE(b.heartbeat());
  EXPECT_EQ(a.live_nodes().value(), 2u) << "a node that beats again is alive again";
}

TEST(NodeRegistry, ListsTheOrganisationsAndPairLeasesEachNodeHolds) {
  ClusterDatabase db;
  db.migrate();
  // An organisation's schema with a pair lease held by node-b (as a sync run leaves it).
  const std::string org = "t" + std::to_string(::getpid()) + "-leases";
  auto target = store::organisation_target(db.target().conninfo, org).value();
  struct Drop {
    std::string conninfo, schema;
    ~Drop() {
      if (auto admin = store::pg::Connection::open({conninfo, ""})) {
        (void)(*admin)->exec("DROP SCHEMA IF EXISTS " + store::pg::quote_identifier(schema) +
                             " CASCADE");
      }
    }
  } drop{target.conninfo, target.schema};
  {
    auto conn = store::pg::Connection::open(target).value();
    ASSERT_TRUE(store::pg::migrate(*conn));
    ASSERT_TRUE(
        conn->run("INSERT INTO sync_lease (pair, holder, epoch, expires_at) VALUES "
                  "('anna', 'node-b', 7, now() + interval '1 minute'), "
                  "('ben', 'node-b', 2, now() - interval '1 minute')"));
  }
  TestNode a(db, "node-a", 5s);
  TestNode b(db, "node-b", 5s);
  a.tick({org, "other"});
  b.tick({org, "other"});
  auto listed = a.registry.list({org, "no-such-org"}).value();
  ASSERT_EQ(listed.size(), 2u);
  std::size_t organisations = listed[0].organisations.size() + listed[1].organisations.size();
  EXPECT_EQ(organisations, 2u) << "each organisation owned by one of them";
  ASSERT_EQ(listed[1].pairs.size(), 1u) << "only the live lease";
  EXPECT_EQ(listed[1].pairs[0].org, org);
  EXPECT_EQ(listed[1].pairs[0].pair, "anna");
  EXPECT_EQ(listed[1].pairs[0].epoch, 7);
  EXPECT_GT(listed[1].pairs[0].expires_in_seconds, 30);
  EXPECT_TRUE(listed[0].pairs.empty());
}

TEST(Ownership, ThreeNodesShareTheOrganisationsFairlyEachOwnedByExactlyOne) {
  ClusterDatabase db;
  db.migrate();
  const auto served = orgs(7);
  TestNode a(db, "node-a", 5s), b(db, "node-b", 5s), c(db, "node-c", 5s);
  settle({&a, &b, &c}, served);
  expect_each_owned_once({&a, &b, &c}, served);
  for (auto* node : {&a, &b, &c}) {
    EXPECT_LE(node->ownership.owned().size(), 3u) << node->ownership.node() << ": ceil(7 / 3)";
    EXPECT_GE(node->ownership.owned().size(), 1u) << node->ownership.node();
  }
}

TEST(Ownership, ANodeAloneTakesAllAndGivesTheSurplusBackAsOthersJoin) {
  ClusterDatabase db;
  db.migrate();
  const auto served = orgs(6);
  TestNode a(db, "node-a", 5s);
  auto first = a.tick(served);
  EXPECT_EQ(first.gained.size(), 6u);
  TestNode b(db, "node-b", 5s);
  TestNode c(db, "node-c", 5s);
  settle({&a, &b, &c}, served);
  expect_each_owned_once({&a, &b, &c}, served);
  EXPECT_EQ(a.ownership.owned().size(), 2u);
  EXPECT_EQ(b.ownership.owned().size(), 2u);
  EXPECT_EQ(c.ownership.owned().size(), 2u);
}

TEST(Ownership, ADeadNodesOrganisationsAreTakenAfterTheLeaseWithAHigherEpoch) {
  ClusterDatabase db;
  db.migrate();
  const auto served = orgs(6);
  const auto lease = 900ms;
  TestNode a(db, "node-a", lease), b(db, "node-b", lease), c(db, "node-c", lease);
  settle({&a, &b, &c}, served);
  expect_each_owned_once({&a, &b, &c}, served);
  const auto dead = c.ownership.owned();
  ASSERT_EQ(dead.size(), 2u);
  std::map<std::string, std::int64_t> old_epochs;
  for (const auto& org : dead) old_epochs[org] = *c.ownership.epoch(org);

  // node-c dies (no more ticks); the others tick every lease/3, as the Node thread does.
  const auto died = std::chrono::steady_clock::now();
  std::set<std::string> taken;
  while (taken.size() < dead.size() && std::chrono::steady_clock::now() - died < 3 * lease) {
    for (auto* node : {&a, &b}) {
      for (const auto& org : node->tick(served).gained) taken.insert(org);
    }
    std::this_thread::sleep_for(lease / 3);
  }
  const auto took = std::chrono::steady_clock::now() - died;
  EXPECT_EQ(taken, std::set<std::string>(dead.begin(), dead.end()));
  EXPECT_LE(took, lease + lease / 3 + 300ms) << "within the lease and a tick";
  EXPECT_FALSE(c.ownership.owns(dead[0])) << "the dead node's own view expired too";
  for (const auto& org : dead) {
    auto* owner = a.ownership.owns(org) ? &a : &b;
    EXPECT_GT(*owner->ownership.epoch(org), old_epochs[org]) << org;
  }
  expect_each_owned_once({&a, &b}, served);
  EXPECT_EQ(a.ownership.owned().size(), 3u);
  EXPECT_EQ(b.ownership.owned().size(), 3u);
}

TEST(Ownership, AStalledNodeStopsBelievingItOwnsAndLearnsItLostOnWaking) {
  ClusterDatabase db;
  db.migrate();
  const std::vector<std::string> served = {"acme"};
  const auto lease = 600ms;
  TestNode a(db, "node-a", lease);
  a.tick(served);
  ASSERT_TRUE(a.ownership.owns("acme"));
  const auto epoch = *a.ownership.epoch("acme");
  TestNode b(db, "node-b", lease);
  b.tick(served);
  EXPECT_FALSE(b.ownership.owns("acme")) << "a live lease is not taken";
  std::this_thread::sleep_for(lease + 100ms);  // node-a is SIGSTOPped past its lease
  EXPECT_FALSE(a.ownership.owns("acme")) << "no renewal for a lease: not the owner any more";
  auto took = b.tick(served);
  ASSERT_EQ(took.gained, std::vector<std::string>{"acme"});
  EXPECT_GT(*b.ownership.epoch("acme"), epoch);
  auto woke = a.tick(served);  // SIGCONT
  EXPECT_EQ(woke.lost, std::vector<std::string>{"acme"}) << "its watchers stop";
  EXPECT_TRUE(woke.gained.empty());
  EXPECT_FALSE(a.ownership.owns("acme"));
  EXPECT_TRUE(b.ownership.owns("acme"));
}

TEST(Ownership, OrganisationsNoLongerServedAreGivenBack) {
  ClusterDatabase db;
  db.migrate();
  TestNode a(db, "node-a", 5s);
  a.tick({"acme", "globex"});
  ASSERT_EQ(a.ownership.owned().size(), 2u);
  auto changes = a.tick({"acme"});  // globex suspended
  EXPECT_EQ(changes.lost, std::vector<std::string>{"globex"});
  EXPECT_EQ(a.ownership.owned(), std::vector<std::string>{"acme"});
}

/// The Node: threads, callbacks, give-back on stop.
struct Recorder {
  std::mutex mutex;
  std::set<std::string> owned;
  std::vector<std::string> log;
  NodeCallbacks callbacks(std::vector<std::string> served) {
    NodeCallbacks out;
    out.organisations = [served] { return served; };
    out.gained = [this](const std::string& org) {
      std::lock_guard lock(mutex);
      owned.insert(org);
      log.push_back("+" + org);
    };
    out.lost = [this](const std::string& org) {
      std::lock_guard lock(mutex);
      owned.erase(org);
      log.push_back("-" + org);
    };
    return out;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return owned.size();
  }
};

std::unique_ptr<Node> open_node(ClusterDatabase& db, const std::string& name,
                                std::chrono::milliseconds lease) {
  NodeOptions options;
  options.database = db.target().conninfo;
  options.schema = db.target().schema;
  options.name = name;
  options.version = "test";
  options.lease = lease;
  auto node = Node::open(options);
  EXPECT_TRUE(node) << node.error().message;
  return node ? std::move(*node) : nullptr;
}

TEST(Node, StoppingGivesEveryOrganisationBackAndTheOtherTakesThemWithinATick) {
  ClusterDatabase db;
  db.migrate();
  const auto served = orgs(4);
  const auto lease = 1500ms;
  Recorder ra, rb;
  auto a = open_node(db, "node-a", lease);
  auto b = open_node(db, "node-b", lease);
  ASSERT_TRUE(a && b);
  a->run(ra.callbacks(served));
  b->run(rb.callbacks(served));
  ASSERT_TRUE(eventually([&] { return ra.count() == 2 && rb.count() == 2; }, 4 * lease))
      << ra.count() << " + " << rb.count();
  const auto stopping = std::chrono::steady_clock::now();
  a->stop();
  EXPECT_EQ(ra.count(), 0u) << "its watchers stopped before stop() returned";
  ASSERT_TRUE(eventually([&] { return rb.count() == 4; }, 2 * lease));
  EXPECT_LE(std::chrono::steady_clock::now() - stopping, lease / 3 + 400ms)
      << "given back: no wait for the expiry";
  b->stop();
}

}  // namespace
}  // namespace agendasync::cluster
