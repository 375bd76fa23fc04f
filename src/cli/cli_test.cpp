// Runs the real `agendasync` binary: init, users, activity types, appointments, --help on
// every command, and the exit codes of the error paths (each bad input changes nothing).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_test_support.h"

namespace agendasync::cli {
namespace {

TEST_F(Cli, EveryCommandHasHelp) {
  const std::vector<std::vector<std::string>> commands = {{},
                                                          {"init"},
                                                          {"users"},
                                                          {"users", "add"},
                                                          {"users", "list"},
                                                          {"users", "set"},
                                                          {"activity-types"},
                                                          {"activity-types", "add"},
                                                          {"activity-types", "list"},
                                                          {"activity-types", "rename"},
                                                          {"activity-types", "remove"},
                                                          {"settings"},
                                                          {"settings", "show"},
                                                          {"settings", "set"},
                                                          {"appointments"},
                                                          {"appointments", "add"},
                                                          {"appointments", "list"},
                                                          {"appointments", "set"},
                                                          {"appointments", "remove"},
                                                          {"version"},
                                                          {"backup"},
                                                          {"restore"},
                                                          {"migrate"}};
  for (auto command : commands) {
    std::string name = command.empty() ? "agendasync" : command.back();
    command.push_back("--help");
    auto result = run(command, false);
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.err;
    EXPECT_CONTAINS(result.out, "Usage:");
    EXPECT_CONTAINS(result.out, name);
    EXPECT_CONTAINS(result.out, "--help");
  }
}

TEST_F(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run({}, false).exit_code, 2);
  EXPECT_EQ(run({"frobnicate"}, false).exit_code, 2);
  EXPECT_EQ(run({"users", "add"}).exit_code, 2);  // missing user name
  EXPECT_EQ(run({"users", "add", "X", "--sync", "maybe"}).exit_code, 2);
  EXPECT_EQ(run({"appointments", "list", "--colour"}).exit_code, 2);
}

TEST_F(Cli, VersionPrintsTheVersion) {
  auto result = run({"version"}, false);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_CONTAINS(result.out, "agendasync 0.");
  auto flag = run({"--version"}, false);  // what packaging and operators type first
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(flag.out, result.out);
}

TEST_F(Cli, InitKeepsAnExistingConfigurationAndMakesTheDatabaseItNames) {
  // As the Debian package ships it: the configuration exists before any agenda.
  auto elsewhere = dir_ / "state" / "agenda.db";
  std::filesystem::create_directories(elsewhere.parent_path());
  {
    std::ofstream file(config_);
    file << "database = \"" << elsewhere.string() << "\"\n[server]\nport = 0\n";
  }
  auto config_before = slurp(config_);
  auto made = run({"init", "--mail-domain", "example.com"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_CONTAINS(made.out, "Kept the configuration " + config_.string());
  EXPECT_EQ(slurp(config_), config_before);
  EXPECT_TRUE(std::filesystem::exists(elsewhere));
  auto types = run({"activity-types", "list"});
  EXPECT_CONTAINS(types.out, "Personal");

  auto again = run({"init"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_CONTAINS(again.err, elsewhere.string() + " (named by the configuration");
}

TEST_F(Cli, BackupRestoreAndMigrateStatus) {
  init();
  ASSERT_EQ(run({"users", "add", "ALICE"}).exit_code, 0);
  auto backup = run({"backup", "--to", (dir_ / "b1").string()});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_CONTAINS(backup.out, "backed up agenda.db");
  EXPECT_EQ(run({"backup", "--to", (dir_ / "b1").string()}).exit_code, 1);  // never overwrites
  ASSERT_EQ(run({"users", "add", "BOB"}).exit_code, 0);
  auto restored = run({"restore", "--from", (dir_ / "b1").string()});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  auto users = run({"users", "list"});
  EXPECT_CONTAINS(users.out, "ALICE");
  EXPECT_EQ(users.out.find("BOB"), std::string::npos) << users.out;
  auto status = run({"migrate", "--status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_CONTAINS(status.out, "agenda.db: schema ");
  EXPECT_CONTAINS(status.out, "status: current");
  EXPECT_EQ(run({"backup"}).exit_code, 2);  // --to is required
}

TEST_F(Cli, InitCreatesTheDatabaseAndConfigAndNeverOverwrites) {
  init();
  ASSERT_TRUE(std::filesystem::exists(config_));
  ASSERT_TRUE(std::filesystem::exists(database_));
  auto config_text = slurp(config_);
  EXPECT_CONTAINS(config_text, "database = \"agenda.db\"");
  EXPECT_CONTAINS(config_text, "[exchange]");
  auto types = run({"activity-types", "list"});
  EXPECT_EQ(types.exit_code, 0) << types.err;
  EXPECT_CONTAINS(types.out, "Appointment");
  EXPECT_CONTAINS(types.out, "Personal");

  auto db_before = database_bytes();
  auto again = run({"init"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_CONTAINS(again.err, "already exists");
  EXPECT_CONTAINS(again.err, config_.string());
  EXPECT_EQ(slurp(config_), config_text);
  EXPECT_EQ(database_bytes(), db_before);

  // A config elsewhere but the same database: still refused, nothing written.
  auto other_config = dir_ / "other.toml";
  auto refused =
      run({"init", "--config", other_config.string(), "--database", database_.string()}, false);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_CONTAINS(refused.err, "database");
  EXPECT_FALSE(std::filesystem::exists(other_config));
  EXPECT_EQ(database_bytes(), db_before);
}

TEST_F(Cli, UsersAddListAndSet) {
  init();
  EXPECT_EQ(
      run({"users", "add", "DMARTINA", "--display-name", "D. Martina", "--sync", "on"}).exit_code,
      0);
  EXPECT_EQ(run({"users", "add", "JDOE", "--exchange-address", "john.doe@other.example"}).exit_code,
            0);
  EXPECT_EQ(run({"users", "add", "OLD", "--blocked"}).exit_code, 0);

  auto listed = run({"users", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_CONTAINS(listed.out, "MAILBOX");
  EXPECT_CONTAINS(listed.out, "DMARTINA@afas.nl");
  EXPECT_CONTAINS(listed.out, "john.doe@other.example");
  EXPECT_CONTAINS(listed.out, "(blocked: not synced)");

  ASSERT_EQ(run({"users", "set", "OLD", "--blocked", "no", "--direction", "to-exchange"}).exit_code,
            0);
  ASSERT_EQ(run({"users", "set", "JDOE", "--exchange-address", ""}).exit_code, 0);
  auto json = run({"users", "list", "--json"});
  ASSERT_EQ(json.exit_code, 0);
  auto users = nlohmann::json::parse(json.out);
  ASSERT_EQ(users.size(), 3u);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& user : users) by_name[user["user_name"]] = user;
  EXPECT_EQ(by_name["OLD"]["blocked"], false);
  EXPECT_EQ(by_name["OLD"]["mailbox"], "OLD@afas.nl");
  EXPECT_EQ(by_name["OLD"]["direction"], "to-exchange");
  EXPECT_EQ(by_name["JDOE"]["mailbox"], "JDOE@afas.nl");
  EXPECT_EQ(by_name["DMARTINA"]["sync_enabled"], true);
  EXPECT_EQ(by_name["DMARTINA"]["display_name"], "D. Martina");
  // R41: the connection serving the mailbox in a hybrid organisation; auto unless set.
  EXPECT_EQ(by_name["JDOE"]["backend"], "auto");
  ASSERT_EQ(run({"users", "set", "JDOE", "--backend", "graph"}).exit_code, 0);
  EXPECT_EQ(run({"users", "set", "JDOE", "--backend", "cloud"}).exit_code, 2);
  for (const auto& user : nlohmann::json::parse(run({"users", "list", "--json"}).out)) {
    if (user["user_name"] == "JDOE") {
      EXPECT_EQ(user["backend"], "graph");
    }
  }

  auto unknown = run({"users", "set", "NOBODY", "--sync", "on"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_CONTAINS(unknown.err, "NOBODY");
  auto duplicate = run({"users", "add", "dmartina"});
  EXPECT_EQ(duplicate.exit_code, 1);
  EXPECT_CONTAINS(duplicate.err, "already exists");
}

TEST_F(Cli, SettingsShowAndSet) {
  init();
  ASSERT_EQ(run({"users", "add", "ANNA"}).exit_code, 0);
  auto shown = nlohmann::json::parse(run({"settings", "show", "--json"}).out);
  EXPECT_EQ(shown["mail_domain"], "afas.nl");
  EXPECT_EQ(shown["direction"], "two-way");
  auto set = run({"settings", "set", "--mail-domain", "example.com", "--direction", "to-exchange",
                  "--first-sync-days", "14", "--deleted-in-exchange", "leave-deleted"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  shown = nlohmann::json::parse(run({"settings", "show", "--json"}).out);
  EXPECT_EQ(shown["mail_domain"], "example.com");
  EXPECT_EQ(shown["direction"], "to-exchange");
  EXPECT_EQ(shown["first_sync_days"], 14);
  EXPECT_EQ(shown["deleted_in_exchange"], "leave-deleted");
  EXPECT_EQ(shown["conflict_policy"], "newest-wins");
  EXPECT_CONTAINS(run({"users", "list"}).out, "ANNA@example.com");

  auto before = database_bytes();
  auto bad = run({"settings", "set", "--mail-domain", "not a domain"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_CONTAINS(bad.err, "not a domain");
  EXPECT_EQ(run({"settings", "set", "--direction", "sideways"}).exit_code, 2);
  EXPECT_EQ(database_bytes(), before);
}

TEST_F(Cli, AnInvalidDeviatingAddressIsRefusedNamingTheUserAndChangesNothing) {
  init();
  ASSERT_EQ(run({"users", "add", "ANNA"}).exit_code, 0);
  auto before = database_bytes();
  auto added = run({"users", "add", "BOB", "--exchange-address", "bob at example"});
  EXPECT_EQ(added.exit_code, 2);
  EXPECT_CONTAINS(added.err, "BOB");
  EXPECT_CONTAINS(added.err, "bob at example");
  auto set = run({"users", "set", "ANNA", "--exchange-address", "anna@"});
  EXPECT_EQ(set.exit_code, 2);
  EXPECT_CONTAINS(set.err, "ANNA");
  EXPECT_EQ(database_bytes(), before);
  auto listed = run({"users", "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(listed.out).size(), 1u);
}

TEST_F(Cli, AppointmentsAddAndList) {
  init();
  for (const char* name : {"ANNA", "BOB"}) ASSERT_EQ(run({"users", "add", name}).exit_code, 0);
  auto timed =
      run({"appointments",     "add",        "--subject",        "Planning",   "--start",
           "2026-03-02T09:00", "--end",      "2026-03-02T10:30", "--zone",     "Europe/Amsterdam",
           "--owner",          "ANNA",       "--participant",    "BOB",        "--activity-type",
           "Appointment",      "--location", "Room 1",           "--reminder", "15"});
  ASSERT_EQ(timed.exit_code, 0) << timed.err;
  EXPECT_CONTAINS(timed.out, "Created appointment");
  auto all_day =
      run({"appointments", "add", "--subject", "Conference", "--all-day", "--start", "2026-03-05",
           "--end", "2026-03-07", "--zone", "America/New_York", "--owner", "BOB"});
  ASSERT_EQ(all_day.exit_code, 0) << all_day.err;
  auto series = run({"appointments", "add", "--subject", "Stand-up", "--start", "2026-03-23T09:00",
                     "--end", "2026-03-23T09:15", "--zone", "W. Europe Standard Time", "--rrule",
                     "FREQ=WEEKLY;BYDAY=MO;COUNT=6", "--exdate", "2026-04-06T09:00", "--move",
                     "2026-04-13T09:00=2026-04-13T11:00/2026-04-13T11:15", "--owner", "ANNA"});
  ASSERT_EQ(series.exit_code, 0) << series.err;

  auto table = run({"appointments", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_CONTAINS(table.out, "2026-03-02 09:00-10:30");
  EXPECT_CONTAINS(table.out, "2026-03-05..2026-03-06 (all day)");
  EXPECT_CONTAINS(table.out, "FREQ=WEEKLY");
  EXPECT_CONTAINS(table.out, "1 deleted; 1 moved");

  auto json = nlohmann::json::parse(run({"appointments", "list", "--json"}).out);
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json[0]["subject"], "Planning");
  EXPECT_EQ(json[0]["start"], "2026-03-02T08:00:00Z");  // CET = UTC+1
  EXPECT_EQ(json[0]["participants"], nlohmann::json::array({"BOB"}));
  EXPECT_EQ(json[0]["reminder_minutes"], 15);
  EXPECT_EQ(json[1]["start"], "2026-03-05");
  EXPECT_EQ(json[1]["end"], "2026-03-07");
  EXPECT_EQ(json[2]["time_zone"], "Europe/Berlin");  // the Windows id, normalised to IANA
  EXPECT_EQ(json[2]["start"], "2026-03-23T08:00:00Z");
  EXPECT_EQ(json[2]["exdates"][0], "2026-04-06T07:00:00Z");  // CEST after 29 March
  EXPECT_EQ(json[2]["moved_occurrences"][0]["start"], "2026-04-13T09:00:00Z");

  auto bob = nlohmann::json::parse(run({"appointments", "list", "--user", "BOB", "--json"}).out);
  EXPECT_EQ(bob.size(), 2u);
  auto window = nlohmann::json::parse(
      run({"appointments", "list", "--from", "2026-03-04", "--to", "2026-03-10", "--json"}).out);
  ASSERT_EQ(window.size(), 1u);
  EXPECT_EQ(window[0]["subject"], "Conference");
}

TEST_F(Cli, BadAppointmentInputIsAUsageErrorAndChangesNothing) {
  init();
  ASSERT_EQ(run({"users", "add", "ANNA"}).exit_code, 0);
  auto before = database_bytes();
  auto zone = run({"appointments", "add", "--subject", "x", "--start", "2026-03-02T09:00", "--end",
                   "2026-03-02T10:00", "--zone", "Mars/Olympus_Mons", "--owner", "ANNA"});
  EXPECT_EQ(zone.exit_code, 2);
  EXPECT_CONTAINS(zone.err, "--zone");
  EXPECT_CONTAINS(zone.err, "Mars/Olympus_Mons");
  auto time = run({"appointments", "add", "--subject", "x", "--start", "2026-02-30T09:00", "--end",
                   "2026-03-02T10:00", "--owner", "ANNA"});
  EXPECT_EQ(time.exit_code, 2);
  EXPECT_CONTAINS(time.err, "--start");
  auto rule = run({"appointments", "add", "--subject", "x", "--start", "2026-03-02T09:00", "--end",
                   "2026-03-02T10:00", "--rrule", "FREQ=SOMETIMES", "--owner", "ANNA"});
  EXPECT_EQ(rule.exit_code, 2);
  EXPECT_CONTAINS(rule.err, "--rrule");
  auto backwards = run({"appointments", "add", "--subject", "x", "--start", "2026-03-02T09:00",
                        "--end", "2026-03-02T08:00", "--owner", "ANNA"});
  EXPECT_EQ(backwards.exit_code, 2);
  EXPECT_EQ(database_bytes(), before);
  auto unknown_owner = run({"appointments", "add", "--subject", "x", "--start", "2026-03-02T09:00",
                            "--end", "2026-03-02T10:00", "--owner", "ZED"});
  EXPECT_EQ(unknown_owner.exit_code, 1);
  EXPECT_CONTAINS(unknown_owner.err, "users add ZED");
  EXPECT_EQ(database_bytes(), before);
  EXPECT_EQ(nlohmann::json::parse(run({"appointments", "list", "--json"}).out).size(), 0u);
}

TEST_F(Cli, AnInvalidConfigNamesTheKeyAndTheFile) {
  init();
  auto good = slurp(config_);
  auto before = database_bytes();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[sync]\ndirection = \"sideways\"\n", "sync.direction"},
      {"[exchange]\nmail_domian = \"x.nl\"\n", "exchange.mail_domian"},
      {"[server]\nport = \"eighty\"\n", "server.port"},
      {"[exchange\n", "not valid TOML"},
  };
  for (const auto& [text, key] : cases) {
    std::ofstream(config_, std::ios::binary | std::ios::trunc) << text;
    auto result = run({"users", "list"});
    EXPECT_EQ(result.exit_code, 1) << text;
    EXPECT_CONTAINS(result.err, key);
    EXPECT_CONTAINS(result.err, config_.string());
  }
  EXPECT_EQ(database_bytes(), before);
  std::ofstream(config_, std::ios::binary | std::ios::trunc) << good;
  EXPECT_EQ(run({"users", "list"}).exit_code, 0);
}

TEST_F(Cli, ACorruptOrMissingDatabaseIsARuntimeError) {
  init();
  std::ofstream(database_, std::ios::binary | std::ios::trunc) << "this is not a database\n";
  std::filesystem::remove(database_.string() + "-wal");
  std::filesystem::remove(database_.string() + "-shm");
  auto before = slurp(database_);
  auto result = run({"users", "add", "ANNA"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_CONTAINS(result.err, database_.string());
  EXPECT_CONTAINS(result.err, "not an SQLite database");
  EXPECT_EQ(slurp(database_), before);

  std::filesystem::remove(database_);
  auto missing = run({"users", "list"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_CONTAINS(missing.err, "agendasync init");
  EXPECT_FALSE(std::filesystem::exists(database_));
}

}  // namespace
}  // namespace agendasync::cli
