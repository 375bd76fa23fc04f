// GET /api/v1/nodes (issue 17 §6): operators only; on SQLite one node and nothing listed; on
// PostgreSQL the nodes of the cluster with their heartbeats and the organisations they own,
// read from the real cluster tables (AGENDASYNC_TEST_PG).
#include "api_test_support.h"
#include "cluster/node.h"
#include "cluster/test_support.h"

namespace agendasync::apitest {
namespace {

class NodesApi : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    operator_ = server_->operator_tokens().create("operator", "ops")->value.reveal();
  }
  std::string operator_;
};

TEST_F(NodesApi, OnSqliteTheOperatorSeesNoClusterAndOthersAreRefused) {
  auto listed = get("/api/v1/nodes", operator_);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json_body["clustered"], false);
  EXPECT_TRUE(listed.json_body["nodes"].empty());
  EXPECT_EQ(get("/api/v1/nodes", admin_).status, 403)
      << "an organisation's admin is not an operator";
  EXPECT_EQ(get("/api/v1/nodes", "").status, 401);
}

/// Two nodes of a cluster on the test server, the first owning organisation default.
class ClusteredNodesApi : public NodesApi {
 protected:
  void configure(service::ServerOptions& options) override {
    db_.migrate();
    for (const char* name : {"node-a", "node-b"}) {
      cluster::NodeOptions node;
      node.database = db_.target().conninfo;
      node.schema = db_.target().schema;
      node.name = name;
      node.version = "9.9.9";
      node.lease = std::chrono::milliseconds(1500);
      auto opened = cluster::Node::open(node);
      ASSERT_TRUE(opened) << opened.error().message;
      nodes_.push_back(std::move(*opened));
    }
    cluster::NodeCallbacks callbacks;
    callbacks.organisations = [] { return std::vector<std::string>{"default"}; };
    nodes_[0]->run(callbacks);
    cluster::Node* first = nodes_[0].get();
    options.nodes = [first] { return first->nodes({"default"}); };
  }
  void TearDown() override {
    ApiTest::TearDown();
    for (auto& node : nodes_) node->stop();
  }
  cluster::testing::ClusterDatabase db_;
  std::vector<std::unique_ptr<cluster::Node>> nodes_;
};

TEST_F(ClusteredNodesApi, ListsEveryNodeWithItsHeartbeatAndTheOrganisationsItOwns) {
  ASSERT_TRUE(eventually([&] { return nodes_[0]->owns("default"); }));
  auto listed = get("/api/v1/nodes", operator_);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json_body["clustered"], true);
  const auto& nodes = listed.json_body["nodes"];
  ASSERT_EQ(nodes.size(), 2u) << listed.body;
  EXPECT_EQ(nodes[0]["name"], "node-a");
  EXPECT_EQ(nodes[0]["version"], "9.9.9");
  EXPECT_EQ(nodes[0]["alive"], true);
  EXPECT_LT(nodes[0]["heartbeat_age_seconds"].get<double>(), 1.5);
  ASSERT_EQ(nodes[0]["organisations"].size(), 1u);
  EXPECT_EQ(nodes[0]["organisations"][0]["org"], "default");
  EXPECT_GE(nodes[0]["organisations"][0]["epoch"].get<int>(), 1);
  EXPECT_TRUE(nodes[1]["organisations"].empty());

  nodes_[1]->stop();  // node-b leaves (SIGTERM)
  listed = get("/api/v1/nodes", operator_);
  EXPECT_EQ(listed.json_body["nodes"][1]["stopped"], true);
  EXPECT_EQ(listed.json_body["nodes"][1]["alive"], false);
  EXPECT_EQ(get("/api/v1/nodes", integration_).status, 403);
}

}  // namespace
}  // namespace agendasync::apitest
