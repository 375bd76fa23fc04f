// The upgrade to organisations (issue 16 §2): an agenda made by the release before
// organisations — its users, appointments, links, cursors and an API token, synced with
// exsim — opened by this release's daemon is organisation `default` with everything kept: the
// old token still works (as default's), the first sync after the upgrade changes nothing on
// either side, and later changes sync both ways.
//
// The fixture is made by `init` + `sync` and then put back into the previous release's shape
// with SQLite itself: the platform tables dropped and service_token without its `org` column
// (the store's schema did not change in this release).
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "tests/demo/graph_test_support.h"
#include "tests/demo/serve_process.h"
#include "tests/demo/serve_test_support.h"
#include "tests/e2e/world.h"

namespace agendasync::demotest {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

/// Runs `sql` on `path` (a database no process has open) and fails the test on an error.
void run_sql(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

/// One number from `sql` on `path`.
long long query(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  long long value = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      value = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return value;
}

std::vector<std::string> subjects(const std::vector<json>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.value("subject", ""));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(UpgradeE2e, ASingleOrganisationAgendaBecomesDefaultWithNothingChanged) {
  e2e::World world;
  world.add_user("JDOE");
  world.add_user("ASMITH");
  world.add_appointment("JDOE", "Made in the host", e2e::future(1));
  world.add_appointment("ASMITH", "Weekly", e2e::future(2));
  world.outlook_create("jdoe@example.com", "Made in Outlook", e2e::future(3));
  const std::string token = integration_token(world);
  auto synced = world.cli({"sync"});
  ASSERT_EQ(synced.exit_code, 0) << synced.out << synced.err;
  world.close_store();

  // Back to the previous release's shape.
  run_sql(world.database_path(),
          "DROP TABLE platform_organisation; DROP TABLE platform_connection; "
          "ALTER TABLE service_token DROP COLUMN org;");
  ASSERT_EQ(query(world.database_path(),
                  "SELECT COUNT(*) FROM pragma_table_info('service_token') WHERE name = 'org'"),
            0);
  const auto exchange_before = subjects(world.exchange_items("jdoe@example.com"));
  const auto appointments_before =
      query(world.database_path(), "SELECT COUNT(*) FROM appointments");
  const auto head_before = query(world.database_path(), "SELECT MAX(revision) FROM changes");
  const auto links_before = query(world.state_path(), "SELECT COUNT(*) FROM sync_link");
  ASSERT_GE(links_before, 3);
  ASSERT_EQ(exchange_before.size(), 2u);

  ServeProcess serve(e2e::agendasync_binary(),
                     {"--config", world.config_path().string(), "serve", "--listen", "127.0.0.1:0",
                      "--no-streaming", "--safety-net-minutes", "60"},
                     world.dir() / "serve.log");
  Api api(serve.port(), token);
  // The old token is organisation default's integration token.
  auto [users_status, users] = api.call("GET", "/api/v1/users");
  ASSERT_EQ(users_status, 200) << users.dump();
  EXPECT_EQ(users["users"].size(), 2u);
  auto [org_status, org] = api.call("GET", "/api/v1/organisations/default");
  ASSERT_EQ(org_status, 200) << org.dump();
  EXPECT_EQ(org["state"], "active");

  // The catch-up run after the upgrade changes nothing on either side.
  ASSERT_TRUE(eventually([&] {
    return events(serve, "sync_run", "JDOE").size() >= 1 &&
           events(serve, "sync_run", "ASMITH").size() >= 1;
  })) << serve.log();
  for (const auto& run : events(serve, "sync_run")) {
    EXPECT_EQ(run.value("result", ""), "synced") << run.dump();
    EXPECT_EQ(run.value("summary", ""),
              "host: 0 created, 0 updated, 0 deleted; remote: 0 created, 0 updated, 0 deleted; "
              "0 linked, 0 conflict(s), 0 skipped")
        << run.dump();
  }
  EXPECT_EQ(subjects(world.exchange_items("jdoe@example.com")), exchange_before);
  EXPECT_EQ(query(world.database_path(), "SELECT COUNT(*) FROM appointments"), appointments_before);
  EXPECT_EQ(query(world.database_path(), "SELECT MAX(revision) FROM changes"), head_before);
  EXPECT_EQ(query(world.state_path(), "SELECT COUNT(*) FROM sync_link"), links_before);

  // And it keeps syncing: a host change reaches Exchange.
  auto [created_status, created] = api.call("POST", "/api/v1/appointments",
                                            {{"subject", "After the upgrade"},
                                             {"start", "2027-01-14T09:00:00Z"},
                                             {"end", "2027-01-14T10:00:00Z"},
                                             {"time_zone", "Europe/Amsterdam"},
                                             {"owner", "JDOE"},
                                             {"participants", json::array()}});
  ASSERT_EQ(created_status, 201) << created.dump();
  ASSERT_TRUE(eventually([&] {
    auto now = subjects(world.exchange_items("jdoe@example.com"));
    return std::find(now.begin(), now.end(), "After the upgrade") != now.end();
  })) << serve.log();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.log();
  // Its token now says it is default's.
  EXPECT_EQ(
      query(world.database_path(), "SELECT COUNT(*) FROM service_token WHERE org = 'default'"), 1);
}

}  // namespace
}  // namespace agendasync::demotest
