// PATCH and DELETE /api/v1/activity-types/{name} (issue 13): exact statuses, problem+json on
// every refusal, and nothing changed by a refusal.
#include "api_test_support.h"

namespace agendasync::apitest {
namespace {

class ActivityTypesApi : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    ASSERT_EQ(call("PUT", "/api/v1/activity-types/Visit", admin_, json{{"synced", false}}).status,
              200);
  }
  json types() { return get("/api/v1/activity-types", admin_).json_body["activity_types"]; }
  void expect_problem(const Reply& reply, int status, const std::string& detail_part) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.header("Content-Type"), "application/problem+json");
    EXPECT_EQ(reply.json_body["status"], status);
    EXPECT_NE(reply.json_body["detail"].get<std::string>().find(detail_part), std::string::npos)
        << reply.body;
  }
};

TEST_F(ActivityTypesApi, PatchRenamesKeepingFlagsAndMovesTheAppointments) {
  auto created = call("POST", "/api/v1/appointments", admin_,
                      json{{"subject", "Customer"},
                           {"start", "2026-03-02T09:00:00Z"},
                           {"end", "2026-03-02T10:00:00Z"},
                           {"owner", "alice"},
                           {"activity_type", "Visit"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = std::to_string(created.json_body["id"].get<long>());
  const auto since = created.json_body["revision"].get<long>();

  auto patched =
      call("PATCH", "/api/v1/activity-types/visit", admin_, json{{"name", "Customer visit"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.header("Content-Type"), "application/json");
  EXPECT_EQ(patched.json_body, (json{{"name", "Customer visit"},
                                     {"synced", false},
                                     {"is_default", false},
                                     {"is_personal", false}}));
  auto item = get("/api/v1/appointments/" + id, admin_);
  EXPECT_EQ(item.json_body["activity_type"], "Customer visit");
  // The rename is a change of the appointment: the feed (and so the sync) reports it.
  auto feed = get("/api/v1/changes?since=" + std::to_string(since), admin_);
  ASSERT_EQ(feed.status, 200) << feed.body;
  ASSERT_EQ(feed.json_body["changes"].size(), 1u) << feed.body;
  EXPECT_EQ(feed.json_body["changes"][0]["id"], id);

  auto flags = call("PATCH", "/api/v1/activity-types/Customer%20visit", admin_,
                    json{{"synced", true}, {"is_default", true}});
  ASSERT_EQ(flags.status, 200) << flags.body;
  EXPECT_EQ(flags.json_body["is_default"], true);
  for (const auto& type : types()) {
    EXPECT_EQ(type["is_default"], type["name"] == "Customer visit") << type.dump();
  }
}

TEST_F(ActivityTypesApi, PatchRefusalsAreProblemsAndChangeNothing) {
  const auto before = types();
  expect_problem(call("PATCH", "/api/v1/activity-types/Visit", admin_, json{{"name", "meeting"}}),
                 409, "\"Meeting\" already exists");
  expect_problem(call("PATCH", "/api/v1/activity-types/Nope", admin_, json{{"name", "X"}}), 404,
                 "no activity type \"Nope\"");
  expect_problem(call("PATCH", "/api/v1/activity-types/Visit", admin_, json{{"name", ""}}), 422,
                 "needs a name");
  expect_problem(call("PATCH", "/api/v1/activity-types/Visit", admin_, json{{"name", 7}}), 422,
                 "name");
  expect_problem(call("PATCH", "/api/v1/activity-types/Visit", admin_, json{{"colour", "red"}}),
                 422, "colour: unknown member");
  EXPECT_EQ(call("PATCH", "/api/v1/activity-types/Visit", integration_, json{{"name", "X"}}).status,
            403);
  EXPECT_EQ(call("PATCH", "/api/v1/activity-types/Visit", "", json{{"name", "X"}}).status, 401);
  EXPECT_EQ(types(), before);
}

TEST_F(ActivityTypesApi, DeleteIsRefusedWhileInUseThenRemoves) {
  auto created = call("POST", "/api/v1/appointments", admin_,
                      json{{"subject", "Customer"},
                           {"start", "2026-03-02T09:00:00Z"},
                           {"end", "2026-03-02T10:00:00Z"},
                           {"owner", "alice"},
                           {"activity_type", "Visit"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const auto before = types();
  expect_problem(call("DELETE", "/api/v1/activity-types/Visit", admin_), 409,
                 "used by 1 appointment(s); nothing was changed");
  EXPECT_EQ(call("DELETE", "/api/v1/activity-types/Visit", integration_).status, 403);
  EXPECT_EQ(types(), before);

  const auto id = std::to_string(created.json_body["id"].get<long>());
  auto deleted = call("DELETE", "/api/v1/appointments/" + id, admin_, std::nullopt,
                      {{"If-Match", created.header("ETag")}});
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  auto removed = call("DELETE", "/api/v1/activity-types/visit", admin_);
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_EQ(types().size(), 1u);
  expect_problem(call("DELETE", "/api/v1/activity-types/Visit", admin_), 404, "does not exist");
}

}  // namespace
}  // namespace agendasync::apitest
