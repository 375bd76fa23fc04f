// One scenario per rule, named after its requirement, on in-memory sides (harness.h lets the
// same scenarios run against exsim once the EWS connector is wired in).
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>

#include "core/canonical.h"
#include "harness.h"
#include "sync/offboard.h"
#include "sync/test_items.h"

namespace agendasync::sync::scenario {
namespace {

using testing::appointment;
using testing::at;
using testing::daily_series;
using Strings = std::vector<std::string>;

Appointment host_item(std::string subject, Instant start, std::string type = "Appointment") {
  Appointment item = appointment(std::move(subject), start);
  item.activity_type = std::move(type);
  item.owner = "JDOE";
  return item;
}

/// A daily series of `count` occurrences owned by the host user, with an activity type.
Appointment host_series(std::string subject, Instant start, int count) {
  Appointment series = daily_series(std::move(subject), start, count);
  series.activity_type = "Appointment";
  return series;
}

/// The host user JDOE with sync on or off.
User jdoe(bool sync_enabled, bool blocked = false) {
  User user;
  user.user_name = "JDOE";
  user.sync_enabled = sync_enabled;
  user.blocked = blocked;
  return user;
}

RunReport must_sync(Pair& pair, bool dry_run = false) {
  auto report = pair.sync(dry_run);
  EXPECT_TRUE(report) << (report ? "" : report.error().message);
  return report ? *report : RunReport{};
}

/// Creates `count` host items named `prefix` + number, the i-th starting at `start(i)`.
void add_host_items(Pair& pair, int count, const std::string& prefix,
                    const std::function<Instant(int)>& start) {
  for (int i = 0; i < count; ++i) {
    pair.host->user_create(host_item(fmt::format("{}{}", prefix, i), start(i)));
  }
}

/// Forgets both sides' call counters, so the next run's calls can be counted.
void reset_calls(Pair& pair) {
  pair.host_memory().calls() = {};
  pair.remote_memory().calls() = {};
}

/// One host item synced to the remote: both its references.
struct SyncedItem {
  ItemRef host;
  ItemRef remote;
};
SyncedItem synced_item(Pair& pair, std::string subject) {
  const ItemRef h = pair.host->user_create(host_item(std::move(subject), at(10, 9)));
  must_sync(pair);
  return {h, pair.remote->items()[0].ref};
}

/// "Outlook" sets the location of `remote` when the next run reaches `when`.
void remote_edit_at(Pair& pair, CycleStep when, ItemRef remote, std::string location) {
  pair.options.on_step = [&pair, when, remote, location](CycleStep step) {
    if (step == when)
      pair.remote->user_edit(remote, [&](Appointment& a) { a.location = location; });
  };
}

TEST(Scenario, R10_BlockedUserLeftAlone) {
  Pair pair;
  pair.host->user_create(host_item("Review", at(10, 9)));
  User user = jdoe(/*sync_enabled=*/true, /*blocked=*/true);
  auto engine = pair.engine();
  auto result = sync_if_enabled(user, engine);
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result);
  EXPECT_TRUE(pair.remote->items().empty());
  EXPECT_EQ(pair.host_memory().calls().list + pair.host_memory().calls().changes_since, 0u);
  user.blocked = false;  // unblocked: sync resumes
  result = sync_if_enabled(user, engine);
  ASSERT_TRUE(result && *result);
  EXPECT_EQ(subjects(*pair.remote), Strings{"Review"});
}

TEST(Scenario, R11_UserWithoutSyncEnabledLeftAlone) {
  Pair pair;
  pair.host->user_create(host_item("Review", at(10, 9)));
  User user = jdoe(/*sync_enabled=*/false);
  auto engine = pair.engine();
  auto result = sync_if_enabled(user, engine);
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result);
  EXPECT_TRUE(pair.remote->items().empty());
}

TEST(Scenario, R12_R19_UserDirectionOverridesTheOrganisation) {
  Pair pair;
  User user;
  user.overrides.direction = SyncDirection::kFromExchange;
  SyncSettingsLayer organisation;
  organisation.direction = SyncDirection::kTwoWay;
  pair.options.policy.direction =
      layer_sync_settings({}, organisation, user.overrides).direction.value;
  pair.host->user_create(host_item("Host only", at(10, 9)));
  pair.remote->user_create(appointment("From Outlook", at(11, 9)));
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.remote), Strings{"From Outlook"});
  EXPECT_EQ(subjects(*pair.host), (Strings{"From Outlook", "Host only"}));
}

TEST(Scenario, R14_AppointmentGoesToEachSyncedParticipantsCalendar) {
  std::vector<User> users(3);
  users[0].user_name = "OWNER";  // the creator, sync disabled
  users[1].user_name = "ANNA";
  users[1].sync_enabled = true;
  users[2].user_name = "BOB";
  users[2].sync_enabled = true;
  users[2].blocked = true;
  Appointment meeting = host_item("Kick-off", at(12, 10));
  meeting.owner = "OWNER";
  meeting.participants = {"ANNA", "BOB"};
  const auto routed = route_appointment(meeting, users);
  ASSERT_EQ(routed, Strings{"ANNA"});
  // Each routed user's pair syncs it into that user's own mailbox.
  for (const auto& name : routed) {
    Pair pair;
    pair.options.policy.pair_id = name;
    pair.options.policy.host_user = name;
    pair.host->user_create(meeting);
    must_sync(pair);
    EXPECT_EQ(subjects(*pair.remote), Strings{"Kick-off"}) << name;
  }
}

TEST(Scenario, R15_FromExchangeItemsAreReadOnlyInTheHost) {
  Pair pair;
  pair.options.policy.direction = SyncDirection::kFromExchange;
  pair.remote->user_create(appointment("Outlook meeting", at(10, 9)));
  const RunReport first = must_sync(pair);
  bool read_only = false;
  for (const auto& op : first.plan.operations) {
    if (const auto* create = std::get_if<CreateOp>(&op)) read_only = create->read_only;
  }
  EXPECT_TRUE(read_only) << format_plan(first.plan);
  ASSERT_EQ(pair.host->items().size(), 1u);
  // An edit in the host is put back; the item is Exchange's.
  pair.host->user_edit(pair.host->items()[0].ref, [](Appointment& a) { a.subject = "hacked"; });
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.host), Strings{"Outlook meeting"});
}

TEST(Scenario, R16_ActivityTypesProjectTasksAndPrivateItems) {
  Pair pair;
  pair.options.policy.activity_types.synced_types = {"Meeting"};
  pair.host->user_create(host_item("Synced", at(10, 9), "Meeting"));
  pair.host->user_create(host_item("Holiday", at(11, 9), "Leave"));
  Appointment task = host_item("Task", at(12, 9), "Meeting");
  task.project_task = true;
  pair.host->user_create(task);
  Appointment dentist = appointment("Dentist", at(13, 9));
  dentist.sensitivity = Sensitivity::kPrivate;
  pair.remote->user_create(dentist);
  pair.remote->user_create(appointment("Lunch", at(14, 12)));
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.remote), (Strings{"Dentist", "Lunch", "Synced"}));
  for (const auto& item : pair.host->items()) {
    if (item.item.subject == "Dentist") {
      EXPECT_EQ(item.item.activity_type, "Personal");
    }
    if (item.item.subject == "Lunch") {
      EXPECT_EQ(item.item.activity_type, "Appointment");
    }
  }
}

TEST(Scenario, R19_ToExchangeLeavesExchangeItemsInExchange) {
  Pair pair;
  pair.options.policy.direction = SyncDirection::kToExchange;
  pair.host->user_create(host_item("Host", at(10, 9)));
  pair.remote->user_create(appointment("Private Outlook item", at(11, 9)));
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.host), Strings{"Host"});
  EXPECT_EQ(subjects(*pair.remote), (Strings{"Host", "Private Outlook item"}));
}

TEST(Scenario, R19_TwoWayCarriesEditsBothWays) {
  Pair pair;
  const ItemRef h = pair.host->user_create(host_item("A", at(10, 9)));
  const ItemRef r = pair.remote->user_create(appointment("B", at(11, 9)));
  must_sync(pair);
  pair.host->user_edit(h, [](Appointment& a) { a.location = "Room 1"; });
  pair.remote->user_edit(r, [](Appointment& a) { a.subject = "B2"; });
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.host), (Strings{"A", "B2"}));
  EXPECT_TRUE(sides_agree(pair));
}

TEST(Scenario, R20_FirstSyncLinksExistingItems) {
  Pair pair;
  pair.host->user_create(host_item("Board", at(10, 14)));
  pair.host->user_create(host_item("Only host", at(11, 9)));
  Appointment same = appointment("board", at(10, 14));  // same subject (case), start, end
  same.body.content = "notes";
  pair.remote->user_create(same);
  pair.remote->user_create(daily_series("Standup", at(2, 9), 30));
  pair.host->user_create(host_series("Standup", at(2, 9), 30));
  const RunReport report = must_sync(pair);
  EXPECT_EQ(report.summary.linked, 2u) << format_plan(report.plan);
  EXPECT_EQ(pair.host->items().size(), 3u);
  EXPECT_EQ(pair.remote->items().size(), 3u);
  EXPECT_TRUE(sides_agree(pair));
}

TEST(Scenario, R21_FirstSyncSkipsItemsThatEndedLongAgo) {
  Pair pair;
  pair.clock.now = at(1, 12, 6);
  pair.host->user_create(host_item("Last year", at(1, 9, 1)));
  pair.host->user_create(host_item("Last week", at(25, 9, 5)));
  Appointment endless = daily_series("Weekly since January", at(5, 9, 1), 1);
  endless.recurrence->rule.count.reset();
  endless.activity_type = "Appointment";
  pair.host->user_create(endless);
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.remote), (Strings{"Last week", "Weekly since January"}));
}

TEST(Scenario, R22_AfterTheFirstSyncOnlyChangesAreRead) {
  Pair pair;
  add_host_items(pair, 30, "Item ", [](int i) { return at(2 + i % 20, 9); });
  must_sync(pair);
  EXPECT_EQ(pair.host_memory().calls().list, 1u);
  const ItemRef one = pair.host->items()[3].ref;
  pair.host->user_edit(one, [](Appointment& a) { a.subject = "changed"; });
  reset_calls(pair);
  const RunReport report = must_sync(pair);
  EXPECT_FALSE(report.full_listing);
  EXPECT_EQ(pair.host_memory().calls().list, 0u);
  EXPECT_EQ(pair.host_memory().calls().fetched_items, 1u);
  EXPECT_EQ(pair.remote_memory().calls().writes, 1u);
}

TEST(Scenario, R24_ConflictNewestWinsByDefault) {
  Pair pair;
  const auto [h, r] = synced_item(pair, "A");
  pair.host->user_edit(h, [](Appointment& a) { a.subject = "host edit"; });
  pair.remote->user_edit(r, [](Appointment& a) { a.subject = "outlook edit (later)"; });
  pair.host->user_edit(h, [](Appointment& a) { a.location = "kept: other field"; });
  pair.remote->user_edit(r, [](Appointment& a) { a.subject = "outlook edit (latest)"; });
  const RunReport report = must_sync(pair);
  EXPECT_EQ(report.summary.conflicts, 1u);
  EXPECT_EQ(subjects(*pair.host), Strings{"outlook edit (latest)"});
  EXPECT_EQ(pair.host->items()[0].item.location, "kept: other field");
  EXPECT_TRUE(sides_agree(pair));
}

TEST(Scenario, R24_ConflictHostWinsAndExchangeWins) {
  for (auto policy : {ConflictPolicy::kHostWins, ConflictPolicy::kExchangeWins}) {
    Pair pair;
    pair.options.policy.conflict_policy = policy;
    const auto [h, r] = synced_item(pair, "A");
    pair.remote->user_edit(r, [](Appointment& a) { a.subject = "exchange"; });
    pair.host->user_edit(h, [](Appointment& a) { a.subject = "host"; });
    must_sync(pair);
    const std::string expected = policy == ConflictPolicy::kHostWins ? "host" : "exchange";
    EXPECT_EQ(subjects(*pair.host), Strings{expected});
    EXPECT_EQ(subjects(*pair.remote), Strings{expected});
  }
}

TEST(Scenario, R25_DeletedInExchangeUnderToExchange) {
  for (auto setting : {DeletedInExchange::kRecreate, DeletedInExchange::kLeaveDeleted}) {
    Pair pair;
    pair.options.policy.direction = SyncDirection::kToExchange;
    pair.options.policy.deleted_in_exchange = setting;
    const ItemRef h = pair.host->user_create(host_item("Mirror", at(10, 9)));
    must_sync(pair);
    pair.remote->user_delete(pair.remote->items()[0].ref);
    must_sync(pair);
    pair.host->user_edit(h, [](Appointment& a) { a.location = "edited later"; });
    must_sync(pair);
    if (setting == DeletedInExchange::kRecreate) {
      EXPECT_EQ(subjects(*pair.remote), Strings{"Mirror"});
      EXPECT_EQ(pair.remote->items()[0].item.location, "edited later");
    } else {
      EXPECT_TRUE(pair.remote->items().empty());
    }
    EXPECT_EQ(subjects(*pair.host), Strings{"Mirror"}) << "never deleted in the host";
  }
}

TEST(Scenario, R25_DeletionsFollowTheDirection) {
  Pair pair;
  const ItemRef h = pair.host->user_create(host_item("Gone", at(10, 9)));
  pair.host->user_create(host_item("Stays", at(11, 9)));
  must_sync(pair);
  pair.host->user_delete(h);
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.remote), Strings{"Stays"});
  EXPECT_EQ(*pair.state->link_count(), 1u);
}

TEST(Scenario, R27_InvalidCursorFullResyncWithoutDuplicates) {
  Pair pair;
  add_host_items(pair, 12, "H", [](int i) { return at(2 + i, 9); });
  for (int i = 0; i < 5; ++i)
    pair.remote->user_create(appointment(fmt::format("R{}", i), at(2 + i, 15)));
  must_sync(pair);
  pair.remote_memory().invalidate_cursors();
  pair.host->user_create(host_item("New after", at(20, 9)));
  const RunReport report = must_sync(pair);
  EXPECT_TRUE(report.full_listing);
  EXPECT_EQ(pair.host->items().size(), 18u);
  EXPECT_EQ(pair.remote->items().size(), 18u);
  EXPECT_TRUE(sides_agree(pair));
  // And with the status lost entirely: our keys find their partners first.
  MemorySyncState fresh;
  pair.state = &fresh;
  const RunReport again = must_sync(pair);
  EXPECT_EQ(again.summary.linked, 18u) << format_plan(again.plan);
  EXPECT_EQ(pair.remote->items().size(), 18u);
  EXPECT_TRUE(sides_agree(pair));
}

TEST(Scenario, R32_EveryAppliedChangeIsAudited) {
  Pair pair;
  const ItemRef h = pair.host->user_create(host_item("Audit me", at(10, 9)));
  const RunReport first = must_sync(pair);
  pair.host->user_edit(h, [](Appointment& a) { a.subject = "Audited"; });
  const RunReport second = must_sync(pair);
  const auto& entries = pair.audit.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].operation, "create");
  EXPECT_EQ(entries[0].run_id, first.run_id);
  EXPECT_EQ(entries[1].operation, "update");
  EXPECT_EQ(entries[1].run_id, second.run_id);
  EXPECT_EQ(entries[1].side, Side::kRemote);
  EXPECT_NE(entries[1].rule.find("R19"), std::string::npos);
  ASSERT_EQ(entries[1].changes.size(), 1u);
  EXPECT_EQ(entries[1].changes[0].field, "subject");
  EXPECT_EQ(entries[1].changes[0].before, "'Audit me'");
  EXPECT_EQ(entries[1].changes[0].after, "'Audited'");
}

TEST(Scenario, R37_DryRunPrintsThePlanAndWritesNothing) {
  Pair pair;
  pair.host->user_create(host_item("Planned", at(10, 9)));
  const RunReport report = must_sync(pair, /*dry_run=*/true);
  EXPECT_EQ(report.outcome, RunOutcome::kDryRun);
  EXPECT_NE(format_plan(report.plan).find("CREATE  on remote 'Planned'"), std::string::npos)
      << format_plan(report.plan);
  EXPECT_EQ(report.summary.sides[Side::kRemote].created, 1u);
  EXPECT_TRUE(pair.remote->items().empty());
  EXPECT_EQ(*pair.state->link_count(), 0u);
  EXPECT_TRUE(pair.state->cursor(Side::kHost)->empty());
}

TEST(Scenario, R38_FailedOrPartialReadIsNeverTakenAsDeletions) {
  Pair pair;
  add_host_items(pair, 20, "I", [](int i) { return at(2 + i, 9); });
  must_sync(pair);
  for (const auto& item : pair.host->items()) pair.host->user_delete(item.ref);
  // Three pages of deletions: the first page reads, the second fails.
  pair.host_memory().faults().fail_read_after = 1;
  auto failed = pair.sync();
  ASSERT_FALSE(failed);
  EXPECT_EQ(pair.remote->items().size(), 20u) << "nothing deleted on a failed read";
  // A real mass deletion trips the breaker instead of emptying the mailbox.
  auto tripped = pair.sync();
  ASSERT_TRUE(tripped) << tripped.error().message;
  EXPECT_EQ(tripped->outcome, RunOutcome::kQuarantined);
  EXPECT_EQ(pair.remote->items().size(), 20u);
}

TEST(Scenario, R38_EmptyListingStopsTheRun) {
  Pair pair;
  add_host_items(pair, 12, "I", [](int i) { return at(2 + i, 9); });
  must_sync(pair);
  pair.remote_memory().invalidate_cursors();        // forces a full listing...
  pair.remote_memory().faults().list_empty = true;  // ...that comes back empty
  auto result = pair.sync();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("listed no items while 12 are linked"), std::string::npos);
  EXPECT_EQ(pair.host->items().size(), 12u);
}

TEST(Scenario, R38_CircuitBreakerQuarantinesUntilApproved) {
  Pair pair;
  add_host_items(pair, 40, "I", [](int i) { return at(2 + i % 25, 9); });
  must_sync(pair);
  const auto items = pair.host->items();
  for (int i = 0; i < 12; ++i) pair.host->user_delete(items[i].ref);  // 30% of the calendar
  const RunReport stopped = must_sync(pair);
  EXPECT_EQ(stopped.outcome, RunOutcome::kQuarantined);
  EXPECT_NE(stopped.quarantine_reason.find("delete 12"), std::string::npos);
  EXPECT_EQ(pair.remote->items().size(), 40u);
  auto refused = pair.sync();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("agendasync approve --user JDOE"), std::string::npos);
  ASSERT_TRUE(pair.state->approve());
  const RunReport approved = must_sync(pair);
  EXPECT_EQ(approved.outcome, RunOutcome::kSynced);
  EXPECT_EQ(pair.remote->items().size(), 28u);
  EXPECT_FALSE(*pair.state->quarantine()) << "approval is used once";
}

TEST(Scenario, R38_FirstSyncCanRequireApprovalAfterItsDryRun) {
  Pair pair;
  pair.options.first_sync_requires_approval = true;
  pair.host->user_create(host_item("Waits", at(10, 9)));
  const RunReport held = must_sync(pair);
  EXPECT_EQ(held.outcome, RunOutcome::kQuarantined);
  EXPECT_TRUE(pair.remote->items().empty());
  const RunReport preview = must_sync(pair, /*dry_run=*/true);
  EXPECT_EQ(preview.summary.sides[Side::kRemote].created, 1u);
  ASSERT_TRUE(pair.state->approve());
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.remote), Strings{"Waits"});
}

TEST(Scenario, R38_AnUnreadableOccurrenceIsNotADeletedOne) {
  Pair pair;
  const ItemRef h = pair.host->user_create(host_series("Daily", at(2, 9), 10));
  must_sync(pair);
  const ItemRef r = pair.remote->items()[0].ref;
  pair.remote->user_edit(r, [](Appointment& a) { a.location = "Room 3"; });
  pair.remote_memory().faults().unreadable.insert(r);
  EXPECT_FALSE(pair.sync()) << "the read fails; nothing is concluded from it";
  pair.remote_memory().faults().unreadable.clear();
  must_sync(pair);
  const auto host = pair.host->items();
  ASSERT_EQ(host.size(), 1u);
  EXPECT_EQ(host[0].ref, h);
  EXPECT_TRUE(host[0].item.recurrence->exdates.empty());
  EXPECT_EQ(host[0].item.location, "Room 3");
}

TEST(Scenario, R39_TheEngineNeverAsksForInvitations) {
  Pair pair;
  Appointment meeting = host_item("Meeting with guests", at(10, 9));
  meeting.attendees.push_back({{"Guest", "guest@example.com"}, AttendeeRole::kRequired, {}});
  const ItemRef h = pair.host->user_create(meeting);
  const RunReport first = must_sync(pair);
  pair.host->user_edit(h, [](Appointment& a) { a.subject = "Moved meeting"; });
  const RunReport second = must_sync(pair);
  std::size_t writes = 0;
  for (const auto* report : {&first, &second}) {
    for (const auto& op : report->plan.operations) {
      if (const auto* create = std::get_if<CreateOp>(&op)) {
        EXPECT_FALSE(create->send_invitations);
        ++writes;
      }
      if (const auto* update = std::get_if<UpdateOp>(&op)) {
        EXPECT_FALSE(update->send_invitations);
        ++writes;
      }
    }
  }
  EXPECT_EQ(writes, 2u);
  // The intent reaches the sides with every write.
  EXPECT_EQ(pair.remote_memory().calls().writes, 2u);
  EXPECT_EQ(pair.remote_memory().calls().invitations, 0u);
}

TEST(Scenario, R39_OnlyTheSettingMakesWritesAskForInvitations) {
  Pair pair;
  pair.options.policy.send_invitations = true;
  pair.host->user_create(host_item("Real meeting", at(10, 9)));
  must_sync(pair);
  EXPECT_EQ(pair.remote_memory().calls().invitations, 1u);
}

TEST(Scenario, R40_OffboardingRemovesOnlyWhatTheSyncCreated) {
  Pair pair;
  pair.host->user_create(host_item("Created by sync", at(10, 9)));
  pair.host->user_create(host_item("Matched", at(11, 9)));
  pair.remote->user_create(appointment("Matched", at(11, 9)));
  pair.remote->user_create(appointment("Own Outlook item", at(12, 9)));
  must_sync(pair);
  ASSERT_EQ(pair.remote->items().size(), 3u);
  auto report = offboard(pair.remote->side(), *pair.state, pair.audit, "JDOE", pair.clock.now);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->deleted, 1u);
  EXPECT_EQ(subjects(*pair.remote), (Strings{"Matched", "Own Outlook item"}));
  EXPECT_EQ(*pair.state->link_count(), 0u);
  EXPECT_EQ(pair.audit.entries().back().rule, "R40 offboarding removes what the sync created");
}

TEST(Scenario, OccurrenceChangesStayOccurrenceChanges) {
  Pair pair;
  pair.host->user_create(host_series("Daily", at(2, 9), 10));
  must_sync(pair);
  const ItemRef h = pair.host->items()[0].ref;
  const ItemRef r = pair.remote->items()[0].ref;
  pair.remote->user_edit(r, [](Appointment& a) {
    OccurrenceOverride moved;
    moved.recurrence_id = at(4, 9);
    moved.start = at(4, 11);
    moved.end = at(4, 12);
    moved.subject = "Daily (moved)";
    a.recurrence->overrides.push_back(moved);
  });
  pair.host->user_edit(h, [](Appointment& a) { a.recurrence->exdates.push_back(at(6, 9)); });
  const RunReport report = must_sync(pair);
  EXPECT_EQ(report.summary.conflicts, 0u);
  for (auto* side : {pair.host.get(), pair.remote.get()}) {
    const auto rec = side->items()[0].item.recurrence;
    ASSERT_EQ(rec->overrides.size(), 1u);
    EXPECT_EQ(rec->overrides[0].start, at(4, 11));
    EXPECT_EQ(rec->exdates, std::vector<Instant>{at(6, 9)});
  }
}

// Pain points of other sync tools, each a regression test.

TEST(PainPoint, ACopiedItemIsNotADuplicateNorLost) {
  Pair pair;
  pair.host->user_create(host_item("Original", at(10, 9)));
  must_sync(pair);
  const auto copy = pair.remote_memory().user_copy(pair.remote->items()[0].ref);
  ASSERT_TRUE(copy);
  pair.remote->user_edit(*copy, [](Appointment& a) { a.subject = "Copy"; });
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.host), (Strings{"Copy", "Original"}));
  EXPECT_EQ(subjects(*pair.remote), (Strings{"Copy", "Original"}));
  must_sync(pair);
  EXPECT_EQ(pair.host->items().size(), 2u);
  EXPECT_TRUE(sides_agree(pair));
}

TEST(PainPoint, FlakyVersionTagsCauseNoWrites) {
  Pair pair;
  pair.host->user_create(host_item("Stable", at(10, 9)));
  must_sync(pair);
  pair.remote_memory().touch(pair.remote->items()[0].ref);
  pair.host_memory().touch(pair.host->items()[0].ref);
  reset_calls(pair);
  must_sync(pair);
  EXPECT_EQ(pair.host_memory().calls().writes + pair.remote_memory().calls().writes, 0u);
}

TEST(PainPoint, AStaleChangeKeyLosesNoEdit) {
  Pair pair;
  const auto [h, r] = synced_item(pair, "A");
  pair.host->user_edit(h, [](Appointment& a) { a.subject = "host edit"; });
  // The remote item changes between our read and our write: the update hits a stale key.
  remote_edit_at(pair, CycleStep::kJournaled, r, "outlook edit");
  const RunReport racing = must_sync(pair);
  EXPECT_EQ(racing.outcome, RunOutcome::kPartial);
  pair.options.on_step = nullptr;
  must_sync(pair);
  const auto remote = pair.remote->items();
  EXPECT_EQ(remote[0].item.subject, "host edit");
  EXPECT_EQ(remote[0].item.location, "outlook edit");
  EXPECT_TRUE(sides_agree(pair));
}

TEST(PainPoint, ARenamedSeriesIsNotDuplicated) {
  Pair pair;
  pair.host->user_create(host_series("Weekly sync", at(2, 9), 8));
  must_sync(pair);
  pair.remote->user_edit(pair.remote->items()[0].ref,
                         [](Appointment& a) { a.subject = "Weekly sync (renamed)"; });
  must_sync(pair);
  EXPECT_EQ(subjects(*pair.host), Strings{"Weekly sync (renamed)"});
  EXPECT_EQ(pair.remote->items().size(), 1u);
}

// Echo suppression: our own writes never come back as work.

TEST(Echoes, AfterARunTheCursorsLiePastItsOwnWrites) {
  Pair pair;
  add_host_items(pair, 30, "Host ", [](int) { return at(2, 9); });
  for (int i = 0; i < 5; ++i)
    pair.remote->user_create(appointment(fmt::format("Outlook {}", i), at(3, 9)));
  const RunReport first = must_sync(pair);
  EXPECT_TRUE(first.cursor_past_writes[Side::kHost]);
  EXPECT_TRUE(first.cursor_past_writes[Side::kRemote]);
  reset_calls(pair);
  const RunReport quiet = must_sync(pair);
  EXPECT_FALSE(quiet.full_listing);
  EXPECT_TRUE(quiet.plan.operations.empty()) << format_plan(quiet.plan);
  // Nothing read back: one feed call per side, no item fetched.
  EXPECT_EQ(pair.host_memory().calls().changes_since, 1u);
  EXPECT_EQ(pair.remote_memory().calls().changes_since, 1u);
  EXPECT_EQ(pair.host_memory().calls().fetched_items + pair.remote_memory().calls().fetched_items,
            0u);
}

TEST(Echoes, WhenSomeoneElseWroteMeanwhileEchoesAreSkippedWithoutAFetch) {
  Pair pair;
  add_host_items(pair, 20, "Host ", [](int) { return at(2, 9); });
  // A person adds an item to Exchange while our creates are being written: the cursor must
  // stay where that item is reported, so the next run reads our 20 creates back too.
  pair.options.on_step = [&](CycleStep step) {
    if (step == CycleStep::kBatchApplied && pair.remote_memory().size() == 20) {
      pair.remote->user_create(appointment("Made meanwhile", at(4, 9)));
    }
  };
  const RunReport first = must_sync(pair);
  EXPECT_FALSE(first.cursor_past_writes[Side::kRemote]);
  pair.options.on_step = nullptr;
  pair.remote_memory().calls() = {};
  const RunReport next = must_sync(pair);
  EXPECT_EQ(next.echoes[Side::kRemote], 20u);
  EXPECT_EQ(pair.remote_memory().calls().fetched_items, 1u);  // only the person's item
  EXPECT_EQ(next.summary.sides[Side::kHost].created, 1u);
  EXPECT_TRUE(sides_agree(pair));
}

TEST(Echoes, AFeedWithoutVersionsIsCheckedByFetchingOnlyWhatWasWritten) {
  Pair pair;
  pair.remote_memory().set_feed_versions(false);
  add_host_items(pair, 12, "Host ", [](int) { return at(2, 9); });
  const RunReport first = must_sync(pair);
  EXPECT_TRUE(first.cursor_past_writes[Side::kRemote]);
  pair.remote_memory().calls() = {};
  must_sync(pair);
  EXPECT_EQ(pair.remote_memory().calls().fetched_items, 0u);
}

TEST(Echoes, AnEditRightAfterOurWriteIsNotMistakenForItsEcho) {
  Pair pair;
  const auto [h, r] = synced_item(pair, "A");
  pair.host->user_edit(h, [](Appointment& a) { a.subject = "host edit"; });
  // Outlook edits the item between our write and the end of the run.
  remote_edit_at(pair, CycleStep::kBatchApplied, r, "outlook, right after");
  const RunReport report = must_sync(pair);
  EXPECT_FALSE(report.cursor_past_writes[Side::kRemote]);
  pair.options.on_step = nullptr;
  must_sync(pair);
  EXPECT_EQ(pair.host->items()[0].item.location, "outlook, right after");
  EXPECT_EQ(pair.host->items()[0].item.subject, "host edit");
  EXPECT_TRUE(sides_agree(pair));
}

}  // namespace
}  // namespace agendasync::sync::scenario

namespace agendasync::sync::scenario {
namespace {

// Issue 15 §5: one cause that fails a whole batch is one line of the report, with the count,
// not one line per item; the next run writes them all without duplicates.
TEST(Scenario, IdenticalWriteFailuresAreOneLineOfTheReport) {
  Pair pair;
  add_host_items(pair, 30, "Item ", [](int i) { return at(10, 9) + std::chrono::hours(i); });
  pair.remote_memory().faults().fail_writes = 30;
  const RunReport failed = must_sync(pair);
  EXPECT_EQ(failed.outcome, RunOutcome::kPartial);
  EXPECT_EQ(failed.summary.sides[Side::kRemote].failed, 30u);
  ASSERT_EQ(failed.errors.size(), 1u) << fmt::format("{}", fmt::join(failed.errors, "\n"));
  EXPECT_TRUE(failed.errors[0].starts_with("30 items: create on remote")) << failed.errors[0];
  EXPECT_NE(failed.errors[0].find("injected write failure"), std::string::npos);

  const RunReport next = must_sync(pair);
  EXPECT_TRUE(next.errors.empty());
  EXPECT_EQ(pair.remote->items().size(), 30u);
  EXPECT_TRUE(sides_agree(pair));
}

}  // namespace
}  // namespace agendasync::sync::scenario
