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

TEST(SqliteSyncState, EverythingSurvivesAReopen) {
  const auto path = fresh_file("reopen");
  {
    auto state = SqliteSyncState::open(path, "JDOE");
    ASSERT_TRUE(state) << state.error().message;
    sync::StateDelta delta;
    delta.upsert = {link("k1", "h-1", "r-1"), link("k2", "h-2", "r-2")};
    delta.cursors[Side::kHost] = Cursor("host-cursor");
    delta.cursors[Side::kRemote] = Cursor("remote-cursor");
    ASSERT_TRUE((*state)->commit(delta));
    sync::JournalEntry entry{IdempotencyKey("k3"),  Side::kRemote, WriteOp::kCreate, {},
                             link("k3", "h-3", ""), "run-1",       std::nullopt};
    ASSERT_TRUE((*state)->journal(std::span(&entry, 1)));
    ASSERT_TRUE((*state)->set_quarantine("too many deletions"));
  }
  auto state = SqliteSyncState::open(path, "JDOE");
  ASSERT_TRUE(state);
  EXPECT_EQ(*(*state)->link_count(), 2u);
  auto found = (*state)->find_link_by_ref(Side::kRemote, ItemRef("r-2"));
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(**found, link("k2", "h-2", "r-2"));
  EXPECT_EQ((*state)->cursor(Side::kRemote)->str(), "remote-cursor");
  auto pending = (*state)->pending_journal();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].pending_link, link("k3", "h-3", ""));
  EXPECT_EQ((*pending)[0].run_id, "run-1");
  EXPECT_EQ((*(*state)->quarantine())->reason, "too many deletions");
  // Another pair in the same file sees none of it.
  auto other = SqliteSyncState::open(path, "OTHER");
  ASSERT_TRUE(other);
  EXPECT_EQ(*(*other)->link_count(), 0u);
  EXPECT_FALSE(*(*other)->quarantine());
}

TEST(SqliteSyncState, CommitRelinksRemovesAndResolvesAtomically) {
  auto state = SqliteSyncState::open(fresh_file("commit"), "P");
  ASSERT_TRUE(state);
  sync::StateDelta first;
  first.upsert = {link("k1", "h-1", "r-1"), link("k2", "h-2", "r-2")};
  ASSERT_TRUE((*state)->commit(first));
  sync::JournalEntry entry{
      IdempotencyKey("k1"), Side::kHost, WriteOp::kUpdate, ItemRef("h-1"), {}, "run", std::nullopt};
  ASSERT_TRUE((*state)->journal(std::span(&entry, 1)));
  sync::StateDelta second;
  second.upsert = {link("k1", "h-1", "r-9")};
  second.remove = {IdempotencyKey("k2")};
  second.journal_done = {IdempotencyKey("k1")};
  ASSERT_TRUE((*state)->commit(second));
  EXPECT_FALSE(*(*state)->find_link_by_ref(Side::kRemote, ItemRef("r-1")));
  EXPECT_TRUE(*(*state)->find_link_by_ref(Side::kRemote, ItemRef("r-9")));
  EXPECT_FALSE(*(*state)->find_link_by_key(IdempotencyKey("k2")));
  EXPECT_TRUE((*state)->pending_journal()->empty());
}

TEST(SqliteSyncState, ApproveNeedsAQuarantineAndClearForgetsThePair) {
  auto state = SqliteSyncState::open(fresh_file("approve"), "P");
  ASSERT_TRUE(state);
  auto refused = (*state)->approve();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kNotFound);
  ASSERT_TRUE((*state)->set_quarantine("breaker"));
  ASSERT_TRUE((*state)->approve());
  EXPECT_TRUE((*(*state)->quarantine())->approved);
  sync::StateDelta delta;
  delta.upsert = {link("k1", "h", "r")};
  ASSERT_TRUE((*state)->commit(delta));
  ASSERT_TRUE((*state)->clear());
  EXPECT_EQ(*(*state)->link_count(), 0u);
  EXPECT_FALSE(*(*state)->quarantine());
}

TEST(SqliteAuditSink, AnswersWhyAnItemChanged) {
  auto sink = SqliteAuditSink::open(fresh_file("audit"));
  ASSERT_TRUE(sink);
  sync::AuditRecord record{"run-7",
                           Instant(std::chrono::seconds(1'700'000'000)),
                           "JDOE",
                           Side::kRemote,
                           "AAMk=",
                           "as1-abc",
                           "update",
                           "R19 two-way: changed on host",
                           {{"subject", "'A'", "'B'"}}};
  ASSERT_TRUE((*sink)->record({record}));
  auto history = (*sink)->history("as1-abc");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].rule, "R19 two-way: changed on host");
  EXPECT_EQ((*history)[0].run_id, "run-7");
  ASSERT_EQ((*history)[0].changes.size(), 1u);
  EXPECT_EQ((*history)[0].changes[0].after, "'B'");
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

TEST(SqliteSyncState, R41_SwitchingTheRemoteBackendResetsOnlyTheRemoteRefsAndCursor) {
  const auto path = fresh_file("switch");
  {
    auto state = SqliteSyncState::open(path, "JDOE");
    ASSERT_TRUE(state) << state.error().message;
    EXPECT_EQ((*state)->remote_backend().value(), "");
    ASSERT_TRUE((*state)->switch_remote_backend("ews"));  // first record: nothing reset
    sync::LinkRecord held = link("k1", "h-1", "r-1");
    held.sides[Side::kRemote].held = held.base;
    sync::LinkRecord tombstone = link("k2", "h-2", "");
    tombstone.sides[Side::kRemote] = {};  // R25: left deleted in Exchange
    sync::StateDelta delta;
    delta.upsert = {held, tombstone};
    delta.cursors[Side::kHost] = Cursor("host-cursor");
    delta.cursors[Side::kRemote] = Cursor("ews-sync-state");
    ASSERT_TRUE((*state)->commit(delta));
    EXPECT_EQ((*state)->find_link_by_ref(Side::kRemote, ItemRef("r-1")).value(), held);
    std::vector<sync::JournalEntry> entries{{IdempotencyKey("k1"), Side::kRemote, WriteOp::kUpdate,
                                             ItemRef("r-1"), held, "run-1", std::nullopt},
                                            {IdempotencyKey("k3"),
                                             Side::kRemote,
                                             WriteOp::kCreate,
                                             {},
                                             link("k3", "h-3", ""),
                                             "run-1",
                                             std::nullopt}};
    ASSERT_TRUE((*state)->journal(entries));
    ASSERT_TRUE((*state)->switch_remote_backend("ews"));  // the same: nothing changes
    EXPECT_EQ((*state)->cursor(Side::kRemote)->str(), "ews-sync-state");
    ASSERT_TRUE((*state)->switch_remote_backend("graph"));
  }
  auto state = SqliteSyncState::open(path, "JDOE");  // what the switch wrote is durable
  ASSERT_TRUE(state);
  EXPECT_EQ((*state)->remote_backend().value(), "graph");
  EXPECT_EQ((*state)->cursor(Side::kRemote)->str(), "") << "the next run lists in full";
  EXPECT_EQ((*state)->cursor(Side::kHost)->str(), "host-cursor");
  EXPECT_FALSE((*state)->find_link_by_ref(Side::kRemote, ItemRef("r-1")).value());
  auto moved = (*state)->find_link_by_key(IdempotencyKey("k1")).value();
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->sides[Side::kHost], link("k1", "h-1", "r-1").sides[Side::kHost]);
  EXPECT_EQ(moved->base, link("k1", "h-1", "r-1").base);
  EXPECT_EQ(moved->created_on, Side::kRemote);
  const sync::SideState& remote = moved->sides[Side::kRemote];
  EXPECT_TRUE(remote.refind);
  EXPECT_TRUE(remote.ref.empty());
  EXPECT_TRUE(remote.version.empty());
  EXPECT_FALSE(remote.held) << "the old backend's content";
  EXPECT_EQ(remote.hash, "hash-r") << "kept: the same content reads as unchanged";
  auto tombstone = (*state)->find_link_by_key(IdempotencyKey("k2")).value();
  ASSERT_TRUE(tombstone);
  EXPECT_FALSE(tombstone->sides[Side::kRemote].refind) << "an R25 tombstone stays one";
  // The update's ref named an EWS item; the create is found by its key on any backend.
  auto pending = (*state)->pending_journal().value();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].op, WriteOp::kCreate);
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

}  // namespace
}  // namespace agendasync::store
