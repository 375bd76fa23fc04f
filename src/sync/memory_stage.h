#pragma once
/// ListingStage in memory, for MemorySyncState (tests and the engine's own suites). Lookups
/// scan: the calendars of tests are small; the SQLite stage is the indexed one.
#include <map>

#include "sync/listing_stage.h"

namespace agendasync::sync {

class MemoryListingStage final : public ListingStage {
 public:
  Result<void> clear() override;
  Result<void> put(Side side, std::span<const StagedItem> items) override;
  Result<std::size_t> count(Side side) override;
  Result<std::optional<StagedItem>> by_ref(Side side, const ItemRef& ref) override;
  Result<bool> listed(Side side, const ItemRef& ref) override;
  Result<std::optional<StagedItem>> by_own_key(Side side, const IdempotencyKey& key) override;
  Result<std::optional<StagedItem>> carrying(Side side, const IdempotencyKey& key) override;
  Result<std::optional<StagedItem>> first_free(Side side, const std::string& match_key) override;
  Result<std::vector<StagedItem>> next_batch(Side side, std::int64_t after,
                                             std::size_t limit) override;
  Result<void> set_partner(Side side, const ItemRef& ref, const ItemRef& partner) override;
  Result<void> mark_done(Side side, std::span<const ItemRef> refs) override;
  Result<void> rewind() override;

 private:
  /// The first item of `side` in listing order that `wanted` accepts.
  template <class Predicate>
  std::optional<StagedItem> first(Side side, Predicate wanted) const;

  PerSide<std::map<ItemRef, StagedItem>> items_;
  std::int64_t next_seq_ = 0;
};

}  // namespace agendasync::sync
