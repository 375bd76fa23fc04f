// A user's own sync direction (R12, R19; My profile in the console): GET and PUT
// /api/v1/users/{name}/direction. A user changes their own override only where the
// organisation's users_choose_direction allows it; staff set anyone's; what applies and where
// it comes from is answered beside the override.
#include "api_test_support.h"

namespace agendasync::apitest {
namespace {

class UserDirectionApi : public ApiTest {
 protected:
  void allow(bool users_choose) {
    auto set =
        call("PUT", "/api/v1/settings", admin_,
             json{{"users_choose_direction", users_choose}, {"default_direction", "two-way"}});
    ASSERT_EQ(set.status, 200) << set.body;
  }
};

TEST_F(UserDirectionApi, AUserSeesTheirDirectionAndWhetherTheyMayChooseIt) {
  auto shown = get("/api/v1/users/alice/direction", alice_);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(shown.json_body["direction"], nullptr);
  EXPECT_EQ(shown.json_body["effective"], "two-way");
  EXPECT_EQ(shown.json_body["source"], "built-in");
  EXPECT_EQ(shown.json_body["user_may_choose"], false) << "off unless the organisation allows";
  EXPECT_EQ(shown.json_body["choices"], json({"two-way", "to-exchange", "from-exchange"}));
  // Only their own, or staff.
  EXPECT_EQ(get("/api/v1/users/bob/direction", alice_).status, 403);
  EXPECT_EQ(get("/api/v1/users/alice/direction", admin_).status, 200);
  EXPECT_EQ(get("/api/v1/users/nobody/direction", admin_).status, 404);
}

TEST_F(UserDirectionApi, AUserCannotChooseUnlessTheOrganisationAllowsIt) {
  auto refused =
      call("PUT", "/api/v1/users/alice/direction", alice_, json{{"direction", "from-exchange"}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.json_body["detail"].get<std::string>().find("users_choose_direction"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(get("/api/v1/users/alice", admin_).json_body["direction"], nullptr) << "unchanged";
  // An admin sets any user's override whatever the setting.
  auto by_admin =
      call("PUT", "/api/v1/users/alice/direction", admin_, json{{"direction", "to-exchange"}});
  ASSERT_EQ(by_admin.status, 200) << by_admin.body;
  EXPECT_EQ(by_admin.json_body["direction"], "to-exchange");
}

TEST_F(UserDirectionApi, AllowedAUserSetsAndClearsTheirOwnOverride) {
  allow(true);
  auto shown = get("/api/v1/users/alice/direction", alice_);
  EXPECT_EQ(shown.json_body["user_may_choose"], true);
  EXPECT_EQ(shown.json_body["organisation_default"], "two-way");
  EXPECT_EQ(shown.json_body["organisation_default_source"], "organisation");

  // Sync on, so the change runs the pair at once.
  ASSERT_EQ(call("PUT", "/api/v1/users/alice/sync", alice_, json{{"enabled", true}}).status, 200);
  ASSERT_TRUE(eventually([&] { return sync_.count("alice") >= 1; }));
  const int runs = sync_.count("alice");
  auto set =
      call("PUT", "/api/v1/users/alice/direction", alice_, json{{"direction", "from-exchange"}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json_body["direction"], "from-exchange");
  EXPECT_EQ(set.json_body["effective"], "from-exchange");
  EXPECT_EQ(set.json_body["source"], "user");
  // The admin sees the override on the user.
  EXPECT_EQ(get("/api/v1/users/alice", admin_).json_body["direction"], "from-exchange");
  EXPECT_TRUE(eventually([&] { return sync_.count("alice") > runs; }))
      << "the new direction applies at once";

  // Only their own.
  EXPECT_EQ(
      call("PUT", "/api/v1/users/bob/direction", alice_, json{{"direction", "two-way"}}).status,
      403);
  // Bad input changes nothing and says what is accepted.
  for (const json& bad :
       {json{{"direction", "sideways"}}, json{{"direction", 3}}, json::object()}) {
    auto refused = call("PUT", "/api/v1/users/alice/direction", alice_, bad);
    EXPECT_EQ(refused.status, 422) << bad.dump();
    EXPECT_NE(refused.body.find("from-exchange"), std::string::npos) << refused.body;
  }
  EXPECT_EQ(call("PUT", "/api/v1/users/alice/direction", alice_, json::array()).status, 400);
  EXPECT_EQ(get("/api/v1/users/alice", admin_).json_body["direction"], "from-exchange");

  // null goes back to the organisation's default.
  auto cleared = call("PUT", "/api/v1/users/alice/direction", alice_, json{{"direction", nullptr}});
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(cleared.json_body["direction"], nullptr);
  EXPECT_EQ(cleared.json_body["effective"], "two-way");
  EXPECT_EQ(cleared.json_body["source"], "organisation");

  // Taking the permission back stops the next change; the override already set stays
  // until an admin clears it.
  ASSERT_EQ(call("PUT", "/api/v1/users/alice/direction", alice_, json{{"direction", "to-exchange"}})
                .status,
            200);
  allow(false);
  EXPECT_EQ(
      call("PUT", "/api/v1/users/alice/direction", alice_, json{{"direction", "two-way"}}).status,
      403);
  EXPECT_EQ(get("/api/v1/users/alice/direction", alice_).json_body["effective"], "to-exchange");
}

TEST_F(UserDirectionApi, TheSettingShowsItsSourceLikeEveryOther) {
  auto settings = get("/api/v1/settings", admin_);
  ASSERT_EQ(settings.status, 200);
  EXPECT_EQ(settings.json_body["users_choose_direction"], nullptr);
  EXPECT_EQ(settings.json_body["effective"]["users_choose_direction"], "false");
  EXPECT_EQ(settings.json_body["sources"]["users_choose_direction"], "built-in");
  allow(true);
  settings = get("/api/v1/settings", admin_);
  EXPECT_EQ(settings.json_body["users_choose_direction"], true);
  EXPECT_EQ(settings.json_body["sources"]["users_choose_direction"], "organisation");
}

}  // namespace
}  // namespace agendasync::apitest
