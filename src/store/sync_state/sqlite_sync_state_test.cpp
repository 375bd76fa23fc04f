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

/// The pair's cursors, quarantine, backend and journal are read by one query and kept by the
/// state object (an idle run's cost): every write through the object must show in its next
/// read, and a new object reads what another one wrote.
TEST(SqliteSyncState, ThePairsOverviewShowsEveryWriteOfTheObject) {
  const auto path = fresh_file("overview");
  auto opened = SqliteSyncState::open(path, "JDOE");
  ASSERT_TRUE(opened);
  auto& state = **opened;
  auto expect_overview = [&](const std::string& host, const std::string& remote,
                             std::optional<bool> approved, const std::string& backend,
                             std::size_t journal) {
    EXPECT_EQ(state.cursor(Side::kHost).value(), Cursor(host));
    EXPECT_EQ(state.cursor(Side::kRemote).value(), Cursor(remote));
    auto gate = state.quarantine().value();
    EXPECT_EQ(gate.has_value(), approved.has_value());
    if (gate && approved) {
      EXPECT_EQ(gate->approved, *approved);
    }
    EXPECT_EQ(state.remote_backend().value(), backend);
    EXPECT_EQ(state.pending_journal().value().size(), journal);
  };
  expect_overview("", "", std::nullopt, "", 0);

  sync::StateDelta cursors;
  cursors.cursors[Side::kHost] = Cursor("17");
  cursors.cursors[Side::kRemote] = Cursor("sync-state-1");
  ASSERT_TRUE(state.commit(cursors));
  expect_overview("17", "sync-state-1", std::nullopt, "", 0);

  ASSERT_TRUE(state.switch_remote_backend("ews"));
  expect_overview("17", "sync-state-1", std::nullopt, "ews", 0);

  sync::JournalEntry entry;
  entry.key = IdempotencyKey("k1");
  entry.pending_link = link("k1", "h-1", "");
  entry.run_id = "run-1";
  ASSERT_TRUE(state.journal(std::span(&entry, 1)));
  expect_overview("17", "sync-state-1", std::nullopt, "ews", 1);

  ASSERT_TRUE(state.set_quarantine("first sync needs approval"));
  expect_overview("17", "sync-state-1", false, "ews", 1);
  ASSERT_TRUE(state.approve());
  expect_overview("17", "sync-state-1", true, "ews", 1);

  sync::StateDelta done;
  done.journal_done = {IdempotencyKey("k1")};
  done.clear_quarantine = true;
  ASSERT_TRUE(state.commit(done));
  expect_overview("17", "sync-state-1", std::nullopt, "ews", 0);

  // A pair's switch to another backend drops the remote cursor (R41).
  ASSERT_TRUE(state.switch_remote_backend("graph"));
  expect_overview("17", "", std::nullopt, "graph", 0);

  // Another object on the same file reads what this one wrote.
  auto other = SqliteSyncState::open(path, "JDOE");
  ASSERT_TRUE(other);
  EXPECT_EQ((*other)->cursor(Side::kHost).value(), Cursor("17"));
  EXPECT_EQ((*other)->remote_backend().value(), "graph");
  // ... and another pair of the file has none of it.
  auto stranger = SqliteSyncState::open(path, "ASMITH");
  ASSERT_TRUE(stranger);
  EXPECT_EQ((*stranger)->cursor(Side::kHost).value(), Cursor());
  EXPECT_EQ((*stranger)->remote_backend().value(), "");

  ASSERT_TRUE(state.clear());
  expect_overview("", "", std::nullopt, "", 0);
}

}  // namespace
}  // namespace agendasync::store
