// The planner's decision table, row by row: a status, what each side reported, the plan.
#include "sync/plan.h"

#include <gtest/gtest.h>

#include "core/canonical.h"
#include "sync/identity.h"
#include "sync/summary.h"
#include "sync/test_items.h"

namespace agendasync::sync {
namespace {

using testing::appointment;
using testing::at;

/// A pair with one linked item "Standup" (host h1 v1, remote r1 v1).
struct Fixture {
  Appointment base = appointment("Standup", at(2, 9));
  LinkRecord link;
  PlanInput input;
  PlanPolicy policy;

  Fixture() {
    base.activity_type = "Appointment";
    link.key = IdempotencyKey("as1-link");
    link.sides[Side::kHost] = {ItemRef("h1"), VersionTag("1"), item_fingerprint(Side::kHost, base),
                               std::nullopt};
    link.sides[Side::kRemote] = {ItemRef("r1"), VersionTag("1"),
                                 item_fingerprint(Side::kRemote, without_host_fields(base)),
                                 std::nullopt};
    link.base = base;
    link.created_on = Side::kRemote;
    input.links = {link};
    input.now = at(1, 0);
    policy.pair_id = "p";
    policy.host_user = "JDOE";
  }
  /// The remote item carries the link's key: the sync created it there (created_on).
  void report(Side side, Appointment item, std::string version) {
    const ItemRef ref(side == Side::kHost ? "h1" : "r1");
    std::optional<IdempotencyKey> key;
    if (side == Side::kRemote) key = link.key;
    input.reports[side].items.push_back(
        {SideItem{ref, VersionTag(std::move(version)), key, std::move(item), std::nullopt}});
  }
  void deleted(Side side) {
    input.reports[side].deleted.push_back(ItemRef(side == Side::kHost ? "h1" : "r1"));
  }
  Plan plan() const { return make_plan(input, policy); }
};

template <class T>
std::vector<T> ops_of(const Plan& plan) {
  std::vector<T> found;
  for (const auto& op : plan.operations) {
    if (const auto* typed = std::get_if<T>(&op)) found.push_back(*typed);
  }
  return found;
}

TEST(Plan, NothingReportedNothingPlanned) {
  Fixture f;
  EXPECT_TRUE(f.plan().operations.empty());
}

TEST(Plan, EchoOfOurOwnWriteIsSkipped) {
  Fixture f;
  Appointment changed = f.base;
  changed.subject = "would be a change, but the version is the one we stored";
  f.report(Side::kRemote, changed, "1");
  EXPECT_TRUE(f.plan().operations.empty());
}

TEST(Plan, NewVersionSameContentOnlyRecordsTheVersion) {
  Fixture f;
  f.report(Side::kRemote, without_host_fields(f.base), "2");
  const Plan plan = f.plan();
  ASSERT_EQ(plan.operations.size(), 1u);
  const auto links = ops_of<LinkOp>(plan);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].record.sides[Side::kRemote].version.str(), "2");
}

TEST(Plan, ChangedOnHostUpdatesRemoteWithExpectedVersion) {
  Fixture f;
  Appointment changed = f.base;
  changed.subject = "Standup (moved)";
  f.report(Side::kHost, changed, "2");
  const auto updates = ops_of<UpdateOp>(f.plan());
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].target, Side::kRemote);
  EXPECT_EQ(updates[0].ref.str(), "r1");
  EXPECT_EQ(updates[0].expected.str(), "1");
  EXPECT_EQ(updates[0].item.subject, "Standup (moved)");
  EXPECT_TRUE(updates[0].item.activity_type.empty()) << "host-only fields stay home";
  EXPECT_FALSE(updates[0].send_invitations) << "R39";
}

TEST(Plan, BothChangedDifferentFieldsMergeIntoTwoUpdates) {
  Fixture f;
  Appointment host = f.base, remote = without_host_fields(f.base);
  host.subject = "H";
  remote.location = "Room 7";
  f.report(Side::kHost, host, "2");
  f.report(Side::kRemote, remote, "2");
  const Plan plan = f.plan();
  const auto updates = ops_of<UpdateOp>(plan);
  ASSERT_EQ(updates.size(), 2u);
  for (const auto& update : updates) {
    EXPECT_EQ(update.item.subject, "H");
    EXPECT_EQ(update.item.location, "Room 7");
  }
  EXPECT_TRUE(ops_of<ResolveConflictOp>(plan).empty());
}

TEST(Plan, R24_SameFieldConflictFollowsPolicy) {
  Fixture f;
  f.policy.conflict_policy = ConflictPolicy::kExchangeWins;
  Appointment host = f.base, remote = without_host_fields(f.base);
  host.subject = "H";
  remote.subject = "R";
  f.report(Side::kHost, host, "2");
  f.report(Side::kRemote, remote, "2");
  const Plan plan = f.plan();
  const auto conflicts = ops_of<ResolveConflictOp>(plan);
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].fields, std::vector<std::string>{"subject"});
  EXPECT_EQ(conflicts[0].winner, Side::kRemote);
  const auto updates = ops_of<UpdateOp>(plan);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].target, Side::kHost);
  EXPECT_EQ(updates[0].item.subject, "R");
}

TEST(Plan, DecisionTableForDeletions) {
  struct Row {
    const char* situation;
    SyncDirection direction;
    DeletedInExchange deleted_in_exchange;
    bool host_deleted, remote_deleted, host_changed, remote_changed;
    // expected
    std::size_t host_creates, remote_creates, host_deletes, remote_deletes, forgets;
  };
  using D = SyncDirection;
  using X = DeletedInExchange;
  const std::vector<Row> rows{
      {"both deleted", D::kTwoWay, X::kRecreate, true, true, false, false, 0, 0, 0, 0, 1},
      {"host deleted, two-way", D::kTwoWay, X::kRecreate, true, false, false, false, 0, 0, 0, 1, 1},
      {"remote deleted, two-way", D::kTwoWay, X::kRecreate, false, true, false, false, 0, 0, 1, 0,
       1},
      {"remote deleted, host edited: edit kept", D::kTwoWay, X::kRecreate, false, true, true, false,
       0, 1, 0, 0, 0},
      {"host deleted, remote edited: edit kept", D::kTwoWay, X::kRecreate, true, false, false, true,
       1, 0, 0, 0, 0},
      {"R25 remote deleted, to-exchange, recreate", D::kToExchange, X::kRecreate, false, true,
       false, false, 0, 1, 0, 0, 0},
      {"R25 remote deleted, to-exchange, leave deleted", D::kToExchange, X::kLeaveDeleted, false,
       true, false, false, 0, 0, 0, 0, 0},
      {"host deleted, to-exchange", D::kToExchange, X::kRecreate, true, false, false, false, 0, 0,
       0, 1, 1},
      {"remote deleted, from-exchange", D::kFromExchange, X::kRecreate, false, true, false, false,
       0, 0, 1, 0, 1},
      {"R15 read-only host item deleted, from-exchange: recreated", D::kFromExchange, X::kRecreate,
       true, false, false, false, 1, 0, 0, 0, 0},
  };
  for (const auto& row : rows) {
    Fixture f;
    f.policy.direction = row.direction;
    f.policy.deleted_in_exchange = row.deleted_in_exchange;
    Appointment edited = f.base;
    edited.subject = "edited";
    if (row.host_deleted) f.deleted(Side::kHost);
    if (row.remote_deleted) f.deleted(Side::kRemote);
    if (row.host_changed) f.report(Side::kHost, edited, "2");
    if (row.remote_changed) f.report(Side::kRemote, without_host_fields(edited), "2");
    const Plan plan = f.plan();
    const Summary summary = summarize(plan);
    EXPECT_EQ(summary.sides[Side::kHost].created, row.host_creates) << row.situation;
    EXPECT_EQ(summary.sides[Side::kRemote].created, row.remote_creates) << row.situation;
    EXPECT_EQ(summary.sides[Side::kHost].deleted, row.host_deletes) << row.situation;
    EXPECT_EQ(summary.sides[Side::kRemote].deleted, row.remote_deletes) << row.situation;
    EXPECT_EQ(ops_of<ForgetOp>(plan).size(), row.forgets) << row.situation << "\n"
                                                          << format_plan(plan);
  }
}

TEST(Plan, OneWayRevertsEditsOfTheSideThatIsNotHeard) {
  Fixture f;
  f.policy.direction = SyncDirection::kToExchange;
  Appointment remote = without_host_fields(f.base);
  remote.subject = "edited in Outlook";
  f.report(Side::kRemote, remote, "2");
  const auto updates = ops_of<UpdateOp>(f.plan());
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].target, Side::kRemote);
  EXPECT_EQ(updates[0].item.subject, "Standup");
}

TEST(Plan, R16_HostItemWhoseTypeStopsSyncingIsRemovedFromExchange) {
  Fixture f;
  f.policy.activity_types.synced_types = {"Appointment"};
  Appointment host = f.base;
  host.activity_type = "Holiday";
  f.report(Side::kHost, host, "2");
  const Plan plan = f.plan();
  EXPECT_EQ(ops_of<DeleteOp>(plan).size(), 1u);
  EXPECT_EQ(ops_of<ForgetOp>(plan).size(), 1u);
}

TEST(Plan, NewItemsAreCreatedOnTheOtherSideWithDeterministicKeys) {
  PlanInput input;
  PlanPolicy policy;
  policy.pair_id = "p";
  policy.host_user = "JDOE";
  Appointment outlook = appointment("Dentist", at(4, 15));
  outlook.sensitivity = Sensitivity::kPrivate;
  policy.activity_types.existing_types = {"Personal"};
  input.reports[Side::kRemote].items.push_back(
      {SideItem{ItemRef("r5"), VersionTag("1"), std::nullopt, outlook, std::nullopt}});
  const auto creates = ops_of<CreateOp>(make_plan(input, policy));
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0].target, Side::kHost);
  EXPECT_EQ(creates[0].link, derive_key("p", Side::kRemote, ItemRef("r5")));
  EXPECT_EQ(creates[0].item.activity_type, "Personal");
  EXPECT_EQ(creates[0].item.owner, "JDOE");
  EXPECT_EQ(creates[0].pending.created_on, Side::kHost);
  // R41: the Outlook item gets the link's key too, nothing else.
  const auto stamps = ops_of<StampKeyOp>(make_plan(input, policy));
  ASSERT_EQ(stamps.size(), 1u);
  EXPECT_EQ(stamps[0].link, creates[0].link);
  EXPECT_EQ(stamps[0].ref.str(), "r5");
  EXPECT_EQ(stamps[0].expected.str(), "1");
  EXPECT_EQ(stamps[0].item, outlook);
  EXPECT_EQ(make_plan(input, policy).operations.size(), 2u) << "deterministic";
}

TEST(Plan, R20_MatchingItemsAreLinkedNotDuplicated) {
  PlanInput input;
  PlanPolicy policy;
  policy.pair_id = "p";
  input.full_listing = true;
  input.now = at(1, 0);
  Appointment host = appointment("Board meeting", at(10, 14));
  Appointment remote = host;
  remote.subject = "  board MEETING ";  // match key trims and folds case
  remote.body.content = "agenda attached";
  input.reports[Side::kHost].items.push_back(
      {SideItem{ItemRef("h1"), VersionTag("1"), std::nullopt, host, std::nullopt}});
  input.reports[Side::kRemote].items.push_back(
      {SideItem{ItemRef("r1"), VersionTag("1"), std::nullopt, remote, std::nullopt}});
  const Plan plan = make_plan(input, policy);
  const Summary summary = summarize(plan);
  EXPECT_EQ(summary.linked, 1u) << format_plan(plan);
  EXPECT_EQ(summary.sides[Side::kHost].created + summary.sides[Side::kRemote].created, 0u);
}

TEST(Plan, ACopyOfOurItemIsANewItemNotOurs) {
  Fixture f;
  // A person copied the remote item r1 (it carries our key) while r1 still exists.
  SideItem copy{ItemRef("r2"), VersionTag("1"), f.link.key, without_host_fields(f.base),
                std::nullopt};
  f.input.reports[Side::kRemote].items.push_back({copy});
  f.input.reports[Side::kRemote].existing.insert(ItemRef("r1"));
  const Plan plan = f.plan();
  const auto creates = ops_of<CreateOp>(plan);
  ASSERT_EQ(creates.size(), 1u) << format_plan(plan);
  EXPECT_EQ(creates[0].target, Side::kHost);
  EXPECT_NE(creates[0].link, f.link.key);
  EXPECT_TRUE(ops_of<DeleteOp>(plan).empty());
}

TEST(Plan, OurItemUnderANewRefIsRelinked) {
  Fixture f;
  // r1 is gone and r9 carries our key: the same item under a new id (resync, moved mailbox).
  SideItem moved{ItemRef("r9"), VersionTag("7"), f.link.key, without_host_fields(f.base),
                 std::nullopt};
  f.input.reports[Side::kRemote].items.push_back({moved});
  f.deleted(Side::kRemote);
  const Plan plan = f.plan();
  EXPECT_TRUE(ops_of<CreateOp>(plan).empty()) << format_plan(plan);
  EXPECT_TRUE(ops_of<DeleteOp>(plan).empty()) << format_plan(plan);
  const auto links = ops_of<LinkOp>(plan);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].record.sides[Side::kRemote].ref.str(), "r9");
}

TEST(Plan, R41_AnR20MatchIsStampedWithTheLinksKeyAndNothingElse) {
  PlanInput input;
  PlanPolicy policy;
  policy.pair_id = "p";
  input.full_listing = true;
  input.now = at(1, 0);
  const Appointment item = appointment("Board meeting", at(10, 14));
  input.reports[Side::kHost].items.push_back(
      {SideItem{ItemRef("h1"), VersionTag("1"), std::nullopt, item, std::nullopt}});
  input.reports[Side::kRemote].items.push_back(
      {SideItem{ItemRef("r1"), VersionTag("4"), std::nullopt, item, std::nullopt}});
  const Plan plan = make_plan(input, policy);
  const auto stamps = ops_of<StampKeyOp>(plan);
  ASSERT_EQ(stamps.size(), 1u) << format_plan(plan);
  EXPECT_EQ(stamps[0].link, derive_key("p", Side::kHost, ItemRef("h1")));
  EXPECT_EQ(stamps[0].ref.str(), "r1");
  EXPECT_EQ(stamps[0].expected.str(), "4");
  EXPECT_TRUE(ops_of<UpdateOp>(plan).empty()) << "the user sees no change";
  EXPECT_EQ(format_plan(plan).find("UPDATE"), std::string::npos)
      << "a dry run shows the link, no write: " << format_plan(plan);
}

TEST(Plan, R41_AnUpdateOfAnItemWithoutTheKeyCarriesIt) {
  Fixture f;
  // An Outlook item linked before R41: the host changes, the remote is written anyway, and
  // the one update writes the key along (no second write racing on the same version).
  Appointment changed = f.base;
  changed.subject = "Retro";
  f.report(Side::kHost, changed, "2");
  f.input.reports[Side::kRemote].items.push_back({SideItem{
      ItemRef("r1"), VersionTag("1"), std::nullopt, without_host_fields(f.base), std::nullopt}});
  const Plan plan = f.plan();
  const auto updates = ops_of<UpdateOp>(plan);
  ASSERT_EQ(updates.size(), 1u) << format_plan(plan);
  EXPECT_EQ(updates[0].target, Side::kRemote);
  EXPECT_TRUE(updates[0].stamp_key);
  EXPECT_TRUE(ops_of<StampKeyOp>(plan).empty());
}

TEST(Plan, R41_AnUnchangedItemWithoutTheKeyIsStampedAndItsNewVersionRecorded) {
  Fixture f;
  f.input.full_listing = true;
  f.input.reports[Side::kRemote].items.push_back({SideItem{
      ItemRef("r1"), VersionTag("1"), std::nullopt, without_host_fields(f.base), std::nullopt}});
  const Plan plan = f.plan();
  EXPECT_EQ(ops_of<StampKeyOp>(plan).size(), 1u) << format_plan(plan);
  EXPECT_EQ(ops_of<LinkOp>(plan).size(), 1u) << "the link takes the stamp's new version";
  EXPECT_TRUE(ops_of<UpdateOp>(plan).empty());
}

TEST(Plan, R41_NothingIsStampedWhenThePolicySaysNo) {
  PlanInput input;
  PlanPolicy policy;
  policy.pair_id = "p";
  policy.stamp_keys = false;  // from-Exchange: the sync writes nothing to Exchange
  input.reports[Side::kRemote].items.push_back(
      {SideItem{ItemRef("r5"), VersionTag("1"), std::nullopt, appointment("Dentist", at(4, 15)),
                std::nullopt}});
  const Plan plan = make_plan(input, policy);
  EXPECT_EQ(ops_of<CreateOp>(plan).size(), 1u);
  EXPECT_TRUE(ops_of<StampKeyOp>(plan).empty());
}

TEST(Plan, R41_ASideToBeFoundAgainIsNeitherDeletedNorRecreated) {
  Fixture f;
  // The pair changed backend: the remote ref is unknown until the new backend shows the item.
  f.input.links[0].sides[Side::kRemote] = forget_remote(f.link.sides[Side::kRemote]);
  Appointment changed = f.base;
  changed.subject = "Retro";
  f.report(Side::kHost, changed, "2");
  const Plan plan = f.plan();
  EXPECT_TRUE(ops_of<CreateOp>(plan).empty()) << format_plan(plan);
  EXPECT_TRUE(ops_of<DeleteOp>(plan).empty()) << format_plan(plan);
  const auto links = ops_of<LinkOp>(plan);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_TRUE(links[0].record.sides[Side::kRemote].refind);
  EXPECT_NE(links[0].rule.find("R41"), std::string::npos);
}

TEST(Plan, R41_TheItemCarryingTheKeyOnTheNewBackendIsRelinkedWithoutWrites) {
  Fixture f;
  f.input.links[0].sides[Side::kRemote] = forget_remote(f.link.sides[Side::kRemote]);
  f.input.full_listing = true;
  f.input.reports[Side::kRemote].items.push_back(
      {SideItem{ItemRef("graph-1"), VersionTag("g1"), f.link.key, without_host_fields(f.base),
                std::nullopt}});
  const Plan plan = f.plan();
  ASSERT_EQ(plan.operations.size(), 1u) << format_plan(plan);
  const auto links = ops_of<LinkOp>(plan);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].record.sides[Side::kRemote].ref.str(), "graph-1");
  EXPECT_FALSE(links[0].record.sides[Side::kRemote].refind);
  EXPECT_EQ(links[0].record.sides[Side::kHost], f.link.sides[Side::kHost]) << "host id kept";
}

TEST(Plan, DryRunTextNamesEveryOperationAndRule) {
  Fixture f;
  Appointment changed = f.base;
  changed.subject = "Retro";
  f.report(Side::kHost, changed, "2");
  const std::string text = format_plan(f.plan());
  EXPECT_NE(text.find("UPDATE  on remote r1 'Retro'"), std::string::npos) << text;
  EXPECT_NE(text.find("subject: 'Standup' -> 'Retro'"), std::string::npos) << text;
  EXPECT_NE(text.find("R19 two-way"), std::string::npos) << text;
}

}  // namespace
}  // namespace agendasync::sync
