// The change feed: order, tombstones, per-user audience, optimistic concurrency, idempotent
// creates, and gap-free order under concurrent writer threads and processes. Part of the store
// contract: every test runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "store/contract_support.h"
#include "store/test_support.h"

namespace agendasync::store {
namespace {

using testing::at;
using testing::Backend;
using testing::ContractDatabase;
using testing::sample_appointment;
using testing::sample_user;

class ChangeFeed : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto created = db_.create();
    ASSERT_TRUE(created) << created.error().message;
    auto opened = db_.open(true);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    for (const char* name : {"ANNA", "BOB", "CAROL"})
      ASSERT_TRUE(store_->add_user(sample_user(name)));
    base_ = store_->head_revision().value();
  }
  ContractDatabase db_{GetParam()};
  std::unique_ptr<AgendaStore> store_;
  Revision base_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Contract, ChangeFeed,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

TEST_P(ChangeFeed, CreateUpdateDeleteAppearInOrder) {
  auto created = store_->create_appointment(sample_appointment("ANNA"));
  ASSERT_TRUE(created) << created.error().message;
  auto changed = created->item;
  changed.subject = "Meeting (moved)";
  auto updated = store_->update_appointment(created->id, changed, created->revision);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_GT(updated->revision, created->revision);
  auto deleted = store_->delete_appointment(created->id, updated->revision);
  ASSERT_TRUE(deleted);

  auto feed = store_->changes_since(testing::feed_after(base_)).value();
  ASSERT_EQ(feed.size(), 3u);
  auto id = std::to_string(created->id);
  EXPECT_EQ(feed[0],
            (Change{base_ + 1, ChangeEntity::kAppointment, id, ChangeOp::kUpsert, {"ANNA"}}));
  EXPECT_EQ(feed[1],
            (Change{base_ + 2, ChangeEntity::kAppointment, id, ChangeOp::kUpsert, {"ANNA"}}));
  EXPECT_EQ(feed[2],
            (Change{base_ + 3, ChangeEntity::kAppointment, id, ChangeOp::kDelete, {"ANNA"}}));
  EXPECT_EQ(store_->head_revision().value(), base_ + 3);
  EXPECT_EQ(store_->changes_since(testing::feed_after(base_ + 1, 1)).value().size(), 1u);
  EXPECT_TRUE(store_->changes_since(testing::feed_after(base_ + 3)).value().empty());
}

TEST_P(ChangeFeed, DeletedAppointmentsLeaveATombstoneAndAreNotListed) {
  auto keep = store_->create_appointment(sample_appointment("ANNA", "keep")).value();
  auto item = sample_appointment("ANNA", "drop");
  item.participants = {"BOB"};
  auto drop = store_->create_appointment(item, IdempotencyKey("k-drop")).value();
  auto revision = store_->delete_appointment(drop.id, std::nullopt);
  ASSERT_TRUE(revision);

  auto listed = store_->appointments({}).value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, keep.id);
  EXPECT_FALSE(store_->appointment(drop.id).value().has_value());
  EXPECT_FALSE(store_->appointment_by_key(IdempotencyKey("k-drop")).value().has_value());
  EXPECT_TRUE(store_->appointments(testing::of_user("BOB")).value().empty());

  auto stone = store_->tombstone(drop.id).value();
  ASSERT_TRUE(stone);
  EXPECT_EQ(*stone, (Tombstone{drop.id, *revision, IdempotencyKey("k-drop"), "ANNA", {"BOB"}}));
  EXPECT_FALSE(store_->tombstone(keep.id).value().has_value());

  auto feed = store_->changes_since(testing::feed_for(base_, "BOB")).value();
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[1].op, ChangeOp::kDelete);
  EXPECT_EQ(feed[1].users, (std::vector<std::string>{"ANNA", "BOB"}));

  auto again = store_->delete_appointment(drop.id, std::nullopt);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kNotFound);
  EXPECT_FALSE(store_->update_appointment(drop.id, item, std::nullopt));
}

TEST_P(ChangeFeed, ARemovedParticipantSeesTheChange) {
  auto item = sample_appointment("ANNA");
  item.participants = {"BOB"};
  auto created = store_->create_appointment(item).value();
  item.participants = {"CAROL"};
  ASSERT_TRUE(store_->update_appointment(created.id, item, std::nullopt));

  auto bob = store_->changes_since(testing::feed_for(base_, "bob")).value();
  ASSERT_EQ(bob.size(), 2u);
  EXPECT_EQ(bob[1].users, (std::vector<std::string>{"ANNA", "BOB", "CAROL"}));
  EXPECT_TRUE(store_->appointments(testing::of_user("BOB")).value().empty());
  EXPECT_EQ(store_->appointments(testing::of_user("CAROL")).value().size(), 1u);
  EXPECT_EQ(store_->appointments(testing::of_user("ANNA")).value().size(), 1u);
}

TEST_P(ChangeFeed, AStaleRevisionIsAConflictAndChangesNothing) {
  auto created = store_->create_appointment(sample_appointment("ANNA")).value();
  auto item = created.item;
  item.subject = "first";
  auto first = store_->update_appointment(created.id, item, created.revision).value();
  auto head = store_->head_revision().value();
  item.subject = "second";
  auto stale = store_->update_appointment(created.id, item, created.revision);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::kConflict);
  auto stale_delete = store_->delete_appointment(created.id, created.revision);
  ASSERT_FALSE(stale_delete);
  EXPECT_EQ(stale_delete.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(store_->head_revision().value(), head);
  EXPECT_EQ(store_->appointment(created.id).value()->item.subject, "first");
  EXPECT_EQ(store_->appointment(created.id).value()->revision, first.revision);
}

TEST_P(ChangeFeed, ARetriedCreateWithTheSameKeyIsNotADuplicate) {
  auto item = sample_appointment("ANNA");
  auto first = store_->create_appointment(item, IdempotencyKey("key-7")).value();
  auto head = store_->head_revision().value();
  auto second = store_->create_appointment(item, IdempotencyKey("key-7")).value();
  EXPECT_EQ(second, first);
  EXPECT_EQ(store_->head_revision().value(), head);
  EXPECT_EQ(store_->appointments({}).value().size(), 1u);
}

TEST_P(ChangeFeed, UnknownReferencesAreRefusedAndChangeNothing) {
  auto head = store_->head_revision().value();
  auto no_owner = store_->create_appointment(sample_appointment(""));
  ASSERT_FALSE(no_owner);
  EXPECT_NE(no_owner.error().message.find("owner"), std::string::npos);
  auto unknown_owner = store_->create_appointment(sample_appointment("ZED"));
  ASSERT_FALSE(unknown_owner);
  EXPECT_NE(unknown_owner.error().message.find("agendasync users add ZED"), std::string::npos);
  auto item = sample_appointment("ANNA");
  item.activity_type = "Nonexistent";
  auto unknown_type = store_->create_appointment(item);
  ASSERT_FALSE(unknown_type);
  EXPECT_NE(unknown_type.error().message.find("Nonexistent"), std::string::npos);
  item = sample_appointment("ANNA");
  item.end = item.start - std::chrono::hours{1};
  EXPECT_FALSE(store_->create_appointment(item));
  EXPECT_EQ(store_->head_revision().value(), head);
  EXPECT_TRUE(store_->appointments({}).value().empty());
}

TEST_P(ChangeFeed, WindowQueriesFindOverlappingItemsAndSeries) {
  using namespace std::chrono_literals;
  auto before =
      store_->create_appointment(sample_appointment("ANNA", "before", at(2026, 1, 5, 9))).value();
  auto inside =
      store_->create_appointment(sample_appointment("ANNA", "inside", at(2026, 3, 2, 9))).value();
  auto series_item = sample_appointment("ANNA", "weekly", at(2025, 6, 2, 9));
  series_item.recurrence = Recurrence{};
  series_item.recurrence->rule.freq = Frequency::kWeekly;
  auto series = store_->create_appointment(series_item).value();
  auto ended_item = series_item;
  ended_item.subject = "ended";
  ended_item.recurrence->rule.until = at(2025, 12, 29, 9);
  ASSERT_TRUE(store_->create_appointment(ended_item));

  auto listed = store_->appointments(testing::in_window(at(2026, 3, 1), at(2026, 4, 1))).value();
  std::set<AppointmentId> ids;
  for (const auto& stored : listed) ids.insert(stored.id);
  EXPECT_EQ(ids, (std::set<AppointmentId>{inside.id, series.id}));
  EXPECT_EQ(listed.front().id, series.id);  // by start
  (void)before;
}

/// Writes `count` appointments through its own connection, as a separate writer would.
void write_many(const ContractDatabase& db, const std::string& owner, int count,
                std::atomic<int>* failures) {
  auto store = db.open();
  if (!store) {
    ++*failures;
    return;
  }
  for (int i = 0; i < count; ++i) {
    auto created =
        (*store)->create_appointment(sample_appointment(owner, owner + "-" + std::to_string(i)),
                                     IdempotencyKey(owner + "-" + std::to_string(i)));
    if (!created) {
      ++*failures;
      continue;
    }
    if (i % 3 == 0) {
      auto item = created->item;
      item.subject += " (edited)";
      if (!(*store)->update_appointment(created->id, item, created->revision)) ++*failures;
    }
  }
}

/// Polls the feed while writers run: every batch must continue exactly where the last one
/// ended, i.e. no reader ever sees revision N+1 before N.
void read_feed_until(const ContractDatabase& db, Revision base, Revision target,
                     std::vector<Change>* seen, std::atomic<int>* gaps) {
  auto store = db.open().value();
  Revision last = base;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (last < target && std::chrono::steady_clock::now() < deadline) {
    auto batch = store->changes_since(testing::feed_after(last, 50));
    if (!batch) continue;
    for (const auto& change : *batch) {
      if (change.revision != last + 1) ++*gaps;
      last = change.revision;
      seen->push_back(change);
    }
  }
}

/// Every write present once, revisions strictly increasing and gap-free.
void expect_complete_feed(AgendaStore& store, Revision base, int writers, int per_writer) {
  auto feed = store.changes_since(testing::feed_after(base, 100000)).value();
  int updates_per_writer = (per_writer + 2) / 3;
  ASSERT_EQ(feed.size(), static_cast<std::size_t>(writers * (per_writer + updates_per_writer)));
  for (std::size_t i = 0; i < feed.size(); ++i) {
    ASSERT_EQ(feed[i].revision, base + 1 + static_cast<Revision>(i));
  }
  auto listed = store.appointments({}).value();
  ASSERT_EQ(listed.size(), static_cast<std::size_t>(writers * per_writer));
  std::set<std::string> subjects;
  for (const auto& stored : listed) subjects.insert(stored.idempotency_key->str());
  EXPECT_EQ(subjects.size(), listed.size());
  // Each appointment's revision is the last feed entry that names it.
  std::map<std::string, Revision> last_change;
  for (const auto& change : feed) last_change[change.entity_id] = change.revision;
  for (const auto& stored : listed) {
    EXPECT_EQ(last_change[std::to_string(stored.id)], stored.revision);
  }
}

TEST_P(ChangeFeed, ConcurrentWriterThreadsProduceAGapFreeOrderedFeed) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 40;
  const int updates = (kPerWriter + 2) / 3;
  ASSERT_TRUE(store_->add_user(sample_user("DAVE")));
  base_ = store_->head_revision().value();
  const char* owners[] = {"ANNA", "BOB", "CAROL", "DAVE"};
  std::atomic<int> failures{0}, gaps{0};
  std::vector<Change> seen;
  std::thread reader(read_feed_until, std::cref(db_), base_,
                     base_ + kWriters * (kPerWriter + updates), &seen, &gaps);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back(write_many, std::cref(db_), std::string(owners[w]), kPerWriter, &failures);
  }
  for (auto& writer : writers) writer.join();
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(gaps.load(), 0);
  expect_complete_feed(*store_, base_, kWriters, kPerWriter);
  EXPECT_EQ(seen, store_->changes_since(testing::feed_after(base_, 100000)).value());
}

TEST_P(ChangeFeed, ConcurrentWriterProcessesProduceAGapFreeOrderedFeed) {
  constexpr int kWriters = 3;
  constexpr int kPerWriter = 30;
  const int updates = (kPerWriter + 2) / 3;
  const char* owners[] = {"ANNA", "BOB", "CAROL"};
  store_.reset();  // no connection of ours is open across fork()
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::atomic<int> failures{0};
      write_many(db_, owners[w], kPerWriter, &failures);
      _exit(failures.load() == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  std::atomic<int> gaps{0};
  std::vector<Change> seen;
  read_feed_until(db_, base_, base_ + kWriters * (kPerWriter + updates), &seen, &gaps);
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer process failed";
  }
  EXPECT_EQ(gaps.load(), 0);
  store_ = db_.open().value();
  expect_complete_feed(*store_, base_, kWriters, kPerWriter);
  EXPECT_EQ(seen, store_->changes_since(testing::feed_after(base_, 100000)).value());
}

}  // namespace
}  // namespace agendasync::store
