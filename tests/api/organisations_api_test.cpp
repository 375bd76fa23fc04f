// Organisations through the API (issue 16 §1, §5): a property test over random operations of
// two organisations — through their short routes, their long routes and each other's — that
// checks after every operation that the other organisation's rows did not change and that no
// token ever reached another organisation; and the system interface: pairs keyed by
// organisation, Graph notifications routed by the organisation's own URL, tokens that say
// whose they are.
#include <random>

#include "api_test_support.h"
#include "platform/platform.h"
#include "service/tenant.h"

namespace agendasync::apitest {
namespace {

/// Everything an organisation's API can change, read straight from its own stores.
struct Snapshot {
  std::vector<User> users;
  std::vector<store::StoredAppointment> appointments;
  std::vector<store::ActivityType> types;
  store::OrganisationSettings settings;
  store::Revision head = 0;
  std::vector<std::string> tokens;
  std::size_t webhooks = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(service::Tenant& tenant) {
  Snapshot shot;
  shot.users = *tenant.store().users();
  shot.appointments = *tenant.store().appointments({});
  shot.types = *tenant.store().activity_types();
  shot.settings = *tenant.store().settings();
  shot.head = *tenant.store().head_revision();
  const auto tokens = tenant.tokens().list();
  for (const auto& token : *tokens) shot.tokens.push_back(token.id);
  shot.webhooks = tenant.webhooks().list()->size();
  return shot;
}

class OrganisationsApi : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    ASSERT_TRUE(server_->platform().create("beta", "Beta Ltd"));
    ASSERT_TRUE(server_->refresh_organisation("beta"));
    auto beta = server_->tenant("beta");
    ASSERT_TRUE(beta);
    store::OrganisationSettings settings;
    settings.mail_domain = "beta.example";
    ASSERT_TRUE(beta->store().set_settings(settings));
    ASSERT_TRUE(beta->store().add_user(User{"alice", "Alice of Beta", "", false, false, {}}));
    ASSERT_TRUE(beta->store().add_user(User{"zed", "Zed", "", false, false, {}}));
    beta_admin_ = beta->tokens().create("admin", "t")->value.reveal();
    beta_integration_ = beta->tokens().create("integration", "t")->value.reveal();
    operator_ = server_->operator_tokens().create("operator", "ops")->value.reveal();
  }
  std::string beta_admin_, beta_integration_, operator_;
};

TEST_F(OrganisationsApi, RandomOperationsOfOneOrganisationNeverTouchTheOther) {
  struct Org {
    std::string id;
    std::vector<std::string> tokens;
    std::vector<std::string> users;
  };
  const std::array<Org, 2> orgs = {Org{"default", {admin_, integration_}, {"alice", "bob"}},
                                   Org{"beta", {beta_admin_, beta_integration_}, {"alice", "zed"}}};
  std::mt19937 random(20261207);
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
  };
  int reached_other = 0;
  for (int step = 0; step < 250; ++step) {
    const std::size_t me = pick(2);
    const Org& self = orgs[me];
    const Org& other = orgs[1 - me];
    const std::string token = self.tokens[pick(self.tokens.size())];
    // The short form, the own long form, or the other's long form (which must be refused).
    const std::size_t form = pick(3);
    const std::string base = form == 0   ? "/api/v1"
                             : form == 1 ? "/api/v1/organisations/" + self.id
                                         : "/api/v1/organisations/" + other.id;
    const std::string user = self.users[pick(self.users.size())];
    const Snapshot before = snapshot(*server_->tenant(other.id));
    Reply reply;
    switch (pick(8)) {
      case 0:
        reply = call("POST", base + "/appointments", token,
                     json{{"subject", "s" + std::to_string(step)},
                          {"start", "2027-01-12T09:00:00Z"},
                          {"end", "2027-01-12T10:00:00Z"},
                          {"time_zone", "Europe/Amsterdam"},
                          {"owner", user}});
        break;
      case 1:
        reply = call("GET", base + "/appointments/" + std::to_string(1 + pick(5)), token);
        if (reply.status == 200) {
          reply = call("PATCH", base + "/appointments/" + reply.json_body["id"].dump(), token,
                       json{{"subject", "patched " + std::to_string(step)}},
                       {{"If-Match", reply.header("ETag")}});
        }
        break;
      case 2: {
        auto got = call("GET", base + "/appointments/" + std::to_string(1 + pick(5)), token);
        reply = got.status == 200
                    ? call("DELETE", base + "/appointments/" + got.json_body["id"].dump(), token,
                           std::nullopt, {{"If-Match", got.header("ETag")}})
                    : got;
        break;
      }
      case 3:
        reply =
            call("POST", base + "/users", token, json{{"user_name", "u" + std::to_string(step)}});
        break;
      case 4:
        reply = call("PATCH", base + "/users/" + user, token,
                     json{{"display_name", "renamed " + std::to_string(step)}});
        break;
      case 5:
        reply = call("PUT", base + "/activity-types/T" + std::to_string(pick(3)), token,
                     json{{"name", "T" + std::to_string(pick(3))}, {"synced", pick(2) == 1}});
        break;
      case 6:
        reply = call("POST", base + "/tokens", token, json{{"role", "integration"}});
        break;
      default:
        reply = call("GET", base + "/users/" + user + "/status", token);
        break;
    }
    if (form == 2) {
      // Another organisation's routes answer as an unknown organisation would.
      EXPECT_EQ(reply.status, 404) << step << " " << base << " " << reply.body;
      ++reached_other;
    }
    EXPECT_EQ(snapshot(*server_->tenant(other.id)), before)
        << "step " << step << ": " << self.id << " changed " << other.id << " via " << base;
  }
  EXPECT_GT(reached_other, 50);
  // Both organisations really were written to (the property is not vacuous).
  EXPECT_GT(server_->tenant("default")->store().head_revision().value(), 5);
  EXPECT_GT(server_->tenant("beta")->store().head_revision().value(), 5);
}

TEST_F(OrganisationsApi, TokensSayWhoseTheyAreAndPairsAreKeyedByOrganisation) {
  // The same user name in two organisations is two pairs.
  ASSERT_EQ(call("PATCH", "/api/v1/users/alice", admin_, json{{"admin_managed", true}}).status,
            200);
  ASSERT_EQ(call("PATCH", "/api/v1/users/alice", beta_admin_, json{{"admin_managed", true}}).status,
            200);
  ASSERT_EQ(call("PUT", "/api/v1/users/alice/sync", beta_admin_, json{{"enabled", true}}).status,
            200);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(sync_.mutex);
    return std::find(sync_.pairs.begin(), sync_.pairs.end(),
                     std::pair<std::string, std::string>{"beta", "alice"}) != sync_.pairs.end();
  }));
  {
    std::lock_guard lock(sync_.mutex);
    for (const auto& [org, user] : sync_.pairs) EXPECT_EQ(org, "beta") << user;
  }
  // The operator reaches both through the long form only.
  EXPECT_EQ(call("GET", "/api/v1/organisations/beta/users", operator_).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/organisations/default/users", operator_).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/users", operator_).status, 400);
  // An admin of beta lists beta's tokens only; an operator's token cannot be made there.
  auto listed = call("GET", "/api/v1/tokens", beta_admin_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json_body["tokens"].size(), 2u);
  EXPECT_EQ(call("POST", "/api/v1/tokens", beta_admin_, json{{"role", "operator"}}).status, 422);
  // /metrics holds every organisation's labels: with two organisations, operators only.
  EXPECT_EQ(call("GET", "/metrics", admin_).status, 403);
  EXPECT_EQ(call("GET", "/metrics", operator_).status, 200);
}

TEST_F(OrganisationsApi, GraphNotificationsReachOnlyTheOrganisationOfTheirUrl) {
  auto beta = server_->tenant("beta");
  ASSERT_TRUE(beta->graph().add({"sub-beta", "zed", 4102444800}, Secret("state-of-beta")));
  never_reveal("state-of-beta");
  json notification = {{"value", json::array({{{"subscriptionId", "sub-beta"},
                                               {"clientState", "state-of-beta"},
                                               {"changeType", "updated"}}})}};
  // At default's (old) URL the subscription is unknown: nothing wakes.
  auto wrong = call("POST", "/api/v1/notifications/graph", "", notification);
  ASSERT_EQ(wrong.status, 202);
  EXPECT_EQ(wrong.json_body["rejected"], 1);
  auto right = call("POST", "/api/v1/organisations/beta/notifications/graph", "", notification);
  ASSERT_EQ(right.status, 202);
  EXPECT_EQ(right.json_body["accepted"], 1);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(sync_.mutex);
    return std::find(sync_.pairs.begin(), sync_.pairs.end(),
                     std::pair<std::string, std::string>{"beta", "zed"}) != sync_.pairs.end();
  }));
}

TEST_F(OrganisationsApi, OperatorsCreateSuspendAndDeleteOrganisations) {
  auto created =
      call("POST", "/api/v1/organisations", operator_, json{{"id", "gamma"}, {"name", "Gamma"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(call("POST", "/api/v1/organisations", operator_, json{{"id", "gamma"}}).status, 409);
  EXPECT_EQ(call("POST", "/api/v1/organisations", operator_, json{{"id", "Bad Id"}}).status, 422);
  EXPECT_EQ(call("POST", "/api/v1/organisations", admin_, json{{"id", "delta"}}).status, 403);
  auto listed = call("GET", "/api/v1/organisations", operator_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json_body["organisations"].size(), 3u);
  // An organisation without a connection says so when asked.
  auto connection = call("GET", "/api/v1/organisations/gamma/connection", operator_);
  ASSERT_EQ(connection.status, 200);
  EXPECT_EQ(connection.json_body["backend"], "none");
  auto bad = call("PUT", "/api/v1/organisations/gamma/connection", operator_,
                  json{{"backend", "ews"}, {"ews", {{"url", "http://mail.gamma.example/EWS"}}}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.json_body["detail"].get<std::string>().find("https://"), std::string::npos);
  // Suspended: its admin is refused, the operator is not.
  const std::string gamma_admin =
      server_->tenant("gamma")->tokens().create("admin", "t")->value.reveal();
  ASSERT_EQ(
      call("PATCH", "/api/v1/organisations/gamma", operator_, json{{"state", "suspended"}}).status,
      200);
  EXPECT_EQ(call("GET", "/api/v1/users", gamma_admin).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/organisations/gamma/users", operator_).status, 200);
  // Deleting needs the id repeated; default cannot go.
  EXPECT_EQ(call("DELETE", "/api/v1/organisations/gamma", operator_).status, 422);
  EXPECT_EQ(call("DELETE", "/api/v1/organisations/default?confirm=default", operator_).status, 409);
  EXPECT_EQ(call("DELETE", "/api/v1/organisations/gamma?confirm=gamma", operator_).status, 204);
  EXPECT_EQ(call("GET", "/api/v1/organisations/gamma", operator_).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/users", gamma_admin).status, 401);
  EXPECT_EQ(server_->tenant("gamma"), nullptr);
}

}  // namespace
}  // namespace agendasync::apitest
