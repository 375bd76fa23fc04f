// Each policy as a table that reads like the requirement it implements.
#include "sync/policies.h"

#include <gtest/gtest.h>

#include "sync/test_items.h"

namespace agendasync::sync {
namespace {

using testing::appointment;
using testing::at;

User user(std::string name, bool enabled, bool blocked = false) {
  User u;
  u.user_name = std::move(name);
  u.sync_enabled = enabled;
  u.blocked = blocked;
  return u;
}

TEST(Policies, R19_DirectionDecidesWhichSideIsHeard) {
  struct Row {
    SyncDirection direction;
    bool host_heard, remote_heard;
  };
  for (const auto& row :
       {Row{SyncDirection::kTwoWay, true, true}, Row{SyncDirection::kToExchange, true, false},
        Row{SyncDirection::kFromExchange, false, true}}) {
    EXPECT_EQ(accepts_changes_from(row.direction, Side::kHost), row.host_heard)
        << to_string(row.direction);
    EXPECT_EQ(accepts_changes_from(row.direction, Side::kRemote), row.remote_heard)
        << to_string(row.direction);
  }
}

TEST(Policies, R12_UserOverrideBeatsOrganisationDefault) {
  User plain = user("A", true);
  User own = user("B", true);
  own.overrides.direction = SyncDirection::kFromExchange;
  own.overrides.conflict_policy = ConflictPolicy::kExchangeWins;
  SyncSettingsLayer organisation;
  organisation.direction = SyncDirection::kTwoWay;
  organisation.conflict_policy = ConflictPolicy::kNewestWins;
  const auto for_plain = layer_sync_settings({}, organisation, plain.overrides);
  const auto for_own = layer_sync_settings({}, organisation, own.overrides);
  EXPECT_EQ(for_plain.direction.value, SyncDirection::kTwoWay);
  EXPECT_EQ(for_plain.direction.source, SettingSource::kOrganisation);
  EXPECT_EQ(for_own.direction.value, SyncDirection::kFromExchange);
  EXPECT_EQ(for_own.direction.source, SettingSource::kUser);
  EXPECT_EQ(for_plain.conflict_policy.value, ConflictPolicy::kNewestWins);
  EXPECT_EQ(for_own.conflict_policy.value, ConflictPolicy::kExchangeWins);
}

TEST(Policies, R10_R11_OnlyUnblockedUsersWithSyncOn) {
  EXPECT_TRUE(user_is_synced(user("A", true)));
  EXPECT_FALSE(user_is_synced(user("B", false)));
  EXPECT_FALSE(user_is_synced(user("C", true, /*blocked=*/true)));
}

TEST(Policies, R14_OwnerAndSyncedParticipantsEvenWhenTheCreatorIsNot) {
  const std::vector<User> users{user("OWNER", false), user("P1", true), user("P2", false),
                                user("P3", true, true), user("P4", true)};
  Appointment item = appointment("Project meeting", at(2, 10));
  item.owner = "OWNER";  // created it, has sync disabled
  item.participants = {"P1", "P2", "P3", "P4", "P1", "UNKNOWN"};
  EXPECT_EQ(route_appointment(item, users), (std::vector<std::string>{"P1", "P4"}));
  item.owner = "P4";
  item.participants = {};
  EXPECT_EQ(route_appointment(item, users), (std::vector<std::string>{"P4"}));
}

TEST(Policies, R16_ActivityTypesToExchangeAndBack) {
  ActivityTypePolicy policy;
  policy.synced_types = {"Meeting", "Visit"};
  policy.existing_types = {"Meeting", "Visit", "Personal", "Appointment"};
  Appointment item = appointment("x", at(2, 9));
  item.activity_type = "Meeting";
  EXPECT_TRUE(policy.syncs_to_remote(item));
  item.activity_type = "Holiday";
  EXPECT_FALSE(policy.syncs_to_remote(item));
  item.activity_type = "Meeting";
  item.project_task = true;
  EXPECT_FALSE(policy.syncs_to_remote(item)) << "project tasks never sync";

  Appointment outlook = appointment("doctor", at(2, 9));
  outlook.sensitivity = Sensitivity::kPrivate;
  EXPECT_EQ(policy.host_type_for(outlook), "Personal");
  policy.existing_types.erase("Personal");
  EXPECT_EQ(policy.host_type_for(outlook), "Appointment") << "no Personal type: the default";
  outlook.sensitivity = Sensitivity::kNormal;
  policy.existing_types.insert("Personal");
  EXPECT_EQ(policy.host_type_for(outlook), "Appointment");
}

TEST(Policies, R21_FirstSyncSkipsItemsThatEndedLongAgoUnlessTheyRecur) {
  const Instant now = at(20, 12, 6);
  const std::chrono::days keep{30};
  EXPECT_TRUE(ended_too_long_ago(appointment("old", at(1, 9, 4)), now, keep));
  EXPECT_FALSE(ended_too_long_ago(appointment("recent", at(1, 9, 6)), now, keep));
  EXPECT_FALSE(ended_too_long_ago(appointment("future", at(1, 9, 7)), now, keep));
  Appointment endless = testing::daily_series("daily", at(1, 9, 1), 1);
  endless.recurrence->rule.count.reset();
  EXPECT_FALSE(ended_too_long_ago(endless, now, keep)) << "recurs into the future";
  const Appointment finished = testing::daily_series("daily", at(1, 9, 1), 5);
  EXPECT_TRUE(ended_too_long_ago(finished, now, keep)) << "series over before the window";
}

TEST(Policies, R21_ASeriesIsJudgedByItsLastOccurrenceWhereverItsFirstLies) {
  const Instant now = at(20, 12, 6);
  const std::chrono::days keep{30};
  // A series starting inside the window is kept, however it ends (answered without a walk).
  EXPECT_FALSE(ended_too_long_ago(testing::daily_series("daily", at(1, 9, 6), 3), now, keep));
  // A series begun long ago that reaches into the window is kept (its last occurrence counts).
  EXPECT_FALSE(ended_too_long_ago(testing::daily_series("daily", at(1, 9, 5), 25), now, keep));
  // Its only occurrence moved back to long ago: the series ended then.
  Appointment moved_back = testing::daily_series("moved", at(1, 9, 6), 1);
  OccurrenceOverride back;
  back.recurrence_id = moved_back.start;
  back.start = at(1, 9, 4);
  back.end = back.start + (moved_back.end - moved_back.start);
  moved_back.recurrence->overrides.push_back(back);
  EXPECT_TRUE(ended_too_long_ago(moved_back, now, keep));
  // One of two moved back: the other occurrence is still in the window.
  Appointment two = testing::daily_series("two", at(1, 9, 6), 2);
  two.recurrence->overrides.push_back(back);
  EXPECT_FALSE(ended_too_long_ago(two, now, keep));
}

TEST(Policies, R24_ConflictWinner) {
  const Instant early = at(2, 9), late = at(2, 10);
  EXPECT_EQ(conflict_winner(ConflictPolicy::kNewestWins, early, late), Side::kRemote);
  EXPECT_EQ(conflict_winner(ConflictPolicy::kNewestWins, late, early), Side::kHost);
  EXPECT_EQ(conflict_winner(ConflictPolicy::kNewestWins, late, late), Side::kHost)
      << "a tie goes to the system of record";
  EXPECT_EQ(conflict_winner(ConflictPolicy::kNewestWins, std::nullopt, late), Side::kHost)
      << "unknown times: the host";
  EXPECT_EQ(conflict_winner(ConflictPolicy::kHostWins, early, late), Side::kHost);
  EXPECT_EQ(conflict_winner(ConflictPolicy::kExchangeWins, late, early), Side::kRemote);
}

TEST(Policies, R38_CircuitBreakerTwentyPercentAndAtLeastTen) {
  const CircuitBreaker breaker;
  EXPECT_FALSE(breaker.trips(9, 10)) << "fewer than 10 changes never trip";
  EXPECT_FALSE(breaker.trips(10, 100)) << "10% of 100";
  EXPECT_FALSE(breaker.trips(20, 100)) << "exactly 20% is allowed";
  EXPECT_TRUE(breaker.trips(21, 100));
  EXPECT_TRUE(breaker.trips(10, 10));
  EXPECT_FALSE(breaker.trips(150, 1000));
}

}  // namespace
}  // namespace agendasync::sync
