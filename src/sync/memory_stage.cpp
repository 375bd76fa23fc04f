#include "sync/memory_stage.h"

#include <algorithm>

namespace agendasync::sync {

template <class Predicate>
std::optional<StagedItem> MemoryListingStage::first(Side side, Predicate wanted) const {
  const StagedItem* best = nullptr;
  for (const auto& [ref, staged] : items_[side]) {
    if (wanted(staged) && (!best || staged.seq < best->seq)) best = &staged;
  }
  if (!best) return std::nullopt;
  return *best;
}

Result<void> MemoryListingStage::clear() {
  items_ = {};
  next_seq_ = 0;
  return {};
}

Result<void> MemoryListingStage::put(Side side, std::span<const StagedItem> items) {
  for (const auto& item : items) {
    StagedItem staged = item;
    staged.seq = ++next_seq_;
    items_[side].insert_or_assign(staged.item.ref, std::move(staged));
  }
  return {};
}

Result<std::size_t> MemoryListingStage::count(Side side) { return items_[side].size(); }

Result<std::optional<StagedItem>> MemoryListingStage::by_ref(Side side, const ItemRef& ref) {
  auto found = items_[side].find(ref);
  if (found == items_[side].end()) return std::nullopt;
  return found->second;
}

Result<bool> MemoryListingStage::listed(Side side, const ItemRef& ref) {
  return items_[side].contains(ref);
}

Result<std::optional<StagedItem>> MemoryListingStage::by_own_key(Side side,
                                                                 const IdempotencyKey& key) {
  return first(side, [&](const StagedItem& s) { return !s.linked && s.own_key == key; });
}

Result<std::optional<StagedItem>> MemoryListingStage::carrying(Side side,
                                                               const IdempotencyKey& key) {
  return first(side, [&](const StagedItem& s) { return s.item.idempotency_key == key; });
}

Result<std::optional<StagedItem>> MemoryListingStage::first_free(Side side,
                                                                 const std::string& match_key) {
  return first(side, [&](const StagedItem& s) {
    return !s.linked && !s.partner && !s.done && s.match_key == match_key;
  });
}

Result<std::vector<StagedItem>> MemoryListingStage::next_batch(Side side, std::int64_t after,
                                                               std::size_t limit) {
  std::vector<StagedItem> batch;
  for (const auto& [ref, staged] : items_[side]) {
    if (!staged.done && staged.seq > after) batch.push_back(staged);
  }
  std::sort(batch.begin(), batch.end(),
            [](const StagedItem& a, const StagedItem& b) { return a.seq < b.seq; });
  if (batch.size() > limit) batch.resize(limit);
  return batch;
}

Result<void> MemoryListingStage::set_partner(Side side, const ItemRef& ref,
                                             const ItemRef& partner) {
  if (auto found = items_[side].find(ref); found != items_[side].end()) {
    found->second.partner = partner;
  }
  return {};
}

Result<void> MemoryListingStage::mark_done(Side side, std::span<const ItemRef> refs) {
  for (const auto& ref : refs) {
    if (auto found = items_[side].find(ref); found != items_[side].end()) {
      found->second.done = true;
    }
  }
  return {};
}

Result<void> MemoryListingStage::rewind() {
  for (Side side : kBothSides) {
    for (auto& [ref, staged] : items_[side]) staged.done = false;
  }
  return {};
}

}  // namespace agendasync::sync
