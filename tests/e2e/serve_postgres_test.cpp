// `agendasync serve` on PostgreSQL (issue 17, CTest label `multinode`, optimised build only):
// real daemon processes whose every table — platform, tokens, console sessions, each
// organisation's agenda, sync state and service tables — lives in one PostgreSQL database of
// the test's own, against the real exsim. An operator makes an organisation and a user over
// the REST API of node 1; API writes reach Exchange and an Outlook change reaches the host. A
// second node on the same database serves the same data: a token and a console session made
// through node 1 work on node 2, an API write on node 2 syncs without a duplicate, and an
// organisation created or suspended through node 2 is served or refused by node 1 as well.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/demo/serve_test_support.h"
#include "tests/e2e/serve_nodes.h"

namespace agendasync::e2e {
namespace {

using demotest::eventually;
using nlohmann::json;

std::pair<int, json> request(int port, const std::string& method, const std::string& path,
                             const json& body = nullptr, httplib::Headers headers = {}) {
  return http_request(port, method, path, body, headers);
}

json appointment(const std::string& owner, const std::string& subject, int day) {
  return api_appointment(owner, subject, day);
}

bool has(const std::vector<std::string>& list, const std::string& subject) {
  return std::find(list.begin(), list.end(), subject) != list.end();
}

class ServeOnPostgres : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(cluster_.set_up(world_)); }

  World world_;
  NodeCluster cluster_;
  const std::string& operator_ = cluster_.operator_token();
};

TEST_F(ServeOnPostgres, TwoNodesServeOneDatabaseAndSyncBothWays) {
  auto node1 = cluster_.start_node("node-1");
  const int one = node1->port();
  const std::string contoso = "/api/v1/organisations/contoso";

  // The operator makes an organisation, its connection, a token and a user through node 1.
  const std::string integration =
      cluster_.create_organisation(one, "contoso", cluster_.ews_connection());
  ASSERT_FALSE(integration.empty());
  ASSERT_TRUE(cluster_.add_user(one, "contoso", "jdoe", "jdoe@example.com", true));

  // An API write reaches Exchange; an Outlook change reaches the host (EWS streaming wakes
  // the pair: the safety net is an hour away).
  auto [posted, posted_body] =
      request(one, "POST", "/api/v1/appointments", appointment("jdoe", "From the host", 0),
              bearer(integration));
  ASSERT_EQ(posted, 201) << posted_body.dump();
  ASSERT_TRUE(eventually([&] {
    for (const auto& item : world_.exchange_items("jdoe@example.com")) {
      if (item.value("subject", "") == "From the host") return true;
    }
    return false;
  })) << node1->log();
  world_.outlook_create("jdoe@example.com", "From Outlook", future(3));
  auto host_subjects = [&](int port) {
    auto [status, body] =
        request(port, "GET", "/api/v1/appointments?user=jdoe", nullptr, bearer(integration));
    return status == 200 ? sorted_subjects(body["appointments"]) : std::vector<std::string>{};
  };
  ASSERT_TRUE(eventually([&] { return has(host_subjects(one), "From Outlook"); })) << node1->log();

  auto status_of = [&](int port) {
    auto [status, body] =
        request(port, "GET", "/api/v1/users/jdoe/status", nullptr, bearer(integration));
    EXPECT_EQ(status, 200) << body.dump();
    return body.value("runs", 0);
  };
  // A run's status is recorded as it ends, a moment after its writes show.
  int runs_on_one = 0;
  EXPECT_TRUE(eventually([&] { return (runs_on_one = status_of(one)) >= 2; }))
      << "a run for each direction";

  // Node 2 on the same database: node 1's token, data, run statuses and console session work
  // there.
  auto node2 = cluster_.start_node("node-2");
  const int two = node2->port();
  EXPECT_EQ(host_subjects(two), (std::vector<std::string>{"From Outlook", "From the host"}));
  EXPECT_GE(status_of(two), runs_on_one) << "node 1's runs are node 2's status too";
  httplib::Client browser_one("127.0.0.1", one);
  auto signed_in =
      browser_one.Post("/api/v1/session", json{{"token", integration}}.dump(), "application/json");
  ASSERT_TRUE(signed_in);
  ASSERT_EQ(signed_in->status, 201) << signed_in->body;
  const std::string set_cookie = signed_in->get_header_value("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  ASSERT_EQ(cookie.rfind("agendasync_session=", 0), 0u) << set_cookie;
  const std::string csrf = json::parse(signed_in->body).value("csrf_token", "");
  auto [session_status, session] =
      request(two, "GET", "/api/v1/session", nullptr, {{"Cookie", cookie}});
  ASSERT_EQ(session_status, 200) << session.dump();
  EXPECT_EQ(session.value("csrf_token", ""), csrf);
  EXPECT_EQ(session.value("org", ""), "contoso");
  // A state change through node 2 with node 1's session (and its CSRF token) is accepted.
  auto [cookie_write, cookie_body] =
      request(two, "POST", "/api/v1/appointments", appointment("jdoe", "Through node 2", 1),
              {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(cookie_write, 201) << cookie_body.dump();

  // Whichever node holds jdoe's lease syncs it, once.
  ASSERT_TRUE(eventually([&] {
    for (const auto& item : world_.exchange_items("jdoe@example.com")) {
      if (item.value("subject", "") == "Through node 2") return true;
    }
    return false;
  })) << node1->log()
      << node2->log();
  const auto items = world_.exchange_items("jdoe@example.com");
  EXPECT_TRUE(duplicate_subjects(items).empty());
  EXPECT_EQ(items.size(), 3u);
  EXPECT_EQ(host_subjects(one), host_subjects(two));
  EXPECT_EQ(host_subjects(two).size(), 3u);

  // "Why did this change?" reads the audit trail from the organisation's schema.
  const std::string first_id = std::to_string(posted_body.value("id", 0));
  auto [audit_status, audit] = request(two, "GET", "/api/v1/appointments/" + first_id + "/audit",
                                       nullptr, bearer(integration));
  ASSERT_EQ(audit_status, 200) << audit.dump();
  ASSERT_FALSE(audit["audit"].empty()) << audit.dump();
  EXPECT_EQ(audit["audit"][0].value("operation", ""), "create") << audit.dump();

  // What the operator changes through one node, the other follows within a few seconds: a new
  // organisation is served there, a suspended one refused there.
  auto [made_two, made_body] =
      request(two, "POST", "/api/v1/organisations", {{"id", "fabrikam"}, {"name", "Fabrikam"}},
              bearer(operator_));
  ASSERT_EQ(made_two, 201) << made_body.dump();
  EXPECT_TRUE(eventually(
      [&] {
        return request(one, "GET", "/api/v1/organisations/fabrikam/users", nullptr,
                       bearer(operator_))
                   .first == 200;
      },
      std::chrono::seconds(20)))
      << node1->log();
  auto [suspended, suspended_body] =
      request(two, "PATCH", contoso, {{"state", "suspended"}}, bearer(operator_));
  ASSERT_EQ(suspended, 200) << suspended_body.dump();
  EXPECT_TRUE(eventually(
      [&] {
        return request(one, "GET", "/api/v1/appointments?user=jdoe", nullptr, bearer(integration))
                   .first == 403;
      },
      std::chrono::seconds(20)))
      << node1->log();

  // The leases were held under the nodes' names (--node-name).
  auto db = cluster_.sql("org_contoso");
  ASSERT_TRUE(db);
  auto holders = db->query("SELECT DISTINCT holder FROM sync_lease ORDER BY holder");
  ASSERT_TRUE(holders) << holders.error().message;
  ASSERT_GE(holders->size(), 1);
  for (int row = 0; row < holders->size(); ++row) {
    const std::string holder = holders->text_at(row, 0);
    EXPECT_TRUE(holder == "node-1" || holder == "node-2") << holder;
  }

  EXPECT_EQ(node2->stop(SIGTERM), 0) << node2->log();
  EXPECT_EQ(node1->stop(SIGTERM), 0) << node1->log();
  // Nothing was written to an SQLite file next to the configuration.
  for (const auto& entry : std::filesystem::directory_iterator(world_.dir())) {
    EXPECT_FALSE(entry.path().filename().string().find(".sync.db") != std::string::npos)
        << entry.path();
  }
}

}  // namespace
}  // namespace agendasync::e2e
