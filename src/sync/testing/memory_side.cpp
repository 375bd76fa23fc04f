#include "sync/testing/memory_side.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_set>

namespace agendasync::sync::testing {

MemorySide::MemorySide(std::string name, ManualClock& clock, bool strips_host_fields,
                       std::size_t page_size, std::uint64_t seed)
    : name_(std::move(name)),
      clock_(clock),
      strips_host_fields_(strips_host_fields),
      page_size_(std::max<std::size_t>(page_size, 1)),
      rng_(seed) {}

bool MemorySide::roll(double rate) {
  return rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < rate;
}

Result<void> MemorySide::read_fault(const char* what) {
  if (faults_.fail_read_after >= 0 && faults_.fail_read_after-- == 0) {
    return fail(ErrorKind::kTransient,
                fmt::format("{}: injected failure part-way through a read ({})", name_, what));
  }
  if (faults_.fail_reads > 0 || roll(faults_.read_failure_rate)) {
    if (faults_.fail_reads > 0) --faults_.fail_reads;
    return fail(ErrorKind::kTransient, fmt::format("{}: injected read failure in {}", name_, what));
  }
  return {};
}

void MemorySide::record_change(const ItemRef& ref) { log_.push_back(ref); }

Appointment MemorySide::stored_form(Appointment item) const {
  if (strips_host_fields_) {
    item.activity_type.clear();
    item.project_task = false;
    item.owner.clear();
    item.participants.clear();
  }
  return item;
}

Result<ChangeBatch> MemorySide::changes_since(const Cursor& cursor) {
  ++calls_.changes_since;
  if (auto fault = read_fault("changes_since"); !fault) return std::unexpected(fault.error());
  const auto position = [&](std::size_t seq) { return Cursor(fmt::format("{}:{}", epoch_, seq)); };
  if (cursor.empty()) return ChangeBatch{{}, {}, position(log_.size()), true};
  std::uint64_t epoch = 0;
  std::size_t seq = 0;
  const std::string& text = cursor.str();
  const auto colon = text.find(':');
  const bool parsed =
      colon != std::string::npos &&
      std::from_chars(text.data(), text.data() + colon, epoch).ec == std::errc{} &&
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), seq).ec == std::errc{};
  if (!parsed || epoch != epoch_ || seq > log_.size()) {
    return fail(ErrorKind::kCursorInvalid,
                fmt::format("{}: the sync cursor is no longer valid; a full resync follows", name_),
                "ErrorInvalidSyncStateData");
  }
  ChangeBatch batch;
  const std::size_t end = std::min(log_.size(), seq + page_size_);
  std::unordered_set<ItemRef> seen;
  for (std::size_t i = seq; i < end; ++i) {
    const ItemRef& ref = log_[i];
    if (!seen.insert(ref).second) continue;
    auto item = items_.find(ref);
    if (item == items_.end()) {
      batch.deleted.push_back(ref);
      continue;
    }
    batch.changed.push_back(ref);
    if (feed_versions_) batch.changed_versions.push_back(item->second.item.version);
  }
  batch.next = position(end);
  batch.complete = end == log_.size();
  return batch;
}

Result<std::pair<std::vector<SideItem>, Cursor>> MemorySide::list(const TimeWindow& window) {
  ++calls_.list;
  if (auto fault = read_fault("list"); !fault) return std::unexpected(fault.error());
  std::vector<SideItem> listed;
  if (!faults_.list_empty) {
    for (const auto& [ref, stored] : items_) {
      const Appointment& item = stored.item.item;
      // Series are listed whole: the engine decides about their occurrences.
      if (item.recurrence || (item.end > window.from && item.start < window.to)) {
        listed.push_back(stored.item);
      }
    }
  }
  return std::pair{std::move(listed), Cursor(fmt::format("{}:{}", epoch_, log_.size()))};
}

Result<Cursor> MemorySide::list_paged(const TimeWindow& window, const ListPage& on_page) {
  auto listing = list(window);
  if (!listing) return std::unexpected(listing.error());
  std::vector<SideItem> page;
  for (auto& item : listing->first) {
    page.push_back(std::move(item));
    if (page.size() >= std::max<std::size_t>(1, page_size_)) {
      if (auto taken = on_page(std::move(page)); !taken) return std::unexpected(taken.error());
      page.clear();
    }
  }
  if (!page.empty()) {
    if (auto taken = on_page(std::move(page)); !taken) return std::unexpected(taken.error());
  }
  return listing->second;
}

Result<std::vector<SideItem>> MemorySide::fetch(std::span<const ItemRef> refs) {
  ++calls_.fetch;
  if (auto fault = read_fault("fetch"); !fault) return std::unexpected(fault.error());
  std::vector<SideItem> found;
  for (const auto& ref : refs) {
    if (faults_.unreadable.contains(ref)) {
      return fail(ErrorKind::kTransient,
                  fmt::format("{}: item {} could not be read (injected)", name_, ref.str()));
    }
    if (auto it = items_.find(ref); it != items_.end()) found.push_back(it->second.item);
  }
  calls_.fetched_items += found.size();
  return found;
}

Result<std::optional<SideItem>> MemorySide::find_by_key(const IdempotencyKey& key) {
  ++calls_.find_by_key;
  if (auto fault = read_fault("find_by_key"); !fault) return std::unexpected(fault.error());
  auto found = by_key_.find(key);
  if (found == by_key_.end() || found->second.empty()) return std::nullopt;
  return items_.at(*found->second.begin()).item;
}

Result<std::map<IdempotencyKey, SideItem>> MemorySide::find_by_keys(
    std::span<const IdempotencyKey> keys) {
  ++calls_.find_by_keys;
  if (auto fault = read_fault("find_by_keys"); !fault) return std::unexpected(fault.error());
  std::map<IdempotencyKey, SideItem> found;
  for (const IdempotencyKey& key : keys) {
    auto it = by_key_.find(key);
    if (it != by_key_.end() && !it->second.empty()) {
      found.emplace(key, items_.at(*it->second.begin()).item);
    }
  }
  return found;
}

void MemorySide::take_items_of(const MemorySide& other) {
  for (const auto& [old_ref, stored] : other.items_) {
    Stored copy = stored;
    copy.item.ref = ItemRef(fmt::format("{}-{}", name_, ++next_ref_));
    copy.item.version = next_version();
    if (copy.item.idempotency_key) by_key_[*copy.item.idempotency_key].insert(copy.item.ref);
    items_[copy.item.ref] = copy;
    record_change(copy.item.ref);
  }
}

void MemorySide::stamp(SideItem& item, const IdempotencyKey& key) {
  if (item.idempotency_key) by_key_[*item.idempotency_key].erase(item.ref);
  item.idempotency_key = key;
  by_key_[key].insert(item.ref);
}

Result<SideItem> MemorySide::apply_one(const Write& write) {
  switch (write.op) {
    case WriteOp::kCreate: {
      const ItemRef ref(fmt::format("{}-{}", name_, ++next_ref_));
      Stored stored{
          SideItem{ref, next_version(), write.key, stored_form(write.item), clock_.tick()}};
      if (write.key.empty()) stored.item.idempotency_key.reset();
      if (stored.item.idempotency_key) by_key_[write.key].insert(ref);
      items_[ref] = stored;
      record_change(ref);
      return stored.item;
    }
    case WriteOp::kUpdate: {
      auto found = items_.find(write.ref);
      if (found == items_.end()) {
        return fail(ErrorKind::kNotFound, fmt::format("{}: no item {}", name_, write.ref.str()));
      }
      if (found->second.item.version != write.expected) {
        return fail(ErrorKind::kConflict,
                    fmt::format("{}: item {} changed since it was read", name_, write.ref.str()),
                    "ErrorIrresolvableConflict");
      }
      found->second.item.item = stored_form(write.item);
      found->second.item.version = next_version();
      found->second.item.last_modified = clock_.tick();
      if (!write.key.empty()) stamp(found->second.item, write.key);
      record_change(write.ref);
      return found->second.item;
    }
    case WriteOp::kStampKey: {
      // Like Exchange: the key is an extended property; the content stays as it is, but the
      // item's version (ChangeKey) moves and the change feed reports it.
      auto found = items_.find(write.ref);
      if (found == items_.end()) {
        return fail(ErrorKind::kNotFound, fmt::format("{}: no item {}", name_, write.ref.str()));
      }
      if (found->second.item.version != write.expected) {
        return fail(ErrorKind::kConflict,
                    fmt::format("{}: item {} changed since it was read", name_, write.ref.str()),
                    "ErrorIrresolvableConflict");
      }
      stamp(found->second.item, write.key);
      found->second.item.version = next_version();
      record_change(write.ref);
      return found->second.item;
    }
    case WriteOp::kDelete: {
      auto found = items_.find(write.ref);
      if (found == items_.end()) {
        return fail(ErrorKind::kNotFound, fmt::format("{}: no item {}", name_, write.ref.str()));
      }
      SideItem gone = found->second.item;
      user_delete(write.ref);
      return gone;
    }
  }
  return fail(ErrorKind::kInvalidData, "unknown write");
}

std::vector<WriteResult> MemorySide::apply(std::span<const Write> writes) {
  ++calls_.apply;
  std::vector<WriteResult> results;
  for (const auto& write : writes) {
    ++calls_.writes;
    if (write.send_invitations) ++calls_.invitations;
    if (faults_.fail_writes > 0 || roll(faults_.write_failure_rate)) {
      if (faults_.fail_writes > 0) --faults_.fail_writes;
      results.push_back(
          {fail(ErrorKind::kTransient, fmt::format("{}: injected write failure", name_))});
      continue;
    }
    auto outcome = apply_one(write);
    if (outcome && faults_.after_write) faults_.after_write();
    if (outcome && (faults_.lose_write_replies > 0 || roll(faults_.lost_reply_rate))) {
      if (faults_.lose_write_replies > 0) --faults_.lose_write_replies;
      results.push_back(
          {fail(ErrorKind::kTransient,
                fmt::format("{}: connection lost after the write (injected)", name_))});
      continue;
    }
    results.push_back({std::move(outcome)});
  }
  return results;
}

ItemRef MemorySide::user_create(Appointment item) {
  const ItemRef ref(fmt::format("{}-{}", name_, ++next_ref_));
  items_[ref] = Stored{
      SideItem{ref, next_version(), std::nullopt, stored_form(std::move(item)), clock_.tick()}};
  record_change(ref);
  return ref;
}

Result<void> MemorySide::user_edit(const ItemRef& ref,
                                   const std::function<void(Appointment&)>& edit) {
  auto found = items_.find(ref);
  if (found == items_.end()) {
    return fail(ErrorKind::kNotFound, fmt::format("{}: no item {}", name_, ref.str()));
  }
  edit(found->second.item.item);
  found->second.item.item = stored_form(found->second.item.item);
  found->second.item.version = next_version();
  found->second.item.last_modified = clock_.tick();
  record_change(ref);
  return {};
}

bool MemorySide::user_delete(const ItemRef& ref) {
  auto found = items_.find(ref);
  if (found == items_.end()) return false;
  if (const auto& key = found->second.item.idempotency_key) by_key_[*key].erase(ref);
  items_.erase(found);
  record_change(ref);
  return true;
}

std::optional<ItemRef> MemorySide::user_copy(const ItemRef& ref) {
  auto found = items_.find(ref);
  if (found == items_.end()) return std::nullopt;
  Stored copy = found->second;
  copy.item.ref = ItemRef(fmt::format("{}-{}", name_, ++next_ref_));
  copy.item.version = next_version();
  copy.item.last_modified = clock_.tick();
  if (copy.item.idempotency_key) by_key_[*copy.item.idempotency_key].insert(copy.item.ref);
  const ItemRef new_ref = copy.item.ref;
  items_[new_ref] = std::move(copy);
  record_change(new_ref);
  return new_ref;
}

void MemorySide::touch(const ItemRef& ref) {
  auto found = items_.find(ref);
  if (found == items_.end()) return;
  found->second.item.version = next_version();
  record_change(ref);
}

std::vector<SideItem> MemorySide::items() const {
  std::vector<SideItem> all;
  for (const auto& [ref, stored] : items_) all.push_back(stored.item);
  return all;
}

std::optional<SideItem> MemorySide::get(const ItemRef& ref) const {
  auto found = items_.find(ref);
  if (found == items_.end()) return std::nullopt;
  return found->second.item;
}

}  // namespace agendasync::sync::testing
