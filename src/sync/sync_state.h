#pragma once
/// The persistence the engine needs for one pair. Implementations: MemorySyncState (tests,
/// below) and the SQLite store in src/store/sync_state/. Lookups by ref and key must be
/// indexed: an incremental cycle does O(changes) lookups, never a scan (cost rule).
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "sync/link_record.h"
#include "sync/listing_stage.h"

namespace agendasync::sync {

class SyncState {
 public:
  virtual ~SyncState() = default;

  virtual Result<std::optional<LinkRecord>> find_link_by_ref(Side side, const ItemRef& ref) = 0;
  virtual Result<std::optional<LinkRecord>> find_link_by_key(const IdempotencyKey& key) = 0;
  /// What an echo check needs of the link holding `ref` on `side`, without reading its items
  /// (the base and held documents are most of a lookup's cost): that side's version, and
  /// whether a side holds content a failed write left. nullopt: not linked.
  struct Glance {
    VersionTag version;
    bool held = false;
  };
  virtual Result<std::optional<Glance>> glance_by_ref(Side side, const ItemRef& ref) = 0;
  /// Every link: full resync, offboarding. O(n) by nature.
  virtual Result<std::vector<LinkRecord>> all_links() = 0;
  virtual Result<std::size_t> link_count() = 0;
  /// Up to `limit` links whose keys sort after `after` (empty: from the first), in key order:
  /// a paged full listing walks the links a page at a time instead of holding them all.
  virtual Result<std::vector<LinkRecord>> links_after(const IdempotencyKey& after,
                                                      std::size_t limit) = 0;
  /// The scratch space of a paged full listing (listing_stage.h), in the same store.
  virtual ListingStage& listing_stage() = 0;

  /// Empty cursor: never synced (or reset).
  virtual Result<Cursor> cursor(Side side) = 0;

  /// Durably records intended writes before they are sent (R28).
  virtual Result<void> journal(std::span<const JournalEntry> entries) = 0;
  virtual Result<std::vector<JournalEntry>> pending_journal() = 0;

  /// Applies `delta` atomically: all of it or nothing.
  virtual Result<void> commit(const StateDelta& delta) = 0;

  virtual Result<std::optional<Quarantine>> quarantine() = 0;
  /// Stops the pair until approve() (R38). Keeps an existing reason's approval reset.
  virtual Result<void> set_quarantine(const std::string& reason) = 0;
  /// `agendasync approve`: lets the next run through the breaker once. kNotFound when the
  /// pair is not quarantined.
  virtual Result<void> approve() = 0;

  /// Which backend the pair's remote refs and cursor belong to ("ews", "graph"); empty when
  /// never recorded (a pair from before R41, or never synced).
  virtual Result<std::string> remote_backend() = 0;
  /// Records `backend` as the remote's backend. When another one was recorded, atomically
  /// also: the remote cursor is dropped (the next run lists in full) and every link's remote
  /// side becomes `refind` (empty ref, version and held content; hash kept), so the first
  /// listing on the new backend finds each item again by the key it carries (R41). Host
  /// refs, bases and `created_on` are kept. Pending journal entries aimed at the remote are
  /// dropped: their refs name items of the old backend.
  virtual Result<void> switch_remote_backend(const std::string& backend) = 0;

  /// Forgets everything about the pair (after offboarding, R40).
  virtual Result<void> clear() = 0;
};

}  // namespace agendasync::sync
