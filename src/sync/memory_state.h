#pragma once
/// SyncState in memory: for tests, benchmarks and dry runs. Indexed like the SQLite store.
#include <map>
#include <unordered_map>

#include "sync/memory_stage.h"
#include "sync/sync_state.h"

namespace agendasync::sync {

class MemorySyncState final : public SyncState {
 public:
  Result<std::optional<LinkRecord>> find_link_by_ref(Side side, const ItemRef& ref) override;
  Result<std::optional<LinkRecord>> find_link_by_key(const IdempotencyKey& key) override;
  Result<std::optional<Glance>> glance_by_ref(Side side, const ItemRef& ref) override;
  Result<std::vector<LinkRecord>> all_links() override;
  Result<std::size_t> link_count() override;
  Result<std::vector<LinkRecord>> links_after(const IdempotencyKey& after,
                                              std::size_t limit) override;
  ListingStage& listing_stage() override { return stage_; }
  Result<Cursor> cursor(Side side) override;
  Result<void> journal(std::span<const JournalEntry> entries) override;
  Result<std::vector<JournalEntry>> pending_journal() override;
  Result<void> commit(const StateDelta& delta) override;
  Result<std::optional<Quarantine>> quarantine() override;
  Result<void> set_quarantine(const std::string& reason) override;
  Result<void> approve() override;
  Result<void> clear() override;
  Result<std::string> remote_backend() override;
  Result<void> switch_remote_backend(const std::string& backend) override;

  /// Test hook: number of lookups served, to show an incremental cycle does O(k) of them.
  std::size_t lookups() const { return lookups_; }

 private:
  void erase_link(const IdempotencyKey& key);

  std::unordered_map<IdempotencyKey, LinkRecord> links_;
  PerSide<std::unordered_map<ItemRef, IdempotencyKey>> by_ref_;
  std::multimap<IdempotencyKey, JournalEntry> journal_;
  PerSide<Cursor> cursors_;
  std::optional<Quarantine> quarantine_;
  std::string remote_backend_;
  MemoryListingStage stage_;
  std::size_t lookups_ = 0;
};

}  // namespace agendasync::sync
