// The sync state contract: links, cursors, journal, quarantine, backend switch, audit and the
// listing stage behave the same on SQLite (a state file) and PostgreSQL (the organisation's
// schema); every test runs on both. Reopening means new connections: what a test reads after
// it was committed, not cached.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "store/contract_support.h"
#include "store/sync_state/pg_state_store.h"
#include "store/sync_state/pg_sync_state.h"
#include "store/sync_state/sqlite_state_store.h"
#include "store/sync_state/sqlite_sync_state.h"

namespace agendasync::store {
namespace {

using sync::Side;
using testing::Backend;

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

class SyncStateContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto created = db_.create();
    ASSERT_TRUE(created) << created.error().message;
  }

  /// The state of `pair` on new connections.
  Result<std::unique_ptr<sync::SyncState>> open_state(const std::string& pair) {
    if (GetParam() == Backend::kSqlite) {
      auto state = SqliteSyncState::open(db_.state_path(), pair);
      if (!state) return std::unexpected(state.error());
      return std::unique_ptr<sync::SyncState>(std::move(*state));
    }
    auto pool = open_pg_state_pool(db_.target());
    if (!pool) return std::unexpected(pool.error());
    return std::unique_ptr<sync::SyncState>(PgSyncState::over(std::move(*pool), pair));
  }

  Result<void> record_audit(const std::vector<sync::AuditRecord>& records) {
    if (GetParam() == Backend::kSqlite) {
      auto sink = SqliteAuditSink::open(db_.state_path());
      if (!sink) return std::unexpected(sink.error());
      return (*sink)->record(records);
    }
    auto pool = open_pg_state_pool(db_.target());
    if (!pool) return std::unexpected(pool.error());
    return PgAuditSink::over(std::move(*pool))->record(records);
  }

  Result<std::vector<sync::AuditRecord>> audit_history(const std::string& link) {
    if (GetParam() == Backend::kSqlite) {
      auto sink = SqliteAuditSink::open(db_.state_path());
      if (!sink) return std::unexpected(sink.error());
      return (*sink)->history(link);
    }
    auto pool = open_pg_state_pool(db_.target());
    if (!pool) return std::unexpected(pool.error());
    return PgAuditSink::over(std::move(*pool))->history(link);
  }

  /// What an app keeps its pairs' state in (app::SyncApp), on new connections.
  std::unique_ptr<StateStore> state_store() {
    if (GetParam() == Backend::kSqlite) return std::make_unique<SqliteStateStore>(db_.state_path());
    // A short lease: a killed holder's pair is free again after it (below).
    return std::make_unique<PgStateStore>(db_.target(), LeaseOptions{"", std::chrono::seconds(1)});
  }

  testing::ContractDatabase db_{GetParam()};
};

INSTANTIATE_TEST_SUITE_P(Contract, SyncStateContract,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

TEST_P(SyncStateContract, EverythingSurvivesAReopen) {
  {
    auto state = open_state("JDOE");
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
  auto state = open_state("JDOE");
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
  auto other = open_state("OTHER");
  ASSERT_TRUE(other);
  EXPECT_EQ(*(*other)->link_count(), 0u);
  EXPECT_FALSE(*(*other)->quarantine());
}

TEST_P(SyncStateContract, CommitRelinksRemovesAndResolvesAtomically) {
  auto state = open_state("P");
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

TEST_P(SyncStateContract, ApproveNeedsAQuarantineAndClearForgetsThePair) {
  auto state = open_state("P");
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

TEST_P(SyncStateContract, TheAuditAnswersWhyAnItemChanged) {
  sync::AuditRecord record{"run-7",
                           Instant(std::chrono::seconds(1'700'000'000)),
                           "JDOE",
                           Side::kRemote,
                           "AAMk=",
                           "as1-abc",
                           "update",
                           "R19 two-way: changed on host",
                           {{"subject", "'A'", "'B'"}}};
  ASSERT_TRUE(record_audit({record}));
  auto history = audit_history("as1-abc");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].rule, "R19 two-way: changed on host");
  EXPECT_EQ((*history)[0].run_id, "run-7");
  ASSERT_EQ((*history)[0].changes.size(), 1u);
  EXPECT_EQ((*history)[0].changes[0].after, "'B'");
}

TEST_P(SyncStateContract, R41_SwitchingTheRemoteBackendResetsOnlyTheRemoteRefsAndCursor) {
  {
    auto state = open_state("JDOE");
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
  auto state = open_state("JDOE");  // what the switch wrote is durable
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

sync::StagedItem staged(const std::string& ref, const std::string& match_key,
                        std::optional<std::string> carried = std::nullopt) {
  sync::StagedItem item;
  item.item.ref = ItemRef(ref);
  item.item.version = VersionTag("v-" + ref);
  item.item.item.subject = "Item " + ref;
  item.item.item.start = Instant(std::chrono::seconds(1'700'000'000));
  item.item.item.end = item.item.item.start + std::chrono::hours(1);
  if (carried) item.item.idempotency_key = IdempotencyKey(*carried);
  item.match_key = match_key;
  item.own_key = IdempotencyKey("own-" + ref);
  return item;
}

std::vector<std::string> refs_of(const std::vector<sync::StagedItem>& items) {
  std::vector<std::string> refs;
  for (const auto& item : items) refs.push_back(item.item.ref.str());
  return refs;
}

TEST_P(SyncStateContract, TheListingStageFindsItemsByRefKeyAndMatchInListingOrder) {
  auto state = open_state("P");
  ASSERT_TRUE(state) << state.error().message;
  sync::ListingStage& stage = (*state)->listing_stage();
  ASSERT_TRUE(stage.clear());
  std::vector<sync::StagedItem> page{staged("a", "m1"), staged("b", "m2", "key-b"),
                                     staged("c", "m1")};
  page[1].linked = true;
  ASSERT_TRUE(stage.put(Side::kRemote, page));
  ASSERT_TRUE(stage.put(Side::kHost, std::vector{staged("h", "m1")}));
  EXPECT_EQ(stage.count(Side::kRemote).value(), 3u);
  EXPECT_EQ(stage.count(Side::kHost).value(), 1u);

  auto b = stage.by_ref(Side::kRemote, ItemRef("b")).value();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->item.item.subject, "Item b");
  EXPECT_EQ(b->item.version.str(), "v-b");
  EXPECT_TRUE(b->linked);
  EXPECT_TRUE(stage.listed(Side::kRemote, ItemRef("c")).value());
  EXPECT_FALSE(stage.listed(Side::kHost, ItemRef("c")).value()) << "sides are apart";
  EXPECT_EQ(stage.carrying(Side::kRemote, IdempotencyKey("key-b")).value()->item.ref.str(), "b");
  EXPECT_FALSE(stage.by_own_key(Side::kRemote, IdempotencyKey("own-b")).value()) << "linked";
  EXPECT_EQ(stage.by_own_key(Side::kRemote, IdempotencyKey("own-c")).value()->item.ref.str(), "c");

  // R20: the first free item with the match key, in listing order; a partner or done hides it.
  EXPECT_EQ(stage.first_free(Side::kRemote, "m1").value()->item.ref.str(), "a");
  ASSERT_TRUE(stage.set_partner(Side::kRemote, ItemRef("a"), ItemRef("h")));
  EXPECT_EQ(stage.first_free(Side::kRemote, "m1").value()->item.ref.str(), "c");
  const std::vector<ItemRef> done{ItemRef("c")};
  ASSERT_TRUE(stage.mark_done(Side::kRemote, done));
  EXPECT_FALSE(stage.first_free(Side::kRemote, "m1").value());

  auto batch = stage.next_batch(Side::kRemote, 0, 10).value();
  EXPECT_EQ(refs_of(batch), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(refs_of(stage.next_batch(Side::kRemote, batch[0].seq, 10).value()),
            (std::vector<std::string>{"b"}));
  ASSERT_TRUE(stage.rewind());
  EXPECT_EQ(refs_of(stage.next_batch(Side::kRemote, 0, 10).value()),
            (std::vector<std::string>{"a", "b", "c"}));

  // Staged again: replaced, not doubled. Another pair sees nothing of it.
  ASSERT_TRUE(stage.put(Side::kRemote, std::vector{staged("a", "m8"), staged("a", "m9")}));
  EXPECT_EQ(stage.count(Side::kRemote).value(), 3u);
  EXPECT_EQ(stage.by_ref(Side::kRemote, ItemRef("a")).value()->match_key, "m9");
  auto other = open_state("OTHER");
  ASSERT_TRUE(other);
  EXPECT_EQ((*other)->listing_stage().count(Side::kRemote).value(), 0u);
  ASSERT_TRUE(stage.clear());
  EXPECT_EQ(stage.count(Side::kRemote).value(), 0u);
}

TEST_P(SyncStateContract, LinksPageByKeyAndAGlanceReadsOnlyTheVersion) {
  auto state = open_state("P");
  ASSERT_TRUE(state) << state.error().message;
  sync::StateDelta delta;
  for (const char* key : {"k3", "k1", "k4", "k2"}) {
    delta.upsert.push_back(link(key, std::string("h-") + key, std::string("r-") + key));
  }
  delta.upsert[0].sides[Side::kHost].held = delta.upsert[0].base;
  ASSERT_TRUE((*state)->commit(delta));
  auto first = (*state)->links_after(IdempotencyKey(""), 2).value();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].key.str(), "k1");
  EXPECT_EQ(first[1].key.str(), "k2");
  auto rest = (*state)->links_after(first[1].key, 10).value();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].key.str(), "k3");
  EXPECT_EQ(rest[0].sides[Side::kHost].held, rest[0].base);
  EXPECT_EQ((*state)->all_links().value().size(), 4u);

  auto glance = (*state)->glance_by_ref(Side::kRemote, ItemRef("r-k3")).value();
  ASSERT_TRUE(glance);
  EXPECT_EQ(glance->version.str(), "r1");
  EXPECT_TRUE(glance->held);
  EXPECT_FALSE((*state)->glance_by_ref(Side::kHost, ItemRef("h-k1")).value()->held);
  EXPECT_FALSE((*state)->glance_by_ref(Side::kHost, ItemRef("nothing")).value());
  EXPECT_FALSE((*state)->glance_by_ref(Side::kHost, ItemRef("")).value());
  EXPECT_FALSE((*state)->find_link_by_ref(Side::kHost, ItemRef("")).value());
}

// A state object reads the pair's one-row facts (cursors, quarantine, backend, whether the
// journal holds anything) in one statement and keeps them until it writes: every write of
// the object must show in what it reads next (docs/DECISIONS.md, "One query for an idle
// pair's state").
TEST_P(SyncStateContract, ThePairsOverviewShowsEveryWriteOfTheObject) {
  auto opened = open_state("JDOE");
  ASSERT_TRUE(opened) << opened.error().message;
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

  // Another object reads what this one wrote; another pair has none of it.
  auto other = open_state("JDOE").value();
  EXPECT_EQ(other->cursor(Side::kHost).value(), Cursor("17"));
  EXPECT_EQ(other->remote_backend().value(), "graph");
  auto stranger = open_state("ASMITH").value();
  EXPECT_EQ(stranger->cursor(Side::kHost).value(), Cursor());
  EXPECT_EQ(stranger->remote_backend().value(), "");
  EXPECT_FALSE(stranger->quarantine().value());

  ASSERT_TRUE(state.clear());
  expect_overview("", "", std::nullopt, "", 0);
}

TEST_P(SyncStateContract, RunStatusesKeepTheLastSuccessThroughFailures) {
  auto states = state_store();
  const Instant monday = Instant(std::chrono::seconds(1'700'000'000));
  const Instant tuesday = monday + std::chrono::hours(24);
  const std::vector<std::pair<std::string, RunStatus>> first{
      {"ANNA", {monday, "synced", "2 created", "", monday}},
      {"BEN", {monday, "failed", "", "password refused", Instant{}}}};
  ASSERT_TRUE(states->record_statuses(first));
  const std::vector<std::pair<std::string, RunStatus>> second{
      {"ANNA", {tuesday, "failed", "", "timeout", Instant{}}}};
  ASSERT_TRUE(states->record_statuses(second));
  auto anna = state_store()->last_run("ANNA").value();
  ASSERT_TRUE(anna);
  EXPECT_EQ(*anna, (RunStatus{tuesday, "failed", "", "timeout", monday}));
  EXPECT_EQ(state_store()->last_run("BEN").value()->last_success, Instant{});
  EXPECT_FALSE(state_store()->last_run("CAROL").value());
}

// The daemon writes idle runs' statuses in batches, up to a second late (daemon::SyncAppPool):
// a `sync` of the CLI (or another node) may record a newer run in between, which a late
// batch must not overwrite; a late success still counts as the last success.
TEST_P(SyncStateContract, ALateStatusKeepsTheNewerRunAndCountsItsSuccess) {
  auto states = state_store();
  const Instant sunday = Instant(std::chrono::seconds(1'699'900'000));
  const Instant monday = Instant(std::chrono::seconds(1'700'000'000));
  const Instant tuesday = monday + std::chrono::hours(24);
  const std::vector<std::pair<std::string, RunStatus>> first{
      {"ANNA", {sunday, "synced", "", "", sunday}}};
  ASSERT_TRUE(states->record_statuses(first));
  const std::vector<std::pair<std::string, RunStatus>> newer{
      {"ANNA", {tuesday, "failed", "", "timeout", Instant{}}}};
  ASSERT_TRUE(states->record_statuses(newer));
  const std::vector<std::pair<std::string, RunStatus>> late{
      {"ANNA", {monday, "synced", "1 created", "", monday}}};
  ASSERT_TRUE(states->record_statuses(late));
  auto anna = state_store()->last_run("ANNA").value();
  ASSERT_TRUE(anna);
  EXPECT_EQ(*anna, (RunStatus{tuesday, "failed", "", "timeout", monday}));
  // A run of the same second is newer (one process's runs of a pair arrive in order).
  const std::vector<std::pair<std::string, RunStatus>> same_second{
      {"ANNA", {tuesday, "synced", "", "", tuesday}}};
  ASSERT_TRUE(states->record_statuses(same_second));
  EXPECT_EQ(*state_store()->last_run("ANNA").value(),
            (RunStatus{tuesday, "synced", "", "", tuesday}));
}

std::size_t threads_of_this_process() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    ++count;
  }
  return count;
}

// A run may last longer than its lease (1 s here): the lease is renewed while the pair is
// held, by one thread for every lease of the process (issue 14 §4: it was a thread per run),
// and given back at once when the run ends.
TEST_P(SyncStateContract, HeldPairsStayHeldPastTheLeaseOnOneRenewerAndAreFreeOnceGivenBack) {
  auto first = state_store();
  // The renewer's thread, started by a first lease, is not a thread per run.
  ASSERT_TRUE(first->lock_pair("WARMUP", std::chrono::milliseconds(0)));
  const std::size_t before = threads_of_this_process();
  std::vector<std::unique_ptr<PairGuard>> held;
  for (const char* pair : {"ANNA", "BEN", "CAROL", "DAN", "EVE"}) {
    auto locked = first->lock_pair(pair, std::chrono::milliseconds(0));
    ASSERT_TRUE(locked) << locked.error().message;
    held.push_back(std::move(*locked));
  }
  EXPECT_EQ(threads_of_this_process(), before) << "no thread per held pair";
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto second = state_store();
  for (const char* pair : {"ANNA", "BEN", "CAROL", "DAN", "EVE"}) {
    EXPECT_FALSE(second->lock_pair(pair, std::chrono::milliseconds(0)))
        << pair << " was taken over while held: its lease was not renewed";
  }
  held.front().reset();
  auto taken = second->lock_pair("ANNA", std::chrono::milliseconds(0));
  EXPECT_TRUE(taken) << "given back at once, not at the lease's end";
}

TEST_P(SyncStateContract, APairRunsOnceAtATimeAndADeadHoldersLockIsReleased) {
  auto first = state_store();
  auto held = first->lock_pair("ANNA", std::chrono::milliseconds(0));
  ASSERT_TRUE(held) << held.error().message;
  auto second = state_store();
  auto refused = second->lock_pair("ANNA", std::chrono::milliseconds(200));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kTransient);
  EXPECT_TRUE(second->lock_pair("BEN", std::chrono::milliseconds(0))) << "other pairs run";
  held->reset();
  EXPECT_TRUE(second->lock_pair("ANNA", std::chrono::milliseconds(1000)));

  // A holder killed with SIGKILL releases the pair: the kernel drops the file lock at once,
  // the lease runs out after its ttl.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto locked = state_store()->lock_pair("CAROL", std::chrono::milliseconds(0));
    if (!locked) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(2);
    pause();
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  EXPECT_FALSE(second->lock_pair("CAROL", std::chrono::milliseconds(100)));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  auto taken = second->lock_pair("CAROL", std::chrono::milliseconds(5000));
  EXPECT_TRUE(taken) << taken.error().message;
  close(ready[0]);
  close(ready[1]);
}

}  // namespace
}  // namespace agendasync::store
