#include "store/sync_state/sqlite_sync_state.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace agendasync::store {
namespace {

using sync::Side;

std::filesystem::path fresh_file(const std::string& name) {
  auto path = std::filesystem::temp_directory_path() /
              ("agendasync_sync_state_" + name + "_" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path;
}

sync::LinkRecord link(std::string key, std::string host_ref, std::string remote_ref) {
  sync::LinkRecord record;
  record.key = IdempotencyKey(std::move(key));
  record.sides[Side::kHost] = {ItemRef(std::move(host_ref)), VersionTag("h1"), "hash-h",
                               std::nullopt};
  record.sides[Side::kRemote] = {ItemRef(std::move(remote_ref)), VersionTag("r1"), "hash-r",
                                 std::nullopt};
  record.base.subject = "Base subject";
  record.base.start = Instant(std::chrono::seconds(1'700'000'000));
  record.base.end = record.base.start + std::chrono::hours(1);
  record.base.activity_type = "Meeting";
  record.created_on = Side::kRemote;
  return record;
}

TEST(SqliteSyncState, ANonDatabaseFileIsRefusedWithItsName) {
  const auto path = fresh_file("garbage");
  {
    std::ofstream out(path);
    out << "this is not a database, it is a text file that is long enough to be checked";
  }
  auto state = SqliteSyncState::open(path, "P");
  ASSERT_FALSE(state);
  EXPECT_NE(state.error().message.find(path.filename().string()), std::string::npos)
      << state.error().message;
}

TEST(SqliteSyncState, R41_AStateFileFromBeforeGetsTheRefindColumn) {
  const auto path = fresh_file("old_file");
  {
    auto state = SqliteSyncState::open(path, "JDOE");
    ASSERT_TRUE(state);
    sync::StateDelta delta;
    delta.upsert = {link("k1", "h-1", "r-1")};
    ASSERT_TRUE((*state)->commit(delta));
  }
  // The sync_link table as it was before R41.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  const int dropped =
      sqlite3_exec(raw, "ALTER TABLE sync_link DROP COLUMN refind", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  ASSERT_EQ(dropped, SQLITE_OK);
  auto state = SqliteSyncState::open(path, "JDOE");
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ((*state)->find_link_by_key(IdempotencyKey("k1")).value(), link("k1", "h-1", "r-1"));
}

std::vector<sync::StagedItem> staged_items(std::initializer_list<const char*> refs) {
  std::vector<sync::StagedItem> items;
  for (const char* ref : refs) {
    sync::StagedItem item;
    item.item.ref = ItemRef(ref);
    item.item.item.subject = ref;
    item.own_key = IdempotencyKey(std::string("own-") + ref);
    items.push_back(item);
  }
  return items;
}

// Pairs sharing a connection share its TEMP stage table: clearing one pair's stage (which
// empties the table whole when only that pair is in it) never takes another pair's rows.
TEST(SqliteSyncState, ClearingAStageKeepsTheOtherPairsRowsOnTheSameConnection) {
  const auto path = fresh_file("stage_pairs");
  auto db = open_state_database(path);
  ASSERT_TRUE(db) << db.error().message;
  auto a = SqliteSyncState::over(*db, "A");
  auto b = SqliteSyncState::over(*db, "B");
  sync::ListingStage& stage_a = a->listing_stage();
  sync::ListingStage& stage_b = b->listing_stage();
  ASSERT_TRUE(stage_a.clear());
  ASSERT_TRUE(stage_a.put(Side::kHost, staged_items({"a1", "a2", "a3"})));
  ASSERT_TRUE(stage_b.put(Side::kRemote, staged_items({"b1"})));
  // B sorts after A, and a pair "0" before both: rows on either side of the cleared pair.
  auto zero = SqliteSyncState::over(*db, "0");
  ASSERT_TRUE(zero->listing_stage().put(Side::kHost, staged_items({"z1"})));
  ASSERT_TRUE(stage_a.clear());
  EXPECT_EQ(stage_a.count(Side::kHost).value(), 0u);
  EXPECT_EQ(stage_b.count(Side::kRemote).value(), 1u);
  EXPECT_EQ(zero->listing_stage().count(Side::kHost).value(), 1u);
  ASSERT_TRUE(stage_b.clear());
  EXPECT_EQ(stage_b.count(Side::kRemote).value(), 0u);
  EXPECT_EQ(zero->listing_stage().count(Side::kHost).value(), 1u);
  ASSERT_TRUE(zero->listing_stage().clear());  // alone: the table is emptied whole
  EXPECT_EQ(zero->listing_stage().count(Side::kHost).value(), 0u);
  // And the stage works as before after that.
  ASSERT_TRUE(stage_a.put(Side::kHost, staged_items({"a4"})));
  EXPECT_TRUE(stage_a.listed(Side::kHost, ItemRef("a4")).value());
  EXPECT_EQ(stage_a.next_batch(Side::kHost, 0, 10).value().size(), 1u);
  a.reset();
  b.reset();
  zero.reset();
  db->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

// The commit after a batch's writes reuses the base documents its journal wrote, and only
// while the base is the same: a link stores the base the commit hands it.
TEST(SqliteSyncState, ALinkStoresTheBaseOfItsCommitWhateverTheJournalHeld) {
  const auto path = fresh_file("journaled_base");
  {
    auto state = SqliteSyncState::open(path, "P").value();
    sync::LinkRecord same = link("k-same", "h1", "r1");
    sync::LinkRecord changed = link("k-changed", "h2", "r2");
    std::vector<sync::JournalEntry> journal(2);
    journal[0].key = same.key;
    journal[0].pending_link = same;
    journal[1].key = changed.key;
    journal[1].pending_link = changed;
    ASSERT_TRUE(state->journal(journal));
    changed.base.subject = "Merged afterwards";
    sync::StateDelta delta;
    delta.upsert = {same, changed};
    delta.journal_done = {same.key, changed.key};
    ASSERT_TRUE(state->commit(delta));
    EXPECT_EQ(state->find_link_by_key(same.key).value(), same);
    EXPECT_EQ(state->find_link_by_key(changed.key).value(), changed);
    // A later commit of the same key (nothing journaled now) stores its own base too.
    same.base.location = "Room 2";
    sync::StateDelta again;
    again.upsert = {same};
    ASSERT_TRUE(state->commit(again));
    EXPECT_EQ(state->find_link_by_key(same.key).value(), same);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

}  // namespace
}  // namespace agendasync::store
