// Layered sync settings end to end (R12, R38, R39): the configuration file's [sync], the
// organisation settings in the agenda and a user's override, applied by the real
// `agendasync` binary (or the app layer) against exsim.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

constexpr const char* kMailbox = "jdoe@example.com";

/// Appends a [sync] section to the world's configuration file (the file ends with [tls]).
void configure_sync(World& world, const std::string& keys) {
  std::ofstream(world.config_path(), std::ios::app) << "[sync]\n" << keys;
}

std::vector<std::string> host_subjects(World& world, const std::string& user) {
  std::vector<std::string> subjects;
  for (const auto& stored : world.host_items(user)) subjects.push_back(stored.item.subject);
  std::sort(subjects.begin(), subjects.end());
  return subjects;
}

/// `settings show --json` for `key`: its value as text and where it comes from, e.g.
/// "to-exchange from config file".
std::string shown(World& world, const std::string& key,
                  const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"settings", "show", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto result = world.cli(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out, nullptr, false);
  if (json.is_discarded() || !json.contains(key)) {
    ADD_FAILURE() << key << " not shown:\n" << result.out;
    return "";
  }
  const auto& value = json[key];
  return (value.is_string() ? value.get<std::string>() : value.dump()) + " from " +
         json["sources"][key].get<std::string>();
}

/// Creates `count` host appointments for jdoe ("Item 00", ...) and syncs them.
std::vector<store::AppointmentId> add_synced_items(World& world, int count) {
  std::vector<store::AppointmentId> ids;
  for (int i = 0; i < count; ++i) {
    ids.push_back(world.add_appointment("jdoe", fmt::format("Item {:02}", i), future(i)).id);
  }
  EXPECT_EQ(world.sync("jdoe").outcome, app::UserRun::Outcome::kSynced);
  EXPECT_EQ(world.exchange_items(kMailbox).size(), static_cast<std::size_t>(count));
  return ids;
}

TEST(Settings, R12_ConfigFileDirectionTakesEffectAndTheAgendaAndUserWinOverIt) {
  World world;
  configure_sync(world, "direction = \"to-exchange\"\n");
  world.add_user("jdoe");
  world.add_appointment("jdoe", "From the host", future());
  world.outlook_create(kMailbox, "Made in Outlook", future(1));

  EXPECT_EQ(shown(world, "direction"), "to-exchange from config file");
  auto first = world.cli({"sync", "--user", "jdoe"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  // to-exchange: the host item went out, the Outlook item stayed in Exchange.
  EXPECT_EQ(world.exchange_items(kMailbox).size(), 2u);
  EXPECT_EQ(host_subjects(world, "jdoe"), std::vector<std::string>{"From the host"});

  // The organisation setting in the agenda wins over the file.
  ASSERT_EQ(world.cli({"settings", "set", "--direction", "two-way"}).exit_code, 0);
  EXPECT_EQ(shown(world, "direction"), "two-way from organisation");
  world.outlook_create(kMailbox, "Made in Outlook later", future(2));
  ASSERT_EQ(world.cli({"sync", "--user", "jdoe"}).exit_code, 0);
  EXPECT_EQ(host_subjects(world, "jdoe"),
            (std::vector<std::string>{"From the host", "Made in Outlook later"}))
      << "two-way from now on (the earlier item was left alone by to-exchange's first sync)";

  // The user's own direction wins over both.
  ASSERT_EQ(world.cli({"users", "set", "jdoe", "--direction", "to-exchange"}).exit_code, 0);
  EXPECT_EQ(shown(world, "direction", {"--user", "jdoe"}), "to-exchange from user");
  world.outlook_create(kMailbox, "Not for the host", future(3));
  ASSERT_EQ(world.cli({"sync", "--user", "jdoe"}).exit_code, 0);
  EXPECT_EQ(host_subjects(world, "jdoe").size(), 2u);

  // "default" hands the key back to the configuration file.
  ASSERT_EQ(world.cli({"settings", "set", "--direction", "default"}).exit_code, 0);
  EXPECT_EQ(shown(world, "direction"), "to-exchange from config file");
  EXPECT_EQ(world.outbox_size(), 0u);
}

TEST(Settings, R38_FirstSyncApprovalFromTheConfigQuarantinesUntilApproved) {
  World world;
  configure_sync(world, "first_sync_approval = true\n");
  world.add_user("jdoe");
  world.add_appointment("jdoe", "Waits for the admin", future());

  auto held = world.cli({"sync", "--user", "jdoe"});
  EXPECT_EQ(held.exit_code, 1) << held.out << held.err;
  EXPECT_NE(held.out.find("quarantined"), std::string::npos) << held.out;
  EXPECT_NE(held.out.find("first sync"), std::string::npos) << held.out;
  // The dry-run plan is printed with the quarantine.
  EXPECT_NE(held.out.find("'Waits for the admin'"), std::string::npos) << held.out;
  EXPECT_NE(held.out.find("remote: 1 created"), std::string::npos) << held.out;
  EXPECT_TRUE(world.exchange_items(kMailbox).empty()) << "nothing written before approval";
  // Still held on the next run.
  EXPECT_EQ(world.cli({"sync", "--user", "jdoe"}).exit_code, 1);
  EXPECT_TRUE(world.exchange_items(kMailbox).empty());

  auto approve = world.cli({"approve", "--user", "jdoe"});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  auto applied = world.cli({"sync", "--user", "jdoe"});
  EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  ASSERT_EQ(world.exchange_items(kMailbox).size(), 1u);
  EXPECT_EQ(world.exchange_items(kMailbox)[0]["subject"], "Waits for the admin");
  EXPECT_EQ(world.outbox_size(), 0u);
}

TEST(Settings, R38_TheBreakerShareFromTheConfigDecidesWhenItTrips) {
  World world;
  // 50% of the calendar, from one item up (the built-in 20% would stop the first run below).
  configure_sync(world, "breaker_share = 50\nbreaker_min_items = 1\n");
  world.add_user("jdoe");
  const auto ids = add_synced_items(world, 20);

  // Exactly half of 20 linked items: not more than 50%, the run goes through.
  for (int i = 0; i < 10; ++i) world.delete_appointment(ids[i]);
  EXPECT_EQ(world.sync("jdoe").outcome, app::UserRun::Outcome::kSynced);
  EXPECT_EQ(world.exchange_items(kMailbox).size(), 10u);

  // 6 of the 10 left is more than half: the breaker stops the run.
  for (int i = 10; i < 16; ++i) world.delete_appointment(ids[i]);
  auto stopped = world.app()->sync_user("jdoe");
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(stopped->outcome, app::UserRun::Outcome::kQuarantined);
  ASSERT_TRUE(stopped->report);
  EXPECT_NE(stopped->report->quarantine_reason.find("more than 50%"), std::string::npos)
      << stopped->report->quarantine_reason;
  EXPECT_EQ(world.exchange_items(kMailbox).size(), 10u);
}

TEST(Settings, R38_OutOfRangeBreakerShareNamesFileLineKeyAndRange) {
  World world;
  world.add_user("jdoe");
  auto set = world.cli({"settings", "set", "--breaker-share", "101"});
  EXPECT_EQ(set.exit_code, 2);
  EXPECT_NE(set.err.find("1..100"), std::string::npos) << set.err;
  EXPECT_EQ(shown(world, "breaker_share"), "20 from built-in") << "nothing stored";

  configure_sync(world, "breaker_share = 0\n");
  auto refused = world.cli({"sync"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find(world.config_path().string() + ":"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("sync.breaker_share"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("1..100"), std::string::npos) << refused.err;
}

/// An appointment with a participant (a host user) and an outside attendee.
void add_meeting(World& world) {
  Appointment meeting;
  meeting.subject = "Project kick-off";
  meeting.start = future();
  meeting.end = future() + std::chrono::hours{1};
  meeting.time_zone = "Europe/Amsterdam";
  meeting.owner = "jdoe";
  meeting.participants = {"asmith"};
  meeting.attendees.push_back({{"Guest", "guest@partner.example"}, AttendeeRole::kRequired, {}});
  world.add_appointment(meeting);
}

class MeetingRequests : public ::testing::TestWithParam<Backend> {};

TEST_P(MeetingRequests, R39_OffByDefaultAnAppointmentWithAttendeesSendsNoMail) {
  World world(GetParam());
  world.add_user("jdoe");
  world.add_user("asmith");
  add_meeting(world);
  EXPECT_EQ(shown(world, "send_meeting_requests"), "false from built-in");
  ASSERT_EQ(world.cli({"sync"}).exit_code, 0);
  EXPECT_EQ(world.exchange_items(kMailbox).size(), 1u);
  EXPECT_EQ(world.exchange_items("asmith@example.com").size(), 1u);
  EXPECT_EQ(world.outbox_size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, MeetingRequests,
                         ::testing::Values(Backend::kEws, Backend::kGraph),
                         [](const auto& info) { return std::string(backend_name(info.param)); });

TEST(Settings, R39_MeetingRequestsOnSendTheInvitationThroughGraph) {
  World world(Backend::kGraph);
  configure_sync(world, "send_meeting_requests = true\n");
  world.add_user("jdoe");
  world.add_user("asmith", /*sync_enabled=*/false);
  add_meeting(world);
  auto run = world.cli({"sync", "--user", "jdoe"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto outbox = world.admin("GET", "/exsim/admin/outbox");
  ASSERT_EQ(outbox.size(), 1u) << outbox.dump();
  EXPECT_EQ(outbox[0]["kind"], "MeetingRequest");
  EXPECT_EQ(outbox[0]["subject"], "Project kick-off");
}

TEST(Settings, R39_MeetingRequestsAreRefusedOnEwsWhereTheyCannotBeSent) {
  World world;
  world.add_user("jdoe");
  world.add_user("asmith", /*sync_enabled=*/false);
  add_meeting(world);
  // As an organisation setting: refused by `settings set`, nothing stored.
  auto set = world.cli({"settings", "set", "--send-meeting-requests", "true"});
  EXPECT_EQ(set.exit_code, 2);
  EXPECT_NE(set.err.find("graph"), std::string::npos) << set.err;
  EXPECT_EQ(shown(world, "send_meeting_requests"), "false from built-in");
  // In the configuration file: refused at load, naming the key.
  configure_sync(world, "send_meeting_requests = true\n");
  auto run = world.cli({"sync"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("sync.send_meeting_requests"), std::string::npos) << run.err;
  EXPECT_TRUE(world.exchange_items(kMailbox).empty());
  EXPECT_EQ(world.outbox_size(), 0u);
}

}  // namespace
}  // namespace agendasync::e2e
