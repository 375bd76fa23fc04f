// What an administrator changes from the command line (issue 13): renaming and removing
// activity types, changing and deleting host appointments with a revision check, and
// refusing text that is not UTF-8. Every refusal is checked to change nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_test_support.h"

namespace agendasync::cli {
namespace {

class CliAdmin : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    init();
    for (const char* name : {"ANNA", "BOB"}) ASSERT_EQ(run({"users", "add", name}).exit_code, 0);
    ASSERT_EQ(run({"activity-types", "add", "Visit", "--not-synced"}).exit_code, 0);
  }

  /// Adds an appointment and returns its id.
  std::string add(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"appointments", "add",
                                     "--subject",    "Planning",
                                     "--start",      "2026-03-02T09:00",
                                     "--end",        "2026-03-02T10:00",
                                     "--zone",       "Europe/Amsterdam",
                                     "--owner",      "ANNA",
                                     "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto added = run(args);
    EXPECT_EQ(added.exit_code, 0) << added.err;
    return std::to_string(nlohmann::json::parse(added.out)["id"].get<long>());
  }

  nlohmann::json listed() {
    return nlohmann::json::parse(run({"appointments", "list", "--json"}).out);
  }
};

TEST_F(CliAdmin, RenamedTypeKeepsItsAppointmentsAndFlags) {
  add({"--activity-type", "Visit"});
  auto revision = listed()[0]["revision"].get<long>();
  auto renamed = run({"activity-types", "rename", "visit", "Customer visit"});
  ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_CONTAINS(renamed.out, "Renamed activity type visit to Customer visit");
  auto items = listed();
  EXPECT_EQ(items[0]["activity_type"], "Customer visit");
  EXPECT_GT(items[0]["revision"].get<long>(), revision);  // a feed entry: the sync sees it
  auto types = run({"activity-types", "list"});
  EXPECT_CONTAINS(types.out, "Customer visit  no");  // still not synced
  EXPECT_EQ(types.out.find("Visit "), std::string::npos);
}

TEST_F(CliAdmin, RenameAndRemoveRefusalsNameTheProblemAndChangeNothing) {
  add({"--activity-type", "Visit"});
  auto before = database_bytes();
  auto taken = run({"activity-types", "rename", "Visit", "personal"});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_CONTAINS(taken.err, "agendasync: error: activity type \"Personal\" already exists");
  auto unknown = run({"activity-types", "rename", "Nope", "Other"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_CONTAINS(unknown.err, "\"Nope\" does not exist");
  auto in_use = run({"activity-types", "remove", "Visit"});
  EXPECT_EQ(in_use.exit_code, 1);
  EXPECT_CONTAINS(in_use.err, "used by 1 appointment(s); nothing was changed");
  EXPECT_CONTAINS(in_use.err, "agendasync appointments set ID --activity-type");
  EXPECT_EQ(database_bytes(), before);
}

TEST_F(CliAdmin, RemoveDropsAnUnusedTypeIncludingPersonal) {
  auto removed = run({"activity-types", "remove", "Personal"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_CONTAINS(removed.out, "Removed activity type Personal");
  EXPECT_EQ(run({"activity-types", "list"}).out.find("Personal"), std::string::npos);
}

TEST_F(CliAdmin, SetChangesOnlyTheGivenFields) {
  auto id = add({"--location", "Room 1", "--participant", "BOB", "--reminder", "15"});
  auto set = run({"appointments", "set", id, "--subject", "Review", "--start", "2026-03-02T11:00",
                  "--private", "--activity-type", "Visit", "--json"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto answer = nlohmann::json::parse(set.out);
  auto item = listed()[0];
  EXPECT_EQ(item["revision"], answer["revision"]);
  EXPECT_EQ(item["subject"], "Review");
  EXPECT_EQ(item["start"], "2026-03-02T10:00:00Z");
  EXPECT_EQ(item["end"], "2026-03-02T11:00:00Z");  // kept its hour
  EXPECT_EQ(item["sensitivity"], "private");
  EXPECT_EQ(item["activity_type"], "Visit");
  EXPECT_EQ(item["location"], "Room 1");
  EXPECT_EQ(item["participants"], nlohmann::json::array({"BOB"}));
  EXPECT_EQ(item["reminder_minutes"], 15);
  ASSERT_EQ(run({"appointments", "set", id, "--no-private"}).exit_code, 0);
  EXPECT_EQ(listed()[0]["sensitivity"], "normal");
}

TEST_F(CliAdmin, SetWithAStaleRevisionNamesTheCurrentOneAndChangesNothing) {
  auto id = add();
  auto revision = listed()[0]["revision"].get<long>();
  ASSERT_EQ(run({"appointments", "set", id, "--location", "Room 2", "--if-revision",
                 std::to_string(revision)})
                .exit_code,
            0);
  auto before = database_bytes();
  auto stale = run(
      {"appointments", "set", id, "--subject", "Lost", "--if-revision", std::to_string(revision)});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_CONTAINS(stale.err, "changed since it was read (revision " + std::to_string(revision) +
                                 ", now " + std::to_string(revision + 1) + ")");
  auto gone = run({"appointments", "remove", id, "--if-revision", std::to_string(revision)});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_CONTAINS(gone.err, "now " + std::to_string(revision + 1));
  EXPECT_EQ(database_bytes(), before);
  EXPECT_EQ(listed()[0]["subject"], "Planning");
}

TEST_F(CliAdmin, SetValidatesLikeAddAndChangesNothing) {
  auto id = add();
  auto before = database_bytes();
  auto backwards = run({"appointments", "set", id, "--end", "2026-03-02T08:00"});
  EXPECT_EQ(backwards.exit_code, 2);
  EXPECT_CONTAINS(backwards.err, "before it starts");
  auto type = run({"appointments", "set", id, "--activity-type", "Nope"});
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_CONTAINS(type.err, "activity type \"Nope\" is not known");
  auto owner = run({"appointments", "set", id, "--owner", "ZED"});
  EXPECT_EQ(owner.exit_code, 2);
  EXPECT_CONTAINS(owner.err, "users add ZED");
  auto zone = run({"appointments", "set", id, "--zone", "Mars/Olympus"});
  EXPECT_EQ(zone.exit_code, 2);
  EXPECT_CONTAINS(zone.err, "--zone");
  auto missing = run({"appointments", "set", "999", "--subject", "X"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_CONTAINS(missing.err, "appointment 999 does not exist");
  EXPECT_EQ(database_bytes(), before);
}

TEST_F(CliAdmin, RemoveDeletesTheAppointment) {
  auto id = add();
  auto revision = listed()[0]["revision"].get<long>();
  auto removed = run({"appointments", "remove", id, "--if-revision", std::to_string(revision)});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_CONTAINS(removed.out, "Deleted appointment " + id);
  EXPECT_EQ(listed().size(), 0u);
  auto again = run({"appointments", "remove", id});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_CONTAINS(again.err, "does not exist");
}

TEST_F(CliAdmin, ArgumentsThatAreNotUtf8AreRefusedNamingTheOptionAndChangeNothing) {
  auto id = add();
  auto before = database_bytes();
  auto subject = run({"appointments", "set", id, "--subject", "Caf\xE9"});
  EXPECT_EQ(subject.exit_code, 2);
  EXPECT_CONTAINS(subject.err, "the value of --subject (argument 5) is not valid UTF-8");
  EXPECT_CONTAINS(subject.err, "offset 3");
  EXPECT_CONTAINS(subject.err, "LANG=C.UTF-8");
  auto joined = run({"appointments", "add", "--location=Caf\xE9"});
  EXPECT_EQ(joined.exit_code, 2);
  EXPECT_CONTAINS(joined.err, "the value of --location");
  auto type = run({"activity-types", "add", "Vis\xEDt"});
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_CONTAINS(type.err, "argument 3 is not valid UTF-8");
  auto rename = run({"activity-types", "rename", "Visit", "\xC0\xAF"});
  EXPECT_EQ(rename.exit_code, 2);
  auto user = run({"users", "add", "J\xF6RG"});
  EXPECT_EQ(user.exit_code, 2);
  EXPECT_EQ(database_bytes(), before);
}

TEST_F(CliAdmin, AConfigFileThatIsNotUtf8IsRefusedNamingTheFileAndLine) {
  auto good = slurp(config_);
  auto before = database_bytes();
  std::ofstream(config_, std::ios::binary | std::ios::trunc) << good << "\n# caf\xE9 comment\n";
  auto result = run({"users", "list"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_CONTAINS(result.err, config_.string());
  EXPECT_CONTAINS(result.err, "UTF-8");
  EXPECT_EQ(database_bytes(), before);
}

}  // namespace
}  // namespace agendasync::cli
