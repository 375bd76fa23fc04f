// The host agenda through the CalendarSide interface, on a real SQLite file.
#include "connectors/host/host_side.h"

#include <gtest/gtest.h>

#include <memory>

#include "store/sqlite_agenda_store.h"
#include "store/test_support.h"

namespace agendasync::host {
namespace {

using namespace std::chrono_literals;
using store::testing::at;
using store::testing::sample_appointment;
using store::testing::sample_user;
using store::testing::TempDir;

Write create_write(Appointment item, std::string key = {}) {
  Write write;
  write.op = WriteOp::kCreate;
  write.item = std::move(item);
  write.key = IdempotencyKey(std::move(key));
  return write;
}

Write update_write(const SideItem& current, Appointment item) {
  Write write;
  write.op = WriteOp::kUpdate;
  write.ref = current.ref;
  write.expected = current.version;
  write.item = std::move(item);
  write.previous = current.item;
  return write;
}

Write delete_write(const SideItem& current) {
  Write write;
  write.op = WriteOp::kDelete;
  write.ref = current.ref;
  write.expected = current.version;
  return write;
}

class HostSide : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_agenda_store(dir_ / "agenda.db", store::testing::creating());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    for (const char* name : {"ANNA", "BOB"}) ASSERT_TRUE(store_->add_user(sample_user(name)));
    anna_ = std::make_unique<HostCalendarSide>(*store_, "ANNA");
    bob_ = std::make_unique<HostCalendarSide>(*store_, "BOB");
  }

  /// Applies one write through the interface and returns its outcome.
  Result<SideItem> apply_one(CalendarSide& side, const Write& write) {
    auto results = side.apply(std::span<const Write>(&write, 1));
    EXPECT_EQ(results.size(), 1u);
    return results.at(0).outcome;
  }

  TempDir dir_;
  std::unique_ptr<store::AgendaStore> store_;
  std::unique_ptr<CalendarSide> anna_;
  std::unique_ptr<CalendarSide> bob_;
};

TEST_F(HostSide, DescribesItself) { EXPECT_EQ(anna_->describe(), "host:ANNA"); }

TEST_F(HostSide, AnEmptyCursorIsTheCurrentPositionWithoutChanges) {
  ASSERT_TRUE(apply_one(*anna_, create_write(sample_appointment(""))));
  auto batch = anna_->changes_since(Cursor());
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->changed.empty());
  EXPECT_TRUE(batch->complete);
  EXPECT_EQ(batch->next.str(), std::to_string(store_->head_revision().value()));
}

TEST_F(HostSide, CreateUpdateDeleteFlowThroughTheFeed) {
  auto start = anna_->changes_since(Cursor()).value().next;
  auto created = apply_one(*anna_, create_write(sample_appointment(""), "key-1"));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->item.owner, "ANNA");  // a create without owner belongs to this user
  EXPECT_EQ(created->idempotency_key, IdempotencyKey("key-1"));

  auto batch = anna_->changes_since(start).value();
  EXPECT_EQ(batch.changed, std::vector<ItemRef>{created->ref});
  EXPECT_TRUE(batch.deleted.empty());
  EXPECT_TRUE(bob_->changes_since(start).value().changed.empty()) << "not BOB's item";

  auto item = created->item;
  item.subject = "Renamed";
  auto updated = apply_one(*anna_, update_write(*created, item));
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_NE(updated->version, created->version);

  auto stale = apply_one(*anna_, update_write(*created, item));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, ErrorKind::kConflict);

  auto after_update = anna_->changes_since(batch.next).value();
  EXPECT_EQ(after_update.changed, std::vector<ItemRef>{created->ref});

  ASSERT_TRUE(apply_one(*anna_, delete_write(*updated)));
  auto after_delete = anna_->changes_since(after_update.next).value();
  EXPECT_TRUE(after_delete.changed.empty());
  EXPECT_EQ(after_delete.deleted, std::vector<ItemRef>{created->ref});
  EXPECT_TRUE(anna_->fetch(std::vector<ItemRef>{created->ref}).value().empty());
  EXPECT_FALSE(anna_->find_by_key(IdempotencyKey("key-1")).value().has_value());
}

TEST_F(HostSide, UpdatesFromOtherSidesKeepHostOnlyFields) {
  auto item = sample_appointment("ANNA");
  item.participants = {"BOB"};
  item.project_task = false;
  auto created = apply_one(*anna_, create_write(item)).value();
  Appointment from_exchange = item;
  from_exchange.owner.clear();
  from_exchange.participants.clear();
  from_exchange.subject = "Changed in Outlook";
  auto updated = apply_one(*anna_, update_write(created, from_exchange));
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->item.owner, "ANNA");
  EXPECT_EQ(updated->item.participants, std::vector<std::string>{"BOB"});
  EXPECT_EQ(updated->item.subject, "Changed in Outlook");
}

TEST_F(HostSide, ParticipantsSeeTheItemAndItsRemoval) {
  auto item = sample_appointment("ANNA");
  item.participants = {"BOB"};
  auto start = bob_->changes_since(Cursor()).value().next;
  auto created = apply_one(*anna_, create_write(item)).value();
  auto bob_batch = bob_->changes_since(start).value();
  EXPECT_EQ(bob_batch.changed, std::vector<ItemRef>{created.ref});
  EXPECT_EQ(bob_->fetch(std::vector<ItemRef>{created.ref}).value().size(), 1u);

  item.participants.clear();
  ASSERT_TRUE(apply_one(*anna_, update_write(created, item)));
  auto removed = bob_->changes_since(bob_batch.next).value();
  EXPECT_EQ(removed.deleted, std::vector<ItemRef>{created.ref});
  EXPECT_TRUE(bob_->fetch(std::vector<ItemRef>{created.ref}).value().empty());
  // BOB can no longer write to it either.
  auto write = delete_write(created);
  write.expected = VersionTag();
  EXPECT_EQ(apply_one(*bob_, write).error().kind, ErrorKind::kNotFound);
}

TEST_F(HostSide, ListReturnsItemsAndSeriesInTheWindow) {
  auto inside =
      apply_one(*anna_, create_write(sample_appointment("ANNA", "inside", at(2026, 3, 2, 9))))
          .value();
  ASSERT_TRUE(
      apply_one(*anna_, create_write(sample_appointment("ANNA", "outside", at(2026, 5, 4, 9)))));
  auto series = sample_appointment("ANNA", "weekly x3", at(2026, 2, 2, 9));
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kWeekly;
  series.recurrence->rule.count = 3;  // Feb 2, 9, 16: ends before the window
  ASSERT_TRUE(apply_one(*anna_, create_write(series)));
  series.subject = "weekly x10";
  series.recurrence->rule.count = 10;  // reaches into March
  auto long_series = apply_one(*anna_, create_write(series)).value();
  ASSERT_TRUE(
      apply_one(*bob_, create_write(sample_appointment("BOB", "bob's", at(2026, 3, 3, 9)))));

  auto listed = anna_->list(TimeWindow{at(2026, 3, 1), at(2026, 4, 1)});
  ASSERT_TRUE(listed) << listed.error().message;
  std::vector<std::string> subjects;
  for (const auto& item : listed->first) subjects.push_back(item.item.subject);
  EXPECT_EQ(subjects, (std::vector<std::string>{"weekly x10", "inside"}));
  EXPECT_EQ(listed->second.str(), std::to_string(store_->head_revision().value()));
  (void)inside;
  (void)long_series;
}

TEST_F(HostSide, FindByKeyFindsACrashedCreate) {
  auto created = apply_one(*anna_, create_write(sample_appointment(""), "journal-42")).value();
  auto found = anna_->find_by_key(IdempotencyKey("journal-42"));
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->ref, created.ref);
  // Retrying the create returns the first one instead of a duplicate (R28).
  auto retried = apply_one(*anna_, create_write(sample_appointment(""), "journal-42")).value();
  EXPECT_EQ(retried.ref, created.ref);
  EXPECT_FALSE(bob_->find_by_key(IdempotencyKey("journal-42")).value().has_value());
}

TEST_F(HostSide, OneOccurrenceCanBeMovedOrDeleted) {
  auto series = sample_appointment("ANNA", "daily", at(2026, 3, 2, 8));
  series.recurrence = Recurrence{};
  series.recurrence->rule.count = 5;
  auto created = apply_one(*anna_, create_write(series)).value();

  // Per the contract in core/calendar_side.h: the item is the whole series, the change is
  // its override for the occurrence; nothing else of the item is written.
  Write move;
  move.op = WriteOp::kUpdate;
  move.ref = created.ref;
  move.expected = created.version;
  move.occurrence = at(2026, 3, 3, 8);
  move.item = created.item;
  move.item.subject = "not written: only the occurrence is";
  OccurrenceOverride change;
  change.recurrence_id = at(2026, 3, 3, 8);
  change.start = at(2026, 3, 3, 14);
  change.end = at(2026, 3, 3, 15);
  change.subject = "daily (moved)";
  move.item.recurrence->overrides.push_back(change);

  Write without_override = move;
  without_override.occurrence = at(2026, 3, 5, 8);
  auto refused = apply_one(*anna_, without_override);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidData);

  auto moved = apply_one(*anna_, move);
  ASSERT_TRUE(moved) << moved.error().message;
  ASSERT_EQ(moved->item.recurrence->overrides.size(), 1u);
  EXPECT_EQ(moved->item.recurrence->overrides[0], change);
  EXPECT_EQ(moved->item.subject, "daily");

  Write drop;
  drop.op = WriteOp::kDelete;
  drop.ref = created.ref;
  drop.expected = moved->version;
  drop.occurrence = at(2026, 3, 4, 8);
  auto dropped = apply_one(*anna_, drop);
  ASSERT_TRUE(dropped) << dropped.error().message;
  EXPECT_EQ(dropped->item.recurrence->exdates, std::vector<Instant>{at(2026, 3, 4, 8)});
  EXPECT_EQ(anna_->fetch(std::vector<ItemRef>{created.ref}).value().size(), 1u);
}

TEST_F(HostSide, TheFeedCarriesVersionsAndItemsTheirModificationTime) {
  const auto cursor = anna_->changes_since(Cursor()).value().next;
  const auto before = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto created = apply_one(*anna_, create_write(sample_appointment("", "timed"))).value();
  const auto after = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now());
  // The revision's commit time, in whole seconds of the system clock.
  ASSERT_TRUE(created.last_modified.has_value());
  EXPECT_GE(*created.last_modified, before);
  EXPECT_LE(*created.last_modified, after);
  auto fetched = anna_->fetch(std::vector<ItemRef>{created.ref}).value();
  ASSERT_EQ(fetched.size(), 1u);
  EXPECT_EQ(fetched[0].last_modified, created.last_modified);

  auto batch = anna_->changes_since(cursor).value();
  ASSERT_EQ(batch.changed, std::vector<ItemRef>{created.ref});
  EXPECT_EQ(batch.changed_versions, std::vector<VersionTag>{created.version});
}

TEST_F(HostSide, InvalidCursorsAskForAResync) {
  for (const char* bad : {"abc", "-1", "999999"}) {
    auto batch = anna_->changes_since(Cursor(bad));
    ASSERT_FALSE(batch) << bad;
    EXPECT_EQ(batch.error().kind, ErrorKind::kCursorInvalid);
  }
}

TEST_F(HostSide, LongFeedsArePaged) {
  HostCalendarSide paged(*store_, "ANNA", HostSideOptions{2});
  auto cursor = paged.changes_since(Cursor()).value().next;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        apply_one(paged, create_write(sample_appointment("", "item " + std::to_string(i)))));
  }
  std::vector<ItemRef> all;
  for (int round = 0; round < 10; ++round) {
    auto batch = paged.changes_since(cursor).value();
    all.insert(all.end(), batch.changed.begin(), batch.changed.end());
    cursor = batch.next;
    if (batch.complete) break;
  }
  EXPECT_EQ(all.size(), 5u);
  EXPECT_TRUE(paged.changes_since(cursor).value().changed.empty());
}

TEST_F(HostSide, OneFailedWriteDoesNotFailTheOthers) {
  auto created = apply_one(*anna_, create_write(sample_appointment(""))).value();
  Write bad_ref;
  bad_ref.op = WriteOp::kUpdate;
  bad_ref.ref = ItemRef("nope");
  std::vector<Write> writes = {create_write(sample_appointment("", "a")), bad_ref,
                               delete_write(created)};
  auto results = anna_->apply(writes);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].outcome);
  EXPECT_FALSE(results[1].outcome);
  EXPECT_EQ(results[1].outcome.error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(results[2].outcome);
}

}  // namespace
}  // namespace agendasync::host
