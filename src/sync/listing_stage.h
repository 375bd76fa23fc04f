#pragma once
/// Where a paged full listing (first sync, resync after an invalid cursor) parks the items it
/// read, so that memory stays bounded by a page and a batch, not by the calendar (issue 14):
/// matching an item needs the other side's items, and those live here, indexed, until the
/// batch that plans them. Implementations: in memory (MemorySyncState, tests) and SQLite
/// (src/store/sync_state, the sync-state database). Lookups must be indexed: a first sync of
/// n items does O(n) of them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/calendar_side.h"
#include "core/error.h"
#include "sync/side.h"

namespace agendasync::sync {

/// One listed item and what matching needs to know about it.
struct StagedItem {
  SideItem item;
  std::int64_t seq = 0;  ///< listing order on its side (put() assigns it)
  /// R20 match key (core match_key); empty when the item may not be matched by it.
  std::string match_key;
  /// derive_key(pair, side, ref): the key an item the sync created from this one carries.
  IdempotencyKey own_key;
  /// Belongs to a link (by its ref, or by the link key it carries): never matched anew.
  bool linked = false;
  /// The other side's item it matches by idempotency key (R27), found while staging.
  std::optional<ItemRef> partner;
  /// Planned by an earlier batch of this run (or claimed by one as an R20 partner).
  bool done = false;
};

class ListingStage {
 public:
  virtual ~ListingStage() = default;

  /// Forgets every staged item of the pair (before and after a full listing; a killed run
  /// leaves its items, the next full listing clears them).
  virtual Result<void> clear() = 0;
  /// Adds items of `side`; their seq continues the side's listing order. An item staged
  /// again replaces the earlier copy.
  virtual Result<void> put(Side side, std::span<const StagedItem> items) = 0;
  virtual Result<std::size_t> count(Side side) = 0;
  virtual Result<std::optional<StagedItem>> by_ref(Side side, const ItemRef& ref) = 0;
  /// Whether `ref` was listed on `side` (by_ref without reading the item back).
  virtual Result<bool> listed(Side side, const ItemRef& ref) = 0;
  /// The first unlinked item of `side` whose own_key is `key` (its partner carries `key`).
  virtual Result<std::optional<StagedItem>> by_own_key(Side side, const IdempotencyKey& key) = 0;
  /// The first item of `side` that carries `key` (SideItem::idempotency_key), linked or not.
  virtual Result<std::optional<StagedItem>> carrying(Side side, const IdempotencyKey& key) = 0;
  /// R20: the first item of `side` in listing order with `match_key` that is not linked, has
  /// no partner by key and is not done.
  virtual Result<std::optional<StagedItem>> first_free(Side side, const std::string& match_key) = 0;
  /// Up to `limit` items of `side` that are not done, with seq > `after`, in listing order.
  virtual Result<std::vector<StagedItem>> next_batch(Side side, std::int64_t after,
                                                     std::size_t limit) = 0;
  /// Records that `ref` on `side` matches `partner` on the other side by key.
  virtual Result<void> set_partner(Side side, const ItemRef& ref, const ItemRef& partner) = 0;
  virtual Result<void> mark_done(Side side, std::span<const ItemRef> refs) = 0;
  /// Makes every item not done again: the run that counted a plan now executes it.
  virtual Result<void> rewind() = 0;
};

}  // namespace agendasync::sync
