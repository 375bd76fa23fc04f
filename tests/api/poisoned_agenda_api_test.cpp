// An agenda an earlier agendasync let invalid UTF-8 into (issue 13): after the upgrade the
// daemon serves it without an error. The fixture is poisoned through SQLite's own API
// before the server opens it (and migration 3 repairs it).
#include <sqlite3.h>

#include "api_test_support.h"
#include "store/sqlite_agenda_store.h"
#include "store/test_support.h"

namespace agendasync::apitest {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

class PoisonedAgendaApi : public ApiTest {
 protected:
  void configure(service::ServerOptions& options) override {
    store::SqliteOptions create;
    create.create = true;
    auto agenda = store::open_sqlite_agenda_store(options.database, create);
    ASSERT_TRUE(agenda) << agenda.error().message;
    ASSERT_TRUE((*agenda)->add_user(User{"dora", "dora", "", false, false, {}}));
    ASSERT_TRUE((*agenda)->put_activity_type({"Visit", true, false, false}));
    Appointment item;
    item.subject = "Lunch";
    item.start = Instant{std::chrono::seconds{1'900'000'000}};
    item.end = item.start + std::chrono::hours{1};
    item.owner = "dora";
    item.activity_type = "Visit";
    id_ = (*agenda)->create_appointment(item).value().id;
    agenda->reset();

    // "Visit" -> "Vis\xEDt" (Latin-1) and "Lunch" -> "Lunch\xE9", as today's build could
    // store them; then back to the schema version before the repair.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(options.database.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
              SQLITE_OK);
    const std::string sql =
        "UPDATE activity_types SET name = CAST(X'566973ED74' AS TEXT) WHERE name = 'Visit';"
        "UPDATE appointments SET activity_type = CAST(X'566973ED74' AS TEXT), "
        "  subject = CAST(X'4C756E6368E9' AS TEXT), "
        "  document = replace(replace(document, '\"Visit\"', "
        "    '\"' || CAST(X'566973ED74' AS TEXT) || '\"'), '\"Lunch\"', "
        "    '\"' || CAST(X'4C756E6368E9' AS TEXT) || '\"');"
        // Back to schema version 2: what later migrations added goes too (4: users.backend,
        // 5: the directory revision).
        + std::string(store::testing::kUndoMigration5) +
        "ALTER TABLE users DROP COLUMN backend;"
        "PRAGMA user_version = 2;";
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
  }

  store::AppointmentId id_ = 0;
};

TEST_F(PoisonedAgendaApi, EveryReadAnswersWithRepairedText) {
  auto item = get("/api/v1/appointments/" + std::to_string(id_), admin_);
  ASSERT_EQ(item.status, 200) << item.body;
  EXPECT_EQ(item.header("Content-Type"), "application/json");
  EXPECT_EQ(item.json_body["subject"], "Lunch" + kFffd);
  EXPECT_EQ(item.json_body["activity_type"], "Vis" + kFffd + "t");

  auto list = get("/api/v1/appointments?user=dora", admin_);
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_TRUE(list.json_body.is_object() || list.json_body.is_array()) << list.body;

  auto types = get("/api/v1/activity-types", admin_);
  ASSERT_EQ(types.status, 200) << types.body;
  bool found = false;
  for (const auto& type : types.json_body["activity_types"]) {
    found = found || type["name"] == "Vis" + kFffd + "t";
  }
  EXPECT_TRUE(found) << types.body;

  // The repaired type is an ordinary one again: the admin can give it its real name.
  auto renamed =
      call("PATCH", "/api/v1/activity-types/Vis%EF%BF%BDt", admin_, json{{"name", "Visit"}});
  EXPECT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(get("/api/v1/appointments/" + std::to_string(id_), admin_).json_body["activity_type"],
            "Visit");
}

TEST_F(PoisonedAgendaApi, ASyncErrorQuotingBrokenBytesStillGivesAStatus) {
  sync_.fail_with = Error::make(ErrorKind::kPermanent, "the server said \"caf\xE9\"");
  ASSERT_EQ(call("PUT", "/api/v1/users/bob/sync", bob_, json{{"enabled", true}}).status, 200);
  ASSERT_EQ(call("POST", "/api/v1/users/bob/sync-now", admin_).status, 202);
  ASSERT_TRUE(eventually(
      [&] { return get("/api/v1/users/bob/status", admin_).json_body["errors"].size() >= 1; }));
  auto status = get("/api/v1/users/bob/status", admin_);
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.header("Content-Type"), "application/json");
  for (const auto& error : status.json_body["errors"]) {
    EXPECT_NE(error["message"].get<std::string>().find("caf" + kFffd), std::string::npos)
        << status.body;
  }
}

}  // namespace
}  // namespace agendasync::apitest
