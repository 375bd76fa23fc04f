#include "sync/memory_state.h"

#include <gtest/gtest.h>

namespace agendasync::sync {
namespace {

LinkRecord link(std::string key, std::string host_ref, std::string remote_ref) {
  LinkRecord record;
  record.key = IdempotencyKey(std::move(key));
  record.sides[Side::kHost] = {ItemRef(std::move(host_ref)), VersionTag("1"), "h", std::nullopt};
  record.sides[Side::kRemote] = {ItemRef(std::move(remote_ref)), VersionTag("1"), "r",
                                 std::nullopt};
  return record;
}

TEST(MemorySyncState, LinksAreFoundByEitherRefAndByKey) {
  MemorySyncState state;
  StateDelta delta;
  delta.upsert = {link("k1", "h1", "r1"), link("k2", "h2", "r2")};
  ASSERT_TRUE(state.commit(delta));
  EXPECT_EQ((*state.find_link_by_ref(Side::kRemote, ItemRef("r2")))->key.str(), "k2");
  EXPECT_EQ((*state.find_link_by_key(IdempotencyKey("k1")))->sides[Side::kHost].ref.str(), "h1");
  EXPECT_FALSE(*state.find_link_by_ref(Side::kHost, ItemRef("r1")));

  StateDelta relink;
  relink.upsert = {link("k1", "h1", "r9")};
  relink.remove = {IdempotencyKey("k2")};
  ASSERT_TRUE(state.commit(relink));
  EXPECT_FALSE(*state.find_link_by_ref(Side::kRemote, ItemRef("r1"))) << "old ref unindexed";
  EXPECT_TRUE(*state.find_link_by_ref(Side::kRemote, ItemRef("r9")));
  EXPECT_FALSE(*state.find_link_by_key(IdempotencyKey("k2")));
  EXPECT_EQ(*state.link_count(), 1u);
}

TEST(MemorySyncState, JournalEntriesResolveTogetherPerLink) {
  MemorySyncState state;
  std::vector<JournalEntry> entries(2);
  entries[0].key = entries[1].key = IdempotencyKey("k");
  entries[1].target = Side::kHost;
  ASSERT_TRUE(state.journal(entries));
  EXPECT_EQ(state.pending_journal()->size(), 2u);
  StateDelta done;
  done.journal_done = {IdempotencyKey("k")};
  ASSERT_TRUE(state.commit(done));
  EXPECT_TRUE(state.pending_journal()->empty());
}

TEST(MemorySyncState, QuarantineNeedsApproval) {
  MemorySyncState state;
  EXPECT_FALSE(state.approve()) << "nothing to approve";
  ASSERT_TRUE(state.set_quarantine("too many deletions"));
  EXPECT_FALSE((*state.quarantine())->approved);
  ASSERT_TRUE(state.approve());
  EXPECT_TRUE((*state.quarantine())->approved);
  StateDelta lift;
  lift.clear_quarantine = true;
  ASSERT_TRUE(state.commit(lift));
  EXPECT_FALSE(*state.quarantine());
}

}  // namespace
}  // namespace agendasync::sync
