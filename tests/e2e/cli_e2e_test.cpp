// The real `agendasync` binary against exsim: doctor (R8), dry run (R37), the circuit
// breaker and approve (R38), status.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

/// Every row of the sync state's tables as text: what a dry run must leave untouched (the file's
/// bytes are no measure: SQLite checkpoints its WAL when a reader closes).
std::string state_rows(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "";
  std::string rows;
  for (const char* table :
       {"sync_link", "sync_cursor", "sync_journal", "sync_quarantine", "sync_audit"}) {
    const std::string sql = std::string("SELECT * FROM ") + table;
    sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int columns, char** values, char**) {
          auto& text = *static_cast<std::string*>(out);
          for (int i = 0; i < columns; ++i)
            text += (values[i] ? values[i] : "NULL") + std::string("|");
          text += "\n";
          return 0;
        },
        &rows, nullptr);
  }
  sqlite3_close(db);
  return rows;
}

TEST(Doctor, AllChecksPassAgainstExsim) {
  World world;
  world.add_user("jdoe");
  world.add_user("asmith");
  auto result = world.cli({"doctor"});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out.find("FAIL"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("PASS tls"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("jdoe@example.com"), std::string::npos) << result.out;
}

TEST(Doctor, MissingImpersonationNamesTheRoleAssignmentCommand) {
  World world(WorldOptions{.impersonation = false});
  world.add_user("jdoe");
  auto result = world.cli({"doctor"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.out.find("FAIL"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("New-ManagementRoleAssignment"), std::string::npos) << result.out;
}

TEST(Doctor, WrongPasswordNamesTheAuthMethod) {
  World world(WorldOptions{.password = "not-the-password"});
  world.add_user("jdoe");
  auto result = world.cli({"doctor"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.out.find("FAIL auth"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Basic"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("not-the-password"), std::string::npos) << "secret in output";
}

TEST(Doctor, TlsWithoutTheCaSaysHowToAddIt) {
  World world(WorldOptions{.configure_ca = false});
  world.add_user("jdoe");
  auto result = world.cli({"doctor"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.out.find("FAIL tls"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("ca_bundle"), std::string::npos) << result.out;
}

// The fix line names the configuration's own key and value: applied as written, the next
// doctor passes (it once said `set ews.server_version to 2013 or 2013_SP1`).
TEST(Doctor, AVersionMismatchNamesTheKeyAndValueThatFixIt) {
  World world(WorldOptions{.exsim_version = "Exchange2013_SP1"});
  world.add_user("jdoe");
  auto result = world.cli({"doctor"});
  EXPECT_NE(result.exit_code, 0);
  const std::string fix = "set [exchange] version = \"2013-sp1\"";
  ASSERT_NE(result.out.find("FAIL server-version"), std::string::npos) << result.out;
  ASSERT_NE(result.out.find(fix), std::string::npos) << result.out;

  std::ifstream in(world.config_path());
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const std::string old_line = "version = \"2016\"";
  ASSERT_NE(text.find(old_line), std::string::npos) << text;
  text.replace(text.find(old_line), old_line.size(), "version = \"2013-sp1\"");
  std::ofstream(world.config_path(), std::ios::trunc) << text;
  auto fixed = world.cli({"doctor"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
  EXPECT_NE(fixed.out.find("PASS server-version"), std::string::npos) << fixed.out;
}

TEST(CliSync, R37_DryRunPrintsThePlanAndWritesNothing) {
  World world;
  world.add_user("jdoe");
  world.add_appointment("jdoe", "Planned only", future());
  world.outlook_create("jdoe@example.com", "From Outlook", future(1));
  const auto head_before = world.store().head_revision();
  ASSERT_TRUE(head_before);
  auto result = world.cli({"sync", "--dry-run"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Planned only"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("From Outlook"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("1 created"), std::string::npos) << result.out;
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 1u);
  EXPECT_EQ(world.host_items("jdoe").size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(world.state_path()));
  EXPECT_EQ(*world.store().head_revision(), *head_before) << "the agenda's feed moved";

  // After a real sync, a dry run still changes nothing.
  ASSERT_EQ(world.cli({"sync"}).exit_code, 0);
  world.add_appointment("jdoe", "Second", future(2));
  const std::string state_before = state_rows(world.state_path());
  ASSERT_FALSE(state_before.empty());
  auto plan = world.cli({"plan", "--user", "jdoe"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("Second"), std::string::npos) << plan.out;
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 2u);
  EXPECT_EQ(state_rows(world.state_path()), state_before);
  EXPECT_EQ(world.outbox_size(), 0u);
}

TEST(CliSync, R38_CircuitBreakerQuarantinesUntilApproved) {
  World world;
  world.add_user("jdoe");
  std::vector<store::AppointmentId> ids;
  for (int i = 0; i < 30; ++i)
    ids.push_back(world.add_appointment("jdoe", "Item " + std::to_string(i), future(i)).id);
  auto first = world.cli({"sync", "--user", "jdoe"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("30 created"), std::string::npos) << first.out;
  for (int i = 0; i < 15; ++i) world.delete_appointment(ids[i]);

  auto stopped = world.cli({"sync", "--user", "jdoe"});
  EXPECT_EQ(stopped.exit_code, 1) << stopped.out;
  EXPECT_NE(stopped.out.find("quarantined"), std::string::npos) << stopped.out;
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 30u) << "nothing deleted";
  auto status = world.cli({"status", "--user", "jdoe"});
  EXPECT_NE(status.out.find("quarantined"), std::string::npos) << status.out;
  // Still stopped without approval.
  EXPECT_EQ(world.cli({"sync", "--user", "jdoe"}).exit_code, 1);
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 30u);

  auto approve = world.cli({"approve", "--user", "jdoe"});
  EXPECT_EQ(approve.exit_code, 0) << approve.err;
  auto applied = world.cli({"sync", "--user", "jdoe"});
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 15u);
  EXPECT_EQ(world.outbox_size(), 0u);
}

TEST(CliSync, StatusShowsLastSyncAndCounts) {
  World world;
  world.add_user("jdoe");
  world.add_user("asmith", /*sync_enabled=*/false);
  world.add_appointment("jdoe", "One", future());
  ASSERT_EQ(world.cli({"sync"}).exit_code, 0);
  auto status = world.cli({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto json = nlohmann::json::parse(status.out);
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[1]["user"], "jdoe");
  EXPECT_EQ(json[1]["outcome"], "synced");
  EXPECT_EQ(json[1]["linked_items"], 1);
  EXPECT_EQ(json[0]["sync"], "off");
  EXPECT_FALSE(json[0].contains("last_sync"));
}

TEST(CliSync, EveryNewCommandHasHelp) {
  for (const std::string command : {"sync", "plan", "approve", "offboard", "status", "doctor"}) {
    World* none = nullptr;
    (void)none;
    const std::string line = agendasync_binary() + " " + command + " --help > /dev/null";
    EXPECT_EQ(std::system(line.c_str()), 0) << command;
  }
}

/// Rows of the sync state's audit whose operation is `operation`, as "item|rule|changes".
std::vector<std::string> audit_rows(const std::filesystem::path& path,
                                    const std::string& operation) {
  sqlite3* db = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return rows;
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT item, rule, changes FROM sync_audit WHERE operation = ?1", -1,
                     &statement, nullptr);
  sqlite3_bind_text(statement, 1, operation.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < 3; ++i) {
      const auto* text = sqlite3_column_text(statement, i);
      row += (text ? reinterpret_cast<const char*>(text) : "") + std::string("|");
    }
    rows.push_back(row);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

// Issue 13: an Outlook item whose subject is Latin-1 bytes syncs (repaired to U+FFFD), the run
// warns naming the item id and never the text, the audit has a "repair" record, and the host
// can list it as JSON. Private, so it takes "Personal" (R16), which can then not be removed.
TEST(CliSync, TextThatIsNotUtf8FromExchangeIsRepairedWarnedAndAudited) {
  World world;
  world.add_user("jdoe");
  ASSERT_TRUE(world.store().put_activity_type({"Appointment", true, true, false}));
  ASSERT_TRUE(world.store().put_activity_type({"Personal", true, false, true}));
  world.outlook_create_private(
      "jdoe@example.com", "Caf\xE9 lunch",
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) +
          std::chrono::days{2} + std::chrono::hours{12});
  auto result = world.cli({"sync", "--user", "jdoe"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.err.find("warning: remote item "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(": subject arrived as invalid UTF-8"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("lunch"), std::string::npos) << "never the text: " << result.err;

  auto items = world.host_items("jdoe");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].item.subject, "Caf\xEF\xBF\xBD lunch");
  EXPECT_EQ(items[0].item.activity_type, "Personal");
  auto listed = world.cli({"appointments", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("Caf\xEF\xBF\xBD lunch"), std::string::npos) << listed.out;

  auto repairs = audit_rows(world.state_path(), "repair");
  ASSERT_EQ(repairs.size(), 1u);
  EXPECT_NE(repairs[0].find("subject"), std::string::npos) << repairs[0];
  EXPECT_EQ(repairs[0].find("lunch"), std::string::npos) << repairs[0];

  auto removed = world.cli({"activity-types", "remove", "Personal"});
  EXPECT_EQ(removed.exit_code, 1);
  EXPECT_NE(removed.err.find("used by 1 appointment(s)"), std::string::npos) << removed.err;
  // A second run reads nothing new: the repair is not reported again.
  auto again = world.cli({"sync", "--user", "jdoe"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("invalid UTF-8"), std::string::npos) << again.err;
}

// Issue 13: renaming an activity type through the CLI keeps every appointment, its Exchange
// item and its link, on two-way (a host item that syncs) and from-exchange (an Outlook item
// that came in with the default type, where the engine otherwise puts host changes back).
TEST(CliSync, RenamedActivityTypeKeepsItemsAndLinksOnEveryDirection) {
  World world;
  world.add_user("jdoe");
  ASSERT_TRUE(world.store().put_activity_type({"Appointment", true, true, false}));
  ASSERT_TRUE(world.store().put_activity_type({"Visit", true, false, false}));
  const Instant start = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) +
                        std::chrono::days{3} + std::chrono::hours{9};
  world.add_appointment("jdoe", "Customer", start, 60, {}, "Visit");
  ASSERT_EQ(world.cli({"sync", "--user", "jdoe"}).exit_code, 0);
  world.outlook_create("jdoe@example.com", "From Outlook", start + std::chrono::hours{3});
  ASSERT_EQ(world.cli({"sync", "--user", "jdoe"}).exit_code, 0);
  ASSERT_EQ(world.exchange_items("jdoe@example.com").size(), 2u);
  ASSERT_EQ(world.host_items("jdoe").size(), 2u);

  ASSERT_EQ(world.cli({"activity-types", "rename", "Visit", "Customer visit"}).exit_code, 0);
  auto two_way = world.cli({"sync", "--user", "jdoe"});
  EXPECT_EQ(two_way.exit_code, 0) << two_way.out << two_way.err;

  ASSERT_EQ(world.cli({"settings", "set", "--direction", "from-exchange"}).exit_code, 0);
  ASSERT_EQ(world.cli({"activity-types", "rename", "Appointment", "Meeting"}).exit_code, 0);
  auto from_exchange = world.cli({"sync", "--user", "jdoe"});
  EXPECT_EQ(from_exchange.exit_code, 0) << from_exchange.out << from_exchange.err;
  auto again = world.cli({"sync", "--user", "jdoe"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;

  std::map<std::string, std::string> types;
  for (const auto& stored : world.host_items("jdoe")) {
    types[stored.item.subject] = stored.item.activity_type;
  }
  EXPECT_EQ(types, (std::map<std::string, std::string>{{"Customer", "Customer visit"},
                                                       {"From Outlook", "Meeting"}}));
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 2u) << "no duplicates, no deletions";
}

}  // namespace
}  // namespace agendasync::e2e
