// Leases with fencing on PostgreSQL (issue 17 §3): one holder per pair, take-over after the
// expiry with a higher epoch, and a stalled holder's late batch refused by the epoch check.
#include "store/sync_state/pg_lease.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "store/contract_support.h"
#include "store/sync_state/pg_sync_state.h"

namespace agendasync::store {
namespace {

using namespace std::chrono_literals;
using sync::Side;

class PgLease : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = db_.create();
    ASSERT_TRUE(created) << created.error().message;
  }
  /// A node: its own pool, as a separate process would have.
  std::unique_ptr<PgLeases> node(const std::string& name, std::chrono::milliseconds ttl) {
    auto pool = open_pg_state_pool(db_.target());
    EXPECT_TRUE(pool) << pool.error().message;
    pools_.push_back(*pool);
    return std::make_unique<PgLeases>(*pool, name, ttl);
  }
  std::unique_ptr<PgSyncState> state(const std::string& pair) {
    auto pool = open_pg_state_pool(db_.target());
    EXPECT_TRUE(pool) << pool.error().message;
    return PgSyncState::over(*pool, pair);
  }
  static sync::StateDelta cursor_delta(const std::string& cursor) {
    sync::StateDelta delta;
    delta.cursors[Side::kRemote] = Cursor(cursor);
    return delta;
  }

  testing::ContractDatabase db_{testing::Backend::kPostgres};
  std::vector<std::shared_ptr<pg::Pool>> pools_;
};

TEST_F(PgLease, OneHolderAtATimeAndATakeOverAfterExpiryRaisesTheEpoch) {
  auto a = node("node-a", 400ms);
  auto b = node("node-b", 400ms);
  auto held = a->acquire("ANNA").value();
  ASSERT_TRUE(held);
  EXPECT_FALSE(b->acquire("ANNA").value()) << "a live lease is not taken";
  EXPECT_TRUE(b->acquire("BEN").value()) << "other pairs are free";

  EXPECT_TRUE(a->renew(*held).value());
  std::this_thread::sleep_for(600ms);  // node-a stalls past its lease
  auto taken = b->acquire("ANNA").value();
  ASSERT_TRUE(taken) << "an expired lease is taken over";
  EXPECT_EQ(taken->holder, "node-b");
  EXPECT_GT(taken->epoch, held->epoch);
  EXPECT_FALSE(a->renew(*held).value()) << "the stalled node learns it lost the lease";

  ASSERT_TRUE(b->release(*taken));
  auto back = a->acquire("ANNA").value();
  ASSERT_TRUE(back) << "a released lease is free at once";
  EXPECT_GT(back->epoch, taken->epoch);
}

TEST_F(PgLease, AStalledHoldersBatchIsRefusedAndTheNewHoldersCommits) {
  auto a = node("node-a", 300ms);
  auto b = node("node-b", 300ms);
  auto held = a->acquire("ANNA").value();
  ASSERT_TRUE(held);
  auto a_state = state("ANNA");
  a_state->fence(*held);
  ASSERT_TRUE(a_state->commit(cursor_delta("a-1"))) << "committed under a live lease";

  std::this_thread::sleep_for(500ms);
  auto taken = b->acquire("ANNA").value();
  ASSERT_TRUE(taken);
  auto b_state = state("ANNA");
  b_state->fence(*taken);
  ASSERT_TRUE(b_state->commit(cursor_delta("b-1")));

  // node-a wakes up and finishes its batch: every kind of write is refused.
  auto late = a_state->commit(cursor_delta("a-2"));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(late.error().protocol_code, "lease-lost");
  EXPECT_NE(late.error().message.find("node-b"), std::string::npos) << late.error().message;
  sync::JournalEntry entry{IdempotencyKey("k"), Side::kRemote, WriteOp::kCreate, {}, {}, "run",
                           std::nullopt};
  EXPECT_FALSE(a_state->journal(std::span(&entry, 1)));
  EXPECT_FALSE(a_state->set_quarantine("late"));
  EXPECT_FALSE(a_state->switch_remote_backend("graph"));
  EXPECT_FALSE(a_state->clear());

  auto reader = state("ANNA");
  EXPECT_EQ(reader->cursor(Side::kRemote).value().str(), "b-1");
  EXPECT_TRUE(reader->pending_journal().value().empty());
  EXPECT_FALSE(reader->quarantine().value());
}

TEST_F(PgLease, NodesTakingOnePairAtOnceHoldItOneAtATimeAndEveryTakeRaisesTheEpoch) {
  // The take is one statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE free): four nodes
  // hammering one pair, from its very first take (no row yet) on, never hold it together,
  // and no two takes get the same epoch.
  constexpr int kNodes = 4;
  constexpr int kTries = 40;
  std::vector<std::unique_ptr<PgLeases>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(node("node-" + std::to_string(i), 10s));
  std::atomic<int> holders{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> failures{0};
  std::mutex mutex;
  std::vector<std::int64_t> epochs;
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      auto& leases = *nodes[static_cast<std::size_t>(i)];
      for (int n = 0; n < kTries; ++n) {
        auto taken = leases.acquire("ANNA");
        if (!taken) {
          ++failures;
          continue;
        }
        if (!*taken) continue;
        if (holders.fetch_add(1) != 0) ++overlaps;
        {
          std::lock_guard lock(mutex);
          epochs.push_back((*taken)->epoch);
        }
        std::this_thread::sleep_for(1ms);
        holders.fetch_sub(1);
        if (!leases.release(**taken)) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(overlaps.load(), 0) << "two nodes held the pair at once";
  ASSERT_FALSE(epochs.empty());
  std::set<std::int64_t> distinct(epochs.begin(), epochs.end());
  EXPECT_EQ(distinct.size(), epochs.size()) << "two takes got the same epoch";
  EXPECT_EQ(*distinct.begin(), 1) << "a pair's first take has epoch 1";
  EXPECT_EQ(*distinct.rbegin(), static_cast<std::int64_t>(epochs.size()))
      << "every take raised the epoch by one";
}

TEST_F(PgLease, NodesTakingDuePairsAtOnceGetDisjointPairs) {
  {
    // Twenty pairs leased once and given back: all due.
    auto seed = node("seed", 10s);
    for (int i = 0; i < 20; ++i) {
      auto lease = seed->acquire("P" + std::to_string(i)).value();
      ASSERT_TRUE(lease);
      ASSERT_TRUE(seed->release(*lease));
    }
  }
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<PgLeases>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(node("node-" + std::to_string(i), 10s));
  std::vector<std::vector<Lease>> taken(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      for (;;) {
        auto batch = nodes[static_cast<std::size_t>(i)]->acquire_due(3);
        if (!batch || batch->empty()) return;
        auto& mine = taken[static_cast<std::size_t>(i)];
        mine.insert(mine.end(), batch->begin(), batch->end());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> pairs;
  std::size_t total = 0;
  for (const auto& leases : taken) {
    total += leases.size();
    for (const auto& lease : leases) pairs.insert(lease.pair);
  }
  EXPECT_EQ(total, 20u) << "every pair taken exactly once";
  EXPECT_EQ(pairs.size(), 20u);
}

}  // namespace
}  // namespace agendasync::store
