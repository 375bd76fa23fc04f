#pragma once
/// An in-memory CalendarSide for tests and benchmarks of any layer: a change log as cursor,
/// paging, idempotency keys, optimistic concurrency, and fault injection (failing reads,
/// partial reads, failing writes, lost write replies, flaky version tags, invalid cursors,
/// an empty listing). Not thread-safe; deterministic for a given seed.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/calendar_side.h"

namespace agendasync::sync::testing {

/// A logical clock shared by both sides of a test, so modification times compare (R24).
struct ManualClock {
  Instant now{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};
  Instant tick() { return now += std::chrono::seconds(1); }
};

/// Faults the next calls meet. Counters count down as they fire; rates draw from the seed.
struct Faults {
  int fail_reads = 0;          ///< the next N read calls fail (kTransient)
  int fail_read_after = -1;    ///< >= 0: that many reads succeed, then one fails (partial read)
  int fail_writes = 0;         ///< the next N writes fail without landing (kTransient)
  int lose_write_replies = 0;  ///< the next N writes land but report kTransient
  double read_failure_rate = 0;
  double write_failure_rate = 0;
  double lost_reply_rate = 0;
  bool list_empty = false;       ///< list() answers nothing (a broken backend, R38)
  std::set<ItemRef> unreadable;  ///< fetch() of these fails (an unreadable occurrence, R38)
  /// Called after each write landed, before its reply: a test throws from it to simulate a
  /// kill in the middle of a batch.
  std::function<void()> after_write;
};

/// Call counters, for "afterwards only changes" (R22) and cost assertions.
struct SideCalls {
  std::size_t changes_since = 0, list = 0, fetch = 0, fetched_items = 0, find_by_key = 0, apply = 0,
              writes = 0;
  std::size_t find_by_keys = 0;  ///< batched key lookups (one call, many keys)
  std::size_t invitations = 0;   ///< writes that asked to send meeting mail (R39)
};

class MemorySide final : public CalendarSide {
 public:
  /// `strips_host_fields`: behave like Exchange, which has no activity type or owner.
  MemorySide(std::string name, ManualClock& clock, bool strips_host_fields,
             std::size_t page_size = 100, std::uint64_t seed = 1);

  // CalendarSide
  std::string describe() const override { return name_; }
  Result<ChangeBatch> changes_since(const Cursor& cursor) override;
  Result<std::pair<std::vector<SideItem>, Cursor>> list(const TimeWindow& window) override;
  /// list() handed over in pages of `page_size`, as connectors page their listings.
  Result<Cursor> list_paged(const TimeWindow& window, const ListPage& on_page) override;
  Result<std::vector<SideItem>> fetch(std::span<const ItemRef> refs) override;
  Result<std::optional<SideItem>> find_by_key(const IdempotencyKey& key) override;
  /// One call, one fault roll, however many keys (as EWS's FindItem with an OR restriction).
  Result<std::map<IdempotencyKey, SideItem>> find_by_keys(
      std::span<const IdempotencyKey> keys) override;
  std::vector<WriteResult> apply(std::span<const Write> writes) override;

  // What a person does in their calendar (not through the engine).
  ItemRef user_create(Appointment item);
  /// kNotFound when `ref` does not exist.
  Result<void> user_edit(const ItemRef& ref, const std::function<void(Appointment&)>& edit);
  bool user_delete(const ItemRef& ref);
  /// A copy as Outlook makes it: new ref, same content, same extended properties (our key).
  std::optional<ItemRef> user_copy(const ItemRef& ref);
  /// A new version tag without a content change (flaky ChangeKeys/ETags).
  void touch(const ItemRef& ref);
  /// Forgets every cursor handed out (expired SyncState / delta token, R27).
  void invalidate_cursors() { ++epoch_; }
  /// Whether changes_since reports each changed item's version (EWS and the host do; a side
  /// whose feed does not makes the engine fetch to recognise its own writes).
  void set_feed_versions(bool on) { feed_versions_ = on; }

  // Inspection.
  /// R41 test hook: the same mailbox through another backend. Takes every item of `other`
  /// under a new ref of this side, with its content and idempotency key.
  void take_items_of(const MemorySide& other);
  std::vector<SideItem> items() const;
  std::optional<SideItem> get(const ItemRef& ref) const;
  std::size_t size() const { return items_.size(); }
  Faults& faults() { return faults_; }
  SideCalls& calls() { return calls_; }

 private:
  struct Stored {
    SideItem item;  ///< its last_modified ticks the shared clock on every change
  };

  Result<void> read_fault(const char* what);
  bool roll(double rate);
  void record_change(const ItemRef& ref);
  VersionTag next_version() { return VersionTag("v" + std::to_string(++versions_)); }
  Appointment stored_form(Appointment item) const;
  Result<SideItem> apply_one(const Write& write);
  /// Sets `key` as the item's idempotency key, keeping the key index right.
  void stamp(SideItem& item, const IdempotencyKey& key);

  std::string name_;
  ManualClock& clock_;
  bool strips_host_fields_;
  std::size_t page_size_;
  std::mt19937_64 rng_;
  std::map<ItemRef, Stored> items_;
  std::unordered_map<IdempotencyKey, std::set<ItemRef>> by_key_;
  std::vector<ItemRef> log_;  ///< one entry per change; a cursor is a position in it
  std::uint64_t epoch_ = 1;
  std::uint64_t next_ref_ = 0;
  std::uint64_t versions_ = 0;
  bool feed_versions_ = true;
  Faults faults_;
  SideCalls calls_;
};

}  // namespace agendasync::sync::testing
