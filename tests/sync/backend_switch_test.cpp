// R41: a mailbox moves from one backend to another (Exchange Server -> Exchange Online). Every
// linked Exchange item carries the link's key (also Outlook items and first-sync matches); the
// pair's remote refs and cursor are reset, and the first listing on the new backend re-links
// every item by its key: no duplicate, no loss, host ids kept. With the in-memory state and
// with the SQLite state (the switch is one transaction there).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>

#include "harness.h"
#include "store/sync_state/sqlite_sync_state.h"
#include "sync/test_items.h"

namespace agendasync::sync::scenario {
namespace {

using testing::appointment;
using testing::at;
using testing::daily_series;

class BackendSwitch : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    pair_.options.full_batch = 4;  // the relinking crosses batches, as a large mailbox would
    pair_.options.remote_backend = "ews";
    if (GetParam()) {
      path_ = std::filesystem::temp_directory_path() /
              fmt::format("agendasync_switch_{}_{}.db", ::getpid(), counter_++);
      auto opened = store::SqliteSyncState::open(path_, "JDOE");
      ASSERT_TRUE(opened) << opened.error().message;
      sqlite_ = std::move(*opened);
      pair_.state = sqlite_.get();
    }
  }
  void TearDown() override {
    sqlite_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ignored;
      if (!path_.empty()) std::filesystem::remove(path_.string() + suffix, ignored);
    }
  }

  RunReport sync() {
    auto report = pair_.sync();
    EXPECT_TRUE(report) << report.error().message;
    return report ? *report : RunReport{};
  }

  /// The mailbox moves: the same items, contents and keys under new refs on another backend.
  void move_mailbox_to(const std::string& backend) {
    old_remote_ = std::move(pair_.remote);
    pair_.remote = std::make_unique<MemoryScenarioSide>(backend, pair_.clock, true);
    pair_.remote_memory().take_items_of(*old_remote_->memory());
    pair_.options.remote_backend = backend;
  }

  /// Host ref -> subject: what must survive the move untouched.
  std::map<ItemRef, std::string> host_ids() {
    std::map<ItemRef, std::string> ids;
    for (const auto& item : pair_.host->items()) ids[item.ref] = item.item.subject;
    return ids;
  }

  Pair pair_;
  std::unique_ptr<ScenarioSide> old_remote_;
  std::filesystem::path path_;
  std::unique_ptr<store::SqliteSyncState> sqlite_;
  static inline int counter_ = 0;
};

Appointment host_item(const std::string& subject, Instant start) {
  Appointment item = appointment(subject, start);
  item.activity_type = "Appointment";
  return item;
}

TEST_P(BackendSwitch, EveryLinkedItemCarriesItsKeyAndTheMoveRelinksThemAll) {
  // Host-made, Outlook-made, matched at the first sync (same subject and time on both sides),
  // and a recurring series with a moved and a deleted occurrence.
  for (int i = 0; i < 6; ++i)
    pair_.host->user_create(host_item(fmt::format("Host {}", i), at(3 + i, 9)));
  for (int i = 0; i < 5; ++i)
    pair_.remote->user_create(appointment(fmt::format("Outlook {}", i), at(3 + i, 13)));
  for (int i = 0; i < 4; ++i) {
    pair_.host->user_create(host_item(fmt::format("Both {}", i), at(10 + i, 11)));
    pair_.remote->user_create(appointment(fmt::format("Both {}", i), at(10 + i, 11)));
  }
  Appointment series = host_item("Daily standup", at(2, 8));
  series.recurrence = daily_series("x", at(2, 8), 10).recurrence;
  series.recurrence->exdates.push_back(at(4, 8));
  OccurrenceOverride moved;
  moved.recurrence_id = at(5, 8);
  moved.start = at(5, 10);
  moved.end = at(5, 11);
  moved.subject = "Daily standup (late)";
  series.recurrence->overrides.push_back(moved);
  pair_.host->user_create(series);

  const RunReport first = sync();
  EXPECT_EQ(first.summary.linked, 4u);
  ASSERT_TRUE(sides_agree(pair_));
  // Every Exchange item carries the key of its link (R41), Outlook items and matches too.
  auto links = pair_.state->all_links().value();
  ASSERT_EQ(links.size(), 16u);
  std::map<ItemRef, IdempotencyKey> key_of;
  for (const auto& link : links) key_of[link.sides[Side::kRemote].ref] = link.key;
  for (const auto& item : pair_.remote->items()) {
    ASSERT_TRUE(item.idempotency_key) << item.item.subject;
    EXPECT_EQ(*item.idempotency_key, key_of.at(item.ref)) << item.item.subject;
  }
  // Stamping changes nothing a person sees, and reads back as nothing.
  const RunReport quiet = sync();
  EXPECT_TRUE(quiet.plan.operations.empty()) << format_plan(quiet.plan);

  const auto ids_before = host_ids();
  move_mailbox_to("graph");
  const RunReport switched = sync();
  EXPECT_EQ(switched.switched_from, "ews");
  EXPECT_TRUE(switched.full_listing);
  EXPECT_EQ(switched.outcome, RunOutcome::kSynced)
      << fmt::format("{}", fmt::join(switched.errors, "; "));
  for (Side side : kBothSides) {
    EXPECT_EQ(switched.summary.sides[side].created, 0u) << to_string(side) << "\n"
                                                        << format_plan(switched.plan);
    EXPECT_EQ(switched.summary.sides[side].deleted, 0u) << to_string(side);
  }
  EXPECT_EQ(host_ids(), ids_before) << "host ids kept";
  EXPECT_EQ(pair_.remote->items().size(), 16u);
  EXPECT_TRUE(sides_agree(pair_));
  const auto relinked = pair_.state->all_links().value();
  for (const auto& link : relinked) {
    EXPECT_FALSE(link.sides[Side::kRemote].refind) << link.base.subject;
    EXPECT_TRUE(link.sides[Side::kRemote].ref.str().starts_with("graph-")) << link.base.subject;
  }
  EXPECT_TRUE(sync().plan.operations.empty()) << "quiet on the new backend";

  // Later changes on both sides sync over the new backend.
  const ItemRef host_ref = ids_before.begin()->first;
  pair_.host->user_edit(host_ref, [](Appointment& item) { item.subject = "Host edited"; });
  ItemRef outlook_ref;
  for (const auto& item : pair_.remote->items())
    if (item.item.subject == "Outlook 2") outlook_ref = item.ref;
  pair_.remote->user_edit(outlook_ref, [](Appointment& item) { item.location = "Room 7"; });
  pair_.remote->user_create(appointment("New in Outlook", at(20, 9)));
  sync();
  EXPECT_TRUE(sides_agree(pair_));
  EXPECT_EQ(pair_.host->items().size(), 17u);
  bool found = false;
  for (const auto& item : pair_.host->items())
    found = found || (item.item.subject == "Outlook 2" && item.item.location == "Room 7");
  EXPECT_TRUE(found);
  EXPECT_EQ(subjects(*old_remote_).size(), 16u) << "nothing was written to the old backend";
}

TEST_P(BackendSwitch, AnOldItemOutsideTheWindowIsFoundByItsKey) {
  const ItemRef old = pair_.host->user_create(host_item("Kick-off", at(3, 9)));
  pair_.remote->user_create(appointment("Outlook lunch", at(4, 12)));
  sync();
  ASSERT_TRUE(sides_agree(pair_));
  // 90 days later the items ended long ago: the new backend's listing leaves them out.
  pair_.clock.now += std::chrono::days(90);
  move_mailbox_to("graph");
  const RunReport switched = sync();
  EXPECT_EQ(switched.switched_from, "ews");
  EXPECT_GE(pair_.remote_memory().calls().find_by_key, 2u);
  EXPECT_TRUE(sides_agree(pair_)) << format_plan(switched.plan);
  // Still synced: a host edit of the old item reaches it on the new backend.
  pair_.host->user_edit(old, [](Appointment& item) { item.subject = "Kick-off (minutes)"; });
  sync();
  EXPECT_EQ(subjects(*pair_.remote),
            (std::vector<std::string>{"Kick-off (minutes)", "Outlook lunch"}));
}

TEST_P(BackendSwitch, TheSameBackendAgainSwitchesNothing) {
  pair_.host->user_create(host_item("Kick-off", at(3, 9)));
  sync();
  const RunReport again = sync();
  EXPECT_FALSE(again.switched_from);
  EXPECT_FALSE(again.full_listing);
  EXPECT_EQ(pair_.state->remote_backend().value(), "ews");
}

TEST_P(BackendSwitch, ADryRunDoesNotSwitchAndSaysSo) {
  pair_.host->user_create(host_item("Kick-off", at(3, 9)));
  sync();
  move_mailbox_to("graph");
  auto dry = pair_.sync(/*dry_run=*/true);
  ASSERT_FALSE(dry);
  EXPECT_EQ(dry.error().protocol_code, "BackendSwitch");
  EXPECT_EQ(pair_.state->remote_backend().value(), "ews");
  EXPECT_FALSE(pair_.state->cursor(Side::kRemote).value().empty());
}

INSTANTIATE_TEST_SUITE_P(State, BackendSwitch, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "sqlite" : "memory"; });

}  // namespace
}  // namespace agendasync::sync::scenario
