// The paged full listing (issue 14): a first sync or resync planned and written batch by
// batch, with the items matching needs parked in the listing stage (SQLite in production).
// Matches must hold across pages and batches exactly as in one whole listing (R20 by match
// key in listing order, R27 by idempotency key), and a run killed between batches resumes
// without duplicates (R28).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "harness.h"
#include "store/sync_state/sqlite_sync_state.h"
#include "sync/test_items.h"

namespace agendasync::sync::scenario {
namespace {

using testing::appointment;
using testing::at;

struct Killed {};

/// A pair with small pages and batches, its state in memory or in an SQLite file.
class PagedPair {
 public:
  explicit PagedPair(bool sqlite) {
    pair_.options.full_batch = 4;
    pair_.options.write_batch = 3;
    if (sqlite) {
      path_ = std::filesystem::temp_directory_path() /
              fmt::format("agendasync_paged_{}_{}.db", ::getpid(), counter_++);
      remove_files();
      reopen();
    }
  }
  ~PagedPair() {
    sqlite_.reset();
    if (!path_.empty()) remove_files();
  }
  /// The process restarts: only the file survives (memory state: nothing to reopen).
  void reopen() {
    if (path_.empty()) return;
    sqlite_.reset();
    auto opened = store::SqliteSyncState::open(path_, "JDOE");
    if (!opened) throw std::runtime_error(opened.error().message);
    sqlite_ = std::move(*opened);
    pair_.state = sqlite_.get();
  }
  Pair& pair() { return pair_; }
  RunReport sync() {
    auto report = pair_.sync();
    if (!report) throw std::runtime_error(report.error().message);
    return *report;
  }

 private:
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ignored;
      std::filesystem::remove(path_.string() + suffix, ignored);
    }
  }
  static inline int counter_ = 0;
  std::filesystem::path path_;
  Pair pair_;
  std::unique_ptr<store::SqliteSyncState> sqlite_;
};

Appointment host_item(const std::string& subject, Instant start) {
  Appointment item = appointment(subject, start);
  item.activity_type = "Appointment";
  return item;
}

class PagedListing : public ::testing::TestWithParam<bool> {};

TEST_P(PagedListing, R20_MatchesAcrossPagesAndBatches) {
  PagedPair paged(GetParam());
  Pair& pair = paged.pair();
  // The remote copies are created in reverse order: each host item's partner lies on
  // another page of the remote listing and is planned in another batch than its neighbours.
  for (int i = 0; i < 30; ++i)
    pair.host->user_create(host_item(fmt::format("Visit {}", i), at(2 + i % 20, 8 + i % 9)));
  for (int i = 29; i >= 0; --i)
    pair.remote->user_create(appointment(fmt::format("visit {}", i), at(2 + i % 20, 8 + i % 9)));
  pair.remote->user_create(appointment("Only remote", at(5, 7)));
  pair.host->user_create(host_item("Only host", at(6, 7)));

  const RunReport report = paged.sync();
  EXPECT_TRUE(report.full_listing);
  EXPECT_EQ(report.outcome, RunOutcome::kSynced);
  EXPECT_EQ(report.summary.linked, 30u);
  EXPECT_EQ(report.summary.sides[Side::kRemote].created, 1u);
  EXPECT_EQ(report.summary.sides[Side::kHost].created, 1u);
  EXPECT_EQ(pair.host->items().size(), 32u);
  EXPECT_EQ(pair.remote->items().size(), 32u);
  EXPECT_TRUE(sides_agree(pair));
  // Quiet afterwards: nothing read back as a change.
  const RunReport quiet = paged.sync();
  EXPECT_FALSE(quiet.full_listing);
  EXPECT_TRUE(quiet.plan.operations.empty()) << format_plan(quiet.plan);
}

TEST_P(PagedListing, R20_IdenticalItemsPairOneToOneInListingOrder) {
  PagedPair paged(GetParam());
  Pair& pair = paged.pair();
  // Three identical host items, two identical remote ones, spread over several batches by
  // other items in between: two pairs, one create, never a pairing twice.
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j)
      pair.host->user_create(host_item(fmt::format("Filler {}-{}", i, j), at(3 + j, 7 + i)));
    pair.host->user_create(host_item("Weekly review", at(12, 10)));
  }
  for (int i = 0; i < 2; ++i) pair.remote->user_create(appointment("Weekly review", at(12, 10)));

  const RunReport report = paged.sync();
  EXPECT_EQ(report.summary.linked, 2u) << format_plan(report.plan);
  EXPECT_EQ(pair.host->items().size(), 15u);
  EXPECT_EQ(pair.remote->items().size(), 15u);
  EXPECT_TRUE(sides_agree(pair));
}

TEST_P(PagedListing, R27_LostStateRelinksByKeyAcrossPages) {
  PagedPair paged(GetParam());
  Pair& pair = paged.pair();
  for (int i = 0; i < 20; ++i)
    pair.host->user_create(host_item(fmt::format("Host {}", i), at(2 + i, 9)));
  for (int i = 0; i < 9; ++i)
    pair.remote->user_create(appointment(fmt::format("Remote {}", i), at(3 + i, 15)));
  paged.sync();
  ASSERT_EQ(pair.remote->items().size(), 29u);
  // The state is gone (a restored backup, a deleted state file): the items we created carry
  // our keys and find their partners again, wherever they lie in the listings.
  ASSERT_TRUE(pair.state->clear());
  const RunReport again = paged.sync();
  EXPECT_TRUE(again.full_listing);
  EXPECT_EQ(again.summary.linked, 29u) << format_plan(again.plan);
  EXPECT_EQ(again.summary.sides[Side::kHost].created, 0u);
  EXPECT_EQ(again.summary.sides[Side::kRemote].created, 0u);
  EXPECT_EQ(pair.host->items().size(), 29u);
  EXPECT_EQ(pair.remote->items().size(), 29u);
  EXPECT_TRUE(sides_agree(pair));
}

TEST_P(PagedListing, R27_ResyncAfterInvalidCursorKeepsEveryLink) {
  PagedPair paged(GetParam());
  Pair& pair = paged.pair();
  std::vector<ItemRef> host_refs;
  for (int i = 0; i < 18; ++i)
    host_refs.push_back(pair.host->user_create(host_item(fmt::format("Item {}", i), at(2 + i, 9))));
  paged.sync();
  // Changes on both sides while the remote cursor expires: the resync must see them all.
  pair.host->user_edit(host_refs[3], [](Appointment& item) { item.location = "Room 4"; });
  pair.host->user_delete(host_refs[11]);
  pair.remote_memory().invalidate_cursors();
  const RunReport again = paged.sync();
  EXPECT_TRUE(again.full_listing);
  EXPECT_EQ(again.outcome, RunOutcome::kSynced);
  EXPECT_EQ(again.summary.sides[Side::kRemote].updated, 1u) << format_plan(again.plan);
  EXPECT_EQ(again.summary.sides[Side::kRemote].deleted, 1u) << format_plan(again.plan);
  EXPECT_EQ(again.summary.sides[Side::kRemote].created, 0u) << format_plan(again.plan);
  EXPECT_EQ(pair.remote->items().size(), 17u);
  EXPECT_TRUE(sides_agree(pair));
}

TEST_P(PagedListing, R28_KilledBetweenBatchesResumesWithoutDuplicates) {
  PagedPair paged(GetParam());
  Pair& pair = paged.pair();
  for (int i = 0; i < 25; ++i)
    pair.host->user_create(host_item(fmt::format("Host {}", i), at(2 + i, 9)));
  for (int i = 0; i < 10; ++i)
    pair.remote->user_create(appointment(fmt::format("Remote {}", i), at(2 + i, 16)));
  // Killed after the third batch committed its links: those stay, the rest is not done.
  int batches = 0;
  pair.options.on_step = [&](CycleStep step) {
    if (step == CycleStep::kBatchCommitted && ++batches == 3) throw Killed{};
  };
  EXPECT_THROW((void)pair.sync(), Killed);
  pair.options.on_step = nullptr;
  paged.reopen();
  const std::size_t linked_after_kill = *pair.state->link_count();
  EXPECT_GT(linked_after_kill, 0u);
  EXPECT_LT(linked_after_kill, 35u);

  const RunReport resumed = paged.sync();
  EXPECT_TRUE(resumed.full_listing);  // no cursor was stored: still the first sync
  EXPECT_EQ(resumed.outcome, RunOutcome::kSynced);
  EXPECT_EQ(
      resumed.summary.sides[Side::kHost].created + resumed.summary.sides[Side::kRemote].created,
      35u - linked_after_kill);
  EXPECT_EQ(pair.host->items().size(), 35u);
  EXPECT_EQ(pair.remote->items().size(), 35u);
  EXPECT_TRUE(sides_agree(pair));
}

// A pair's very first sync (no links) has nothing to look up by ref: the stage asks the state
// nothing per listed item, a batch asks only for items that carry a key (a copy or lost
// state), and the links it finds are the same (R20 and R27 tests above, the same paths).
TEST(PagedListingFirstSync, LooksUpNoLinkByRefForTheListedItems) {
  PagedPair paged(/*sqlite=*/false);
  Pair& pair = paged.pair();
  for (int i = 0; i < 20; ++i)
    pair.host->user_create(host_item(fmt::format("Host {}", i), at(2 + i % 20, 9)));
  for (int i = 0; i < 10; ++i)
    pair.remote->user_create(appointment(fmt::format("Remote {}", i), at(2 + i, 16)));
  const RunReport report = paged.sync();
  EXPECT_EQ(report.outcome, RunOutcome::kSynced);
  EXPECT_EQ(pair.host->items().size(), 30u);
  EXPECT_EQ(pair.remote->items().size(), 30u);
  // What is left: the feed read after the writes checks each write it reports against its
  // link (cursor past our writes): 30 creates and the keys stamped on the 10 remote items.
  // Before: 100 (the stage and the batch each looked up every listed item too).
  EXPECT_LE(pair.memory_state.lookups(), 40u);
  EXPECT_TRUE(sides_agree(pair));
  // A later full listing (links exist) still looks every listed item up.
  const std::size_t before = pair.memory_state.lookups();
  pair.remote_memory().invalidate_cursors();
  const RunReport again = paged.sync();
  EXPECT_TRUE(again.full_listing);
  EXPECT_TRUE(again.plan.operations.empty()) << format_plan(again.plan);
  EXPECT_GE(pair.memory_state.lookups() - before, 60u);
}

TEST_P(PagedListing, ReportKeepsABoundedPlan) {
  PagedPair paged(GetParam());
  Pair& pair = paged.pair();
  pair.options.report_plan_limit = 5;
  for (int i = 0; i < 12; ++i)
    pair.host->user_create(host_item(fmt::format("Host {}", i), at(2 + i, 9)));
  const RunReport report = paged.sync();
  EXPECT_EQ(report.plan.operations.size(), 5u);
  EXPECT_EQ(report.plan_omitted, 12u - 5u);  // one create per item
  EXPECT_EQ(report.summary.sides[Side::kRemote].created, 12u);
}

INSTANTIATE_TEST_SUITE_P(State, PagedListing, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Sqlite" : "Memory"; });

}  // namespace
}  // namespace agendasync::sync::scenario
