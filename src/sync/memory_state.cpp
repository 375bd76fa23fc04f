#include "sync/memory_state.h"

#include <algorithm>

namespace agendasync::sync {

Result<std::optional<LinkRecord>> MemorySyncState::find_link_by_ref(Side side, const ItemRef& ref) {
  ++lookups_;
  auto found = by_ref_[side].find(ref);
  if (found == by_ref_[side].end()) return std::nullopt;
  return links_.at(found->second);
}

Result<std::optional<SyncState::Glance>> MemorySyncState::glance_by_ref(Side side,
                                                                        const ItemRef& ref) {
  ++lookups_;
  auto found = by_ref_[side].find(ref);
  if (found == by_ref_[side].end()) return std::nullopt;
  const LinkRecord& link = links_.at(found->second);
  return Glance{link.sides[side].version, link.sides[Side::kHost].held.has_value() ||
                                              link.sides[Side::kRemote].held.has_value()};
}

Result<std::optional<LinkRecord>> MemorySyncState::find_link_by_key(const IdempotencyKey& key) {
  ++lookups_;
  auto found = links_.find(key);
  if (found == links_.end()) return std::nullopt;
  return found->second;
}

Result<std::vector<LinkRecord>> MemorySyncState::all_links() {
  std::vector<LinkRecord> all;
  all.reserve(links_.size());
  for (const auto& [key, link] : links_) all.push_back(link);
  return all;
}

Result<std::size_t> MemorySyncState::link_count() { return links_.size(); }

Result<std::vector<LinkRecord>> MemorySyncState::links_after(const IdempotencyKey& after,
                                                             std::size_t limit) {
  std::vector<const LinkRecord*> later;
  for (const auto& [key, link] : links_) {
    if (after.empty() || after < key) later.push_back(&link);
  }
  std::sort(later.begin(), later.end(),
            [](const LinkRecord* a, const LinkRecord* b) { return a->key < b->key; });
  std::vector<LinkRecord> page;
  for (std::size_t i = 0; i < later.size() && i < limit; ++i) page.push_back(*later[i]);
  return page;
}

Result<Cursor> MemorySyncState::cursor(Side side) { return cursors_[side]; }

Result<void> MemorySyncState::journal(std::span<const JournalEntry> entries) {
  for (const auto& entry : entries) journal_.emplace(entry.key, entry);
  return {};
}

Result<std::vector<JournalEntry>> MemorySyncState::pending_journal() {
  std::vector<JournalEntry> pending;
  for (const auto& [key, entry] : journal_) pending.push_back(entry);
  return pending;
}

void MemorySyncState::erase_link(const IdempotencyKey& key) {
  auto found = links_.find(key);
  if (found == links_.end()) return;
  for (Side side : kBothSides) {
    const ItemRef& ref = found->second.sides[side].ref;
    auto indexed = by_ref_[side].find(ref);
    if (!ref.empty() && indexed != by_ref_[side].end() && indexed->second == key) {
      by_ref_[side].erase(indexed);
    }
  }
  links_.erase(found);
}

Result<void> MemorySyncState::commit(const StateDelta& delta) {
  for (const auto& key : delta.remove) erase_link(key);
  for (const auto& link : delta.upsert) {
    erase_link(link.key);
    links_[link.key] = link;
    for (Side side : kBothSides) {
      if (!link.sides[side].ref.empty()) by_ref_[side][link.sides[side].ref] = link.key;
    }
  }
  for (const auto& key : delta.journal_done) journal_.erase(key);
  for (Side side : kBothSides) {
    if (delta.cursors[side]) cursors_[side] = *delta.cursors[side];
  }
  if (delta.clear_quarantine) quarantine_.reset();
  return {};
}

Result<std::optional<Quarantine>> MemorySyncState::quarantine() { return quarantine_; }

Result<void> MemorySyncState::set_quarantine(const std::string& reason) {
  quarantine_ = Quarantine{reason, false};
  return {};
}

Result<void> MemorySyncState::approve() {
  if (!quarantine_) {
    return fail(ErrorKind::kNotFound, "nothing to approve: the pair is not quarantined");
  }
  quarantine_->approved = true;
  return {};
}

Result<std::string> MemorySyncState::remote_backend() { return remote_backend_; }

Result<void> MemorySyncState::switch_remote_backend(const std::string& backend) {
  const bool switching = !remote_backend_.empty() && remote_backend_ != backend;
  remote_backend_ = backend;
  if (!switching) return {};
  // Old refs name items of the other backend: find them again by key (sync_state.h).
  by_ref_[Side::kRemote].clear();
  for (auto& [key, link] : links_)
    link.sides[Side::kRemote] = forget_remote(link.sides[Side::kRemote]);
  std::erase_if(journal_, [](const auto& entry) {
    return entry.second.target == Side::kRemote && entry.second.op != WriteOp::kCreate;
  });
  cursors_[Side::kRemote] = Cursor();
  return {};
}

Result<void> MemorySyncState::clear() {
  remote_backend_.clear();
  links_.clear();
  by_ref_ = {};
  journal_.clear();
  cursors_ = {};
  quarantine_.reset();
  return {};
}

}  // namespace agendasync::sync
