// Users, activity types, tokens and the authorisation matrix (R10, R11, R29).
#include "api_test_support.h"

namespace agendasync::apitest {
namespace {

class UsersApi : public ApiTest {};

TEST_F(UsersApi, EveryProtectedRouteNeedsAToken) {
  for (const auto& route : server_->router().routes()) {
    if (!route.authenticated) continue;
    std::string path = route.path;
    for (auto open = path.find('{'); open != std::string::npos; open = path.find('{')) {
      path.replace(open, path.find('}', open) - open + 1, "1");
    }
    auto anonymous = call(route.method, path, "");
    EXPECT_EQ(anonymous.status, 401) << route.method << " " << path;
    EXPECT_EQ(anonymous.header("Content-Type"), "application/problem+json");
    EXPECT_NE(anonymous.header("WWW-Authenticate").find("Bearer"), std::string::npos);
    auto forged = call(route.method, path, "ast_0000_forged");
    EXPECT_EQ(forged.status, 401) << route.method << " " << path;
  }
}

TEST_F(UsersApi, CreateListGetAndUpdateUsers) {
  auto created = call("POST", "/api/v1/users", integration_,
                      json{{"user_name", "DMARTINA"},
                           {"display_name", "D. Martina"},
                           {"exchange_address", "d.martina@example.org"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json_body["mailbox"], "d.martina@example.org");
  EXPECT_EQ(created.json_body["sync_enabled"], false);
  EXPECT_EQ(call("POST", "/api/v1/users", integration_, json{{"user_name", "DMARTINA"}}).status,
            409);
  auto bad_address = call("POST", "/api/v1/users", admin_,
                          json{{"user_name", "x"}, {"exchange_address", "not-an-address"}});
  EXPECT_EQ(bad_address.status, 422);
  EXPECT_NE(bad_address.json_body["detail"].get<std::string>().find("exchange_address"),
            std::string::npos);

  auto listed = get("/api/v1/users", admin_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json_body["users"].size(), 4u);

  auto alice = get("/api/v1/users/alice", alice_);
  ASSERT_EQ(alice.status, 200);
  EXPECT_EQ(alice.json_body["mailbox"], "alice@example.com");

  auto blocked = call("PATCH", "/api/v1/users/alice", admin_,
                      json{{"blocked", true}, {"direction", "to-exchange"}});
  ASSERT_EQ(blocked.status, 200) << blocked.body;
  EXPECT_EQ(blocked.json_body["blocked"], true);
  EXPECT_EQ(blocked.json_body["mailbox"], nullptr) << "a blocked user has no synced mailbox";
  EXPECT_EQ(blocked.json_body["direction"], "to-exchange");
  EXPECT_EQ(call("PATCH", "/api/v1/users/alice", admin_, json{{"exchange_address", "@"}}).status,
            422);
  EXPECT_EQ(call("PATCH", "/api/v1/users/alice", admin_, json{{"sync_enabled", true}}).status, 422);
  EXPECT_EQ(call("PATCH", "/api/v1/users/nobody", admin_, json{{"blocked", true}}).status, 404);

  // R41: which connection of a hybrid organisation serves the mailbox.
  EXPECT_EQ(alice.json_body["backend"], "auto");
  auto routed = call("PATCH", "/api/v1/users/alice", admin_, json{{"backend", "graph"}});
  ASSERT_EQ(routed.status, 200) << routed.body;
  EXPECT_EQ(routed.json_body["backend"], "graph");
  EXPECT_EQ(get("/api/v1/users/alice", admin_).json_body["backend"], "graph");
  auto wrong = call("PATCH", "/api/v1/users/alice", admin_, json{{"backend", "caldav"}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.json_body["detail"].get<std::string>().find("backend"), std::string::npos);
}

TEST_F(UsersApi, UserTokensReachOnlyThemselves) {
  EXPECT_EQ(get("/api/v1/users", alice_).status, 403);
  EXPECT_EQ(get("/api/v1/users/bob", alice_).status, 403);
  EXPECT_EQ(get("/api/v1/users/bob/status", alice_).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/users/bob/sync-now", alice_).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/users", alice_, json{{"user_name", "eve"}}).status, 403);
  EXPECT_EQ(call("PATCH", "/api/v1/users/alice", alice_, json{{"blocked", false}}).status, 403);
  EXPECT_EQ(get("/api/v1/changes", alice_).status, 403);
  EXPECT_EQ(get("/api/v1/webhooks", alice_).status, 403);
  EXPECT_EQ(get("/metrics", alice_).status, 403);
  EXPECT_EQ(get("/api/v1/users/ALICE", alice_).status, 200) << "user names ignore case";
}

TEST_F(UsersApi, OnlyTheUserTurnsTheirSyncOn) {
  // R11: not another user, not the integration, not even the admin for a normal user.
  auto by_bob = call("PUT", "/api/v1/users/alice/sync", bob_, json{{"enabled", true}});
  EXPECT_EQ(by_bob.status, 403);
  EXPECT_EQ(by_bob.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(call("PUT", "/api/v1/users/alice/sync", integration_, json{{"enabled", true}}).status,
            403);
  EXPECT_EQ(call("PUT", "/api/v1/users/alice/sync", admin_, json{{"enabled", true}}).status, 403);
  auto by_alice = call("PUT", "/api/v1/users/alice/sync", alice_, json{{"enabled", true}});
  ASSERT_EQ(by_alice.status, 200) << by_alice.body;
  EXPECT_EQ(by_alice.json_body["sync_enabled"], true);
  EXPECT_TRUE(eventually([&] { return sync_.count("alice") == 1; })) << "turning on syncs now";
  EXPECT_EQ(call("PUT", "/api/v1/users/alice/sync", alice_, json{{"on", true}}).status, 422);
}

TEST_F(UsersApi, AdminManagesResourceUsers) {
  auto managed = call("PATCH", "/api/v1/users/carol", admin_, json{{"admin_managed", true}});
  ASSERT_EQ(managed.status, 200) << managed.body;
  EXPECT_EQ(managed.json_body["admin_managed"], true);
  EXPECT_EQ(call("PATCH", "/api/v1/users/bob", integration_, json{{"admin_managed", true}}).status,
            403)
      << "only an admin puts a user in resource mode";
  EXPECT_EQ(call("PUT", "/api/v1/users/carol/sync", admin_, json{{"enabled", true}}).status, 200);
  EXPECT_EQ(call("PUT", "/api/v1/users/carol/sync", bob_, json{{"enabled", false}}).status, 403);
  auto resource =
      call("POST", "/api/v1/users", admin_, json{{"user_name", "room-1"}, {"admin_managed", true}});
  ASSERT_EQ(resource.status, 201) << resource.body;
  EXPECT_EQ(resource.json_body["admin_managed"], true);
}

TEST_F(UsersApi, SyncNowQueuesAndStatusReports) {
  EXPECT_EQ(call("POST", "/api/v1/users/bob/sync-now", bob_).status, 409)
      << "sync is off until bob turns it on";
  ASSERT_EQ(call("PUT", "/api/v1/users/bob/sync", bob_, json{{"enabled", true}}).status, 200);
  ASSERT_TRUE(eventually([&] { return sync_.count("bob") == 1; }));
  auto queued = call("POST", "/api/v1/users/bob/sync-now", bob_);
  EXPECT_EQ(queued.status, 202);
  EXPECT_EQ(queued.json_body["queued"], true);
  ASSERT_TRUE(eventually([&] { return sync_.count("bob") == 2; }));
  ASSERT_TRUE(
      eventually([&] { return get("/api/v1/users/bob/status", bob_).json_body["runs"] == 2; }));
  auto status = get("/api/v1/users/bob/status", integration_);
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.json_body["last_outcome"], "synced");
  EXPECT_EQ(status.json_body["counts"]["remote"]["created"], 1);
  EXPECT_TRUE(status.json_body["last_success"].is_number());
  EXPECT_EQ(status.json_body["errors"].size(), 0u);

  sync_.fail_with =
      Error::make(ErrorKind::kAuth, "EWS refused the service account; check the password");
  ASSERT_EQ(call("POST", "/api/v1/users/bob/sync-now", admin_).status, 202);
  ASSERT_TRUE(
      eventually([&] { return get("/api/v1/users/bob/status", bob_).json_body["runs"] == 3; }));
  auto failed = get("/api/v1/users/bob/status", bob_);
  EXPECT_EQ(failed.json_body["last_outcome"], "error");
  EXPECT_EQ(failed.json_body["failures"], 1);
  ASSERT_EQ(failed.json_body["errors"].size(), 1u);
  EXPECT_NE(failed.json_body["errors"][0]["message"].get<std::string>().find("service account"),
            std::string::npos);
}

TEST_F(UsersApi, ActivityTypes) {
  auto listed = get("/api/v1/activity-types", bob_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json_body["activity_types"][0]["name"], "Meeting");
  EXPECT_EQ(
      call("PUT", "/api/v1/activity-types/Personal", bob_, json{{"is_personal", true}}).status,
      403);
  auto put = call("PUT", "/api/v1/activity-types/Personal", admin_,
                  json{{"is_personal", true}, {"synced", false}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(get("/api/v1/activity-types", admin_).json_body["activity_types"].size(), 2u);
  EXPECT_EQ(call("PUT", "/api/v1/activity-types/X", admin_, json{{"synced", "yes"}}).status, 422);
}

TEST_F(UsersApi, TokensAreManagedByAdminsAndShownOnce) {
  EXPECT_EQ(get("/api/v1/tokens", integration_).status, 403);
  auto created =
      call("POST", "/api/v1/tokens", admin_, json{{"role", "user:bob"}, {"label", "bob's laptop"}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string token = created.json_body["token"];
  never_log(token);
  EXPECT_EQ(get("/api/v1/users/bob", token).status, 200);
  auto listed = get("/api/v1/tokens", admin_);
  ASSERT_EQ(listed.status, 200);
  for (const auto& entry : listed.json_body["tokens"]) {
    EXPECT_FALSE(entry.contains("token"));
    EXPECT_EQ(listed.body.find(token), std::string::npos);
  }
  EXPECT_EQ(call("POST", "/api/v1/tokens", admin_, json{{"role", "superuser"}}).status, 422);
  std::string id = created.json_body["id"];
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/" + id, admin_).status, 204);
  EXPECT_EQ(get("/api/v1/users/bob", token).status, 401) << "a revoked token stops working";
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/" + id, admin_).status, 404);
}

}  // namespace
}  // namespace agendasync::apitest
