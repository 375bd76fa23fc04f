// End to end on PostgreSQL (issue 17): the real `agendasync` binary syncs an organisation whose
// agenda and sync state live in its PostgreSQL schema, against the real exsim; nothing is
// written to an SQLite file.
#include <gtest/gtest.h>

#include "store/contract_support.h"
#include "store/database_locator.h"
#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

WorldOptions on_postgres() {
  auto server = store::testing::test_server();
  EXPECT_TRUE(server) << server.error().message;
  WorldOptions options;
  options.postgres = server ? *server : "host=127.0.0.1 port=1";
  return options;
}

std::vector<std::string> subjects_of(const std::vector<store::StoredAppointment>& items) {
  std::vector<std::string> subjects;
  for (const auto& item : items) subjects.push_back(item.item.subject);
  std::sort(subjects.begin(), subjects.end());
  return subjects;
}

TEST(PostgresE2e, TheCliSyncsBothWaysWithAgendaAndStateInTheOrganisationsSchema) {
  World world(on_postgres());
  world.add_user("jdoe");
  world.add_appointment("jdoe", "Made in the host", future(1));

  auto first = world.cli({"sync"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  auto items = world.exchange_items("jdoe@example.com");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["subject"], "Made in the host");

  world.outlook_create("jdoe@example.com", "Made in Outlook", future(2));
  auto second = world.cli({"sync"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(subjects_of(world.host_items("jdoe")),
            (std::vector<std::string>{"Made in Outlook", "Made in the host"}));

  auto idle = world.cli({"sync"});  // nothing changed: nothing written on either side
  ASSERT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_TRUE(duplicate_subjects(world.exchange_items("jdoe@example.com")).empty());
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 2u);
  EXPECT_EQ(world.host_items("jdoe").size(), 2u);

  auto status = world.cli({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("jdoe"), std::string::npos) << status.out;

  // The links are rows of the organisation's schema, not of a state file.
  EXPECT_FALSE(std::filesystem::exists(world.state_path()));
  auto schema = store::organisation_schema(world.org());
  ASSERT_TRUE(schema);
  auto db = store::pg::Connection::open({on_postgres().postgres, *schema});
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->query_int("SELECT count(*) FROM sync_link WHERE pair = 'jdoe'").value(), 2);
}

}  // namespace
}  // namespace agendasync::e2e
