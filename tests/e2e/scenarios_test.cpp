// One scenario per rule of the sync issue, end to end: the app layer with a real SQLite
// agenda and sync state, the real exsim over HTTPS, once through the EWS connector and once
// through the Graph connector (same scenarios, same expectations: the engine runs unchanged).
// Every test ends by checking exsim's outbox is empty (R39: the sync never sends mail).

#include <gtest/gtest.h>

#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> exchange_subjects(World& world, const std::string& mailbox) {
  std::vector<std::string> subjects;
  for (const auto& item : world.exchange_items(mailbox)) subjects.push_back(item["subject"]);
  std::sort(subjects.begin(), subjects.end());
  return subjects;
}

std::vector<std::string> host_subjects(World& world, const std::string& user) {
  std::vector<std::string> subjects;
  for (const auto& stored : world.host_items(user)) subjects.push_back(stored.item.subject);
  std::sort(subjects.begin(), subjects.end());
  return subjects;
}

using Subjects = std::vector<std::string>;

class Scenario : public ::testing::TestWithParam<Backend> {
 protected:
  void TearDown() override { EXPECT_EQ(world.outbox_size(), 0u) << "R39: exsim's outbox"; }
  World world{GetParam()};
};

std::string backend_test_name(const ::testing::TestParamInfo<Backend>& info) {
  return backend_name(info.param);
}

TEST_P(Scenario, R14_OwnerAndEnabledParticipantsEvenWhenCreatorDisabled) {
  world.add_user("jdoe", /*sync_enabled=*/false);
  world.add_user("asmith");
  world.add_user("bwayne");
  world.add_user("ckent");
  world.add_appointment("jdoe", "Project kick-off", future(), 60, {"asmith", "bwayne"});
  auto runs = world.app()->sync_all();
  ASSERT_TRUE(runs);
  EXPECT_EQ(exchange_subjects(world, "asmith@example.com"), Subjects{"Project kick-off"});
  EXPECT_EQ(exchange_subjects(world, "bwayne@example.com"), Subjects{"Project kick-off"});
  EXPECT_TRUE(world.exchange_items("jdoe@example.com").empty());
  EXPECT_TRUE(world.exchange_items("ckent@example.com").empty());
}

TEST_P(Scenario, R10_BlockedUserLeftAloneAndResumesWhenUnblocked) {
  world.add_user("jdoe", true, /*blocked=*/true);
  world.add_appointment("jdoe", "Host item", future());
  world.outlook_create("jdoe@example.com", "Outlook item", future(1));
  auto run = world.sync("jdoe");
  EXPECT_EQ(run.outcome, app::UserRun::Outcome::kSkipped);
  EXPECT_NE(run.reason.find("R10"), std::string::npos);
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"), Subjects{"Outlook item"});
  EXPECT_EQ(host_subjects(world, "jdoe"), Subjects{"Host item"});

  world.update_user("jdoe", [](User& user) { user.blocked = false; });
  EXPECT_EQ(world.sync("jdoe").outcome, app::UserRun::Outcome::kSynced);
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"), (Subjects{"Host item", "Outlook item"}));
  EXPECT_EQ(host_subjects(world, "jdoe"), (Subjects{"Host item", "Outlook item"}));
}

TEST_P(Scenario, R11_UserWhoDidNotEnableSyncLeftAlone) {
  world.add_user("jdoe", /*sync_enabled=*/false);
  world.add_appointment("jdoe", "Host item", future());
  world.outlook_create("jdoe@example.com", "Outlook item", future(1));
  auto run = world.sync("jdoe");
  EXPECT_EQ(run.outcome, app::UserRun::Outcome::kSkipped);
  EXPECT_NE(run.reason.find("R11"), std::string::npos);
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"), Subjects{"Outlook item"});
  EXPECT_EQ(host_subjects(world, "jdoe"), Subjects{"Host item"});
}

TEST_P(Scenario, R12_R19_DirectionsOrganisationDefaultAndUserOverride) {
  auto settings = world.store().settings();
  ASSERT_TRUE(settings);
  settings->sync.direction = SyncDirection::kTwoWay;
  ASSERT_TRUE(world.store().set_settings(*settings));
  world.add_user("asmith");
  world.add_user("bwayne");
  world.add_user("ckent");
  world.update_user("asmith",
                    [](User& user) { user.overrides.direction = SyncDirection::kToExchange; });
  world.update_user("bwayne",
                    [](User& user) { user.overrides.direction = SyncDirection::kFromExchange; });
  for (const std::string user : {"asmith", "bwayne", "ckent"}) {
    world.add_appointment(user, "Host " + user, future());
    world.outlook_create(user + "@example.com", "Outlook " + user, future(1));
    EXPECT_EQ(world.sync(user).outcome, app::UserRun::Outcome::kSynced) << user;
  }
  // to-Exchange: the host item goes out; the Outlook item is not imported.
  EXPECT_EQ(exchange_subjects(world, "asmith@example.com"),
            (Subjects{"Host asmith", "Outlook asmith"}));
  EXPECT_EQ(host_subjects(world, "asmith"), Subjects{"Host asmith"});
  // from-Exchange (R15): Outlook items come in; host items do not go out.
  EXPECT_EQ(exchange_subjects(world, "bwayne@example.com"), Subjects{"Outlook bwayne"});
  EXPECT_EQ(host_subjects(world, "bwayne"), (Subjects{"Host bwayne", "Outlook bwayne"}));
  // two-way, the organisation default.
  EXPECT_EQ(exchange_subjects(world, "ckent@example.com"),
            (Subjects{"Host ckent", "Outlook ckent"}));
  EXPECT_EQ(host_subjects(world, "ckent"), (Subjects{"Host ckent", "Outlook ckent"}));
}

TEST_P(Scenario, R16_ActivityTypes) {
  ASSERT_TRUE(world.store().put_activity_type({"Meeting", true, true, false}));
  ASSERT_TRUE(world.store().put_activity_type({"Internal", false, false, false}));
  ASSERT_TRUE(world.store().put_activity_type({"Personal", true, false, true}));
  world.add_user("jdoe");
  world.add_appointment("jdoe", "Chosen type", future(), 60, {}, "Meeting");
  world.add_appointment("jdoe", "Type not chosen", future(0, 2), 60, {}, "Internal");
  Appointment task;
  task.subject = "Project task";
  task.start = future(0, 4);
  task.end = future(0, 5);
  task.owner = "jdoe";
  task.activity_type = "Meeting";
  task.project_task = true;
  world.add_appointment(task);
  world.outlook_create_private("jdoe@example.com", "Dentist", future(1));
  world.outlook_create("jdoe@example.com", "Supplier call", future(2));

  EXPECT_EQ(world.sync("jdoe").outcome, app::UserRun::Outcome::kSynced);
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"),
            (Subjects{"Chosen type", "Dentist", "Supplier call"}));
  for (const auto& stored : world.host_items("jdoe")) {
    if (stored.item.subject == "Dentist") {
      EXPECT_EQ(stored.item.activity_type, "Personal");
    }
    if (stored.item.subject == "Supplier call") {
      EXPECT_EQ(stored.item.activity_type, "Meeting");
    }
  }
}

TEST_P(Scenario, R20_FirstSyncLinksInsteadOfDuplicating) {
  world.add_user("jdoe");
  world.add_appointment("jdoe", "Weekly review", future(), 60);
  world.outlook_create("jdoe@example.com", "Weekly review", future(), 60);
  auto run = world.sync("jdoe");
  ASSERT_TRUE(run.report);
  EXPECT_EQ(run.report->summary.linked, 1u);
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"), Subjects{"Weekly review"});
  EXPECT_EQ(host_subjects(world, "jdoe"), Subjects{"Weekly review"});
}

TEST_P(Scenario, R21_FirstSyncSkipsItemsThatEndedLongAgo) {
  world.add_user("jdoe");
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  world.add_appointment("jdoe", "Two months ago", now - std::chrono::days{60});
  world.add_appointment("jdoe", "Last week", now - std::chrono::days{7});
  Appointment series;
  series.subject = "Old weekly series";
  series.start = now - std::chrono::days{90};
  series.end = series.start + 1h;
  series.time_zone = "UTC";
  series.owner = "jdoe";
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kWeekly;
  series.recurrence->rule.by_day = {
      WeekdayNum{0, std::chrono::weekday{std::chrono::floor<std::chrono::days>(series.start)}}};
  world.add_appointment(series);
  world.sync("jdoe");
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"),
            (Subjects{"Last week", "Old weekly series"}));
}

TEST_P(Scenario, R22_AfterTheFirstSyncOnlyChanges) {
  world.add_user("jdoe");
  auto host = world.add_appointment("jdoe", "Host item", future());
  const long outlook = world.outlook_create("jdoe@example.com", "Outlook item", future(1));
  world.sync("jdoe");
  auto quiet = world.sync("jdoe");
  ASSERT_TRUE(quiet.report);
  EXPECT_FALSE(quiet.report->full_listing);
  EXPECT_TRUE(quiet.report->plan.operations.empty()) << sync::format_plan(quiet.report->plan);

  world.edit_appointment(host.id, [](Appointment& item) { item.location = "Room 4"; });
  world.outlook_update("jdoe@example.com", outlook, {{"subject", "Outlook item (moved)"}});
  auto changes = world.sync("jdoe");
  ASSERT_TRUE(changes.report);
  EXPECT_FALSE(changes.report->full_listing);
  EXPECT_EQ(changes.report->summary.sides[sync::Side::kRemote].updated, 1u);
  EXPECT_EQ(changes.report->summary.sides[sync::Side::kHost].updated, 1u);
  EXPECT_EQ(host_subjects(world, "jdoe"), (Subjects{"Host item", "Outlook item (moved)"}));
  bool located = false;
  for (const auto& item : world.exchange_items("jdoe@example.com"))
    located |= item["location"] == "Room 4";
  EXPECT_TRUE(located);
}

TEST_P(Scenario, R24_ConflictsMergeFieldsAndFollowThePolicy) {
  world.add_user("jdoe");
  world.update_user("jdoe",
                    [](User& user) { user.overrides.conflict_policy = ConflictPolicy::kHostWins; });
  auto host = world.add_appointment("jdoe", "Budget", future());
  world.sync("jdoe");
  const long id = world.exchange_items("jdoe@example.com").at(0)["id"];
  // Different fields on each side merge; the same field follows host-wins.
  world.edit_appointment(host.id, [](Appointment& item) { item.subject = "Budget (host)"; });
  world.outlook_update("jdoe@example.com", id,
                       {{"subject", "Budget (outlook)"}, {"location", "Room 9"}});
  auto run = world.sync("jdoe");
  ASSERT_TRUE(run.report);
  EXPECT_EQ(run.report->summary.conflicts, 1u);
  EXPECT_EQ(host_subjects(world, "jdoe"), Subjects{"Budget (host)"});
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"), Subjects{"Budget (host)"});
  EXPECT_EQ(world.host_items("jdoe").at(0).item.location, "Room 9");

  // Exchange wins for the same user after changing the override.
  world.update_user(
      "jdoe", [](User& user) { user.overrides.conflict_policy = ConflictPolicy::kExchangeWins; });
  world.edit_appointment(host.id, [](Appointment& item) { item.subject = "Budget v2 (host)"; });
  const long id2 = world.exchange_items("jdoe@example.com").at(0)["id"];
  world.outlook_update("jdoe@example.com", id2, {{"subject", "Budget v2 (outlook)"}});
  world.sync("jdoe");
  EXPECT_EQ(host_subjects(world, "jdoe"), Subjects{"Budget v2 (outlook)"});
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"), Subjects{"Budget v2 (outlook)"});
}

TEST_P(Scenario, R25_DeletedInExchangeUnderToExchange) {
  world.add_user("jdoe");
  world.add_user("asmith");
  for (const std::string user : {"jdoe", "asmith"}) {
    world.update_user(user, [](User& u) { u.overrides.direction = SyncDirection::kToExchange; });
  }
  auto settings = world.store().settings();
  ASSERT_TRUE(settings);
  settings->sync.deleted_in_exchange = DeletedInExchange::kRecreate;
  ASSERT_TRUE(world.store().set_settings(*settings));
  world.add_appointment("jdoe", "Recreated", future());
  world.sync("jdoe");
  world.outlook_delete("jdoe@example.com", world.exchange_items("jdoe@example.com").at(0)["id"]);
  auto recreated = world.sync("jdoe");
  ASSERT_TRUE(recreated.report);
  EXPECT_EQ(recreated.report->summary.sides[sync::Side::kRemote].created, 1u)
      << sync::format_plan(recreated.report->plan);
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"), Subjects{"Recreated"});
  EXPECT_EQ(host_subjects(world, "jdoe"), Subjects{"Recreated"});

  settings->sync.deleted_in_exchange = DeletedInExchange::kLeaveDeleted;
  ASSERT_TRUE(world.store().set_settings(*settings));
  world.add_appointment("asmith", "Left deleted", future());
  world.sync("asmith");
  world.outlook_delete("asmith@example.com",
                       world.exchange_items("asmith@example.com").at(0)["id"]);
  world.sync("asmith");
  world.sync("asmith");
  EXPECT_TRUE(world.exchange_items("asmith@example.com").empty());
  EXPECT_EQ(host_subjects(world, "asmith"), Subjects{"Left deleted"});  // host keeps it
}

TEST_P(Scenario, R27_InvalidSyncStateResyncsWithoutDuplicates) {
  world.add_user("jdoe");
  for (int i = 0; i < 5; ++i) world.add_appointment("jdoe", "Host " + std::to_string(i), future(i));
  world.outlook_create("jdoe@example.com", "Outlook 1", future(0, 3));
  world.sync("jdoe");
  // Tamper both cursors: EWS rejects the sync state (ErrorInvalidSyncStateData), the host
  // side rejects a revision that is not a number.
  EXPECT_GT(world.rewrite_cursors("UPDATE sync_cursor SET cursor = 'H4sIAAAAAAAA-tampered'"), 0);
  world.outlook_create("jdoe@example.com", "Outlook 2", future(0, 5));
  world.add_appointment("jdoe", "Host new", future(0, 7));
  auto run = world.sync("jdoe");
  ASSERT_TRUE(run.report);
  EXPECT_TRUE(run.report->full_listing);
  const auto exchange = world.exchange_items("jdoe@example.com");
  EXPECT_TRUE(duplicate_subjects(exchange).empty());
  EXPECT_EQ(exchange.size(), 8u);
  EXPECT_EQ(host_subjects(world, "jdoe"), exchange_subjects(world, "jdoe@example.com"));
}

TEST_P(Scenario, R40_OffboardingRemovesOnlyWhatTheSyncCreated) {
  world.add_user("jdoe");
  world.add_appointment("jdoe", "From the host", future());
  world.outlook_create("jdoe@example.com", "Made in Outlook", future(1));
  world.add_appointment("jdoe", "Linked", future(2));
  world.outlook_create("jdoe@example.com", "Linked", future(2));
  world.sync("jdoe");
  ASSERT_EQ(world.exchange_items("jdoe@example.com").size(), 3u);
  world.update_user("jdoe", [](User& user) { user.blocked = true; });
  auto report = world.app()->offboard("jdoe");
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->deleted, 1u);
  EXPECT_EQ(exchange_subjects(world, "jdoe@example.com"), (Subjects{"Linked", "Made in Outlook"}));
  // Blocked: the next sync leaves the calendar alone.
  EXPECT_EQ(world.sync("jdoe").outcome, app::UserRun::Outcome::kSkipped);
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 2u);
}

TEST_P(Scenario, R7_DeviatingAddressIsTheMailbox) {
  world.add_user("DPRINCE", true, false, "diana.prince@example.com");
  world.add_appointment("DPRINCE", "Deviating", future());
  auto run = world.sync("DPRINCE");
  EXPECT_EQ(run.mailbox, "diana.prince@example.com");
  EXPECT_EQ(exchange_subjects(world, "diana.prince@example.com"), Subjects{"Deviating"});
}

INSTANTIATE_TEST_SUITE_P(Backends, Scenario, ::testing::Values(Backend::kEws, Backend::kGraph),
                         backend_test_name);

class ScenarioDeletes : public ::testing::TestWithParam<Backend> {};

TEST_P(ScenarioDeletes, R25_DeletedInOutlookUnderTwoWayDeletesOnHost) {
  World world(GetParam());
  world.add_user("jdoe");
  world.add_appointment("jdoe", "Goes away", future());
  world.add_appointment("jdoe", "Stays", future(1));
  world.sync("jdoe");
  for (const auto& item : world.exchange_items("jdoe@example.com")) {
    if (item["subject"] == "Goes away") world.outlook_delete("jdoe@example.com", item["id"]);
  }
  auto run = world.sync("jdoe");
  ASSERT_TRUE(run.report);
  EXPECT_EQ(run.report->summary.sides[sync::Side::kHost].deleted, 1u)
      << sync::format_plan(run.report->plan);
  EXPECT_EQ(host_subjects(world, "jdoe"), Subjects{"Stays"});
  EXPECT_EQ(world.outbox_size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ScenarioDeletes,
                         ::testing::Values(Backend::kEws, Backend::kGraph), backend_test_name);

}  // namespace
}  // namespace agendasync::e2e
