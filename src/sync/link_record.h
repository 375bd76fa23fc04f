#pragma once
/// The engine's memory of a pair: one LinkRecord per linked item, the journal of intended
/// writes (R28), and the per-side cursors. Plain values; SyncState stores them.
#include <optional>
#include <string>
#include <vector>

#include "core/appointment.h"
#include "core/calendar_side.h"
#include "core/strong_id.h"
#include "sync/side.h"

namespace agendasync::sync {

/// What the engine last agreed on with one side about one item.
struct SideState {
  ItemRef ref;         ///< empty: the item is gone on this side and left deleted (R25)
  VersionTag version;  ///< the version we last saw or wrote
  std::string hash;    ///< item_fingerprint() of that version
  /// What this side holds when it differs from the base: a write to it failed while the
  /// other side's succeeded. The next merge rebases this side's edits onto the base instead
  /// of mistaking "not received yet" for "changed back".
  std::optional<Appointment> held;
  /// The ref is unknown because the pair changed backend (a mailbox moved from Exchange
  /// Server to Exchange Online, R41): the item is to be found again by the link's key. `ref`
  /// is empty then, but unlike an R25 tombstone the item is not known to be gone.
  bool refind = false;
  bool operator==(const SideState&) const = default;
};

/// A side's state once its backend changed (R41): the ref, version and held content belong
/// to the old backend; the hash stays, so an item found again with the same content is only
/// touched, not changed. An R25 tombstone (empty ref, not `refind`) stays a tombstone.
inline SideState forget_remote(const SideState& state) {
  if (state.ref.empty() && !state.refind) return state;
  SideState forgotten;
  forgotten.hash = state.hash;
  forgotten.refind = true;
  return forgotten;
}

/// One linked item: both refs, both versions, both hashes, and the base (the item both sides
/// agreed on at the last sync, the reference of the three-way merge).
struct LinkRecord {
  /// The link's identity; equal to the idempotency key stamped on the item when the sync
  /// created it on one side (`created_on`).
  IdempotencyKey key;
  PerSide<SideState> sides;
  Appointment base;
  /// Set when the sync created the item on that side (R40 offboarding removes only those).
  std::optional<Side> created_on;
  bool operator==(const LinkRecord& other) const {
    return key == other.key && sides.values == other.sides.values && base == other.base &&
           created_on == other.created_on;
  }
};

/// An intended write, committed before the write is sent (R28). Resolved (removed) in the
/// same transaction that records the write's outcome in the status.
struct JournalEntry {
  IdempotencyKey key;  ///< link key; for creates also the key stamped on the new item
  Side target = Side::kRemote;
  WriteOp op = WriteOp::kCreate;
  ItemRef target_ref;  ///< update/delete
  /// Create: the link to record when recovery finds the item by its key (the target side's
  /// state is filled from what recovery finds).
  LinkRecord pending_link;
  std::string run_id;
  /// Update: what the target held before, for a write whose outcome is unknown (a lost
  /// reply). `pending_link` then is the link as it would be with every write of the run.
  std::optional<Appointment> previous;
};

/// A set of status changes committed atomically after the writes of a cycle.
struct StateDelta {
  std::vector<LinkRecord> upsert;
  std::vector<IdempotencyKey> remove;
  /// Links whose journal entries (all targets) are resolved.
  std::vector<IdempotencyKey> journal_done;
  PerSide<std::optional<Cursor>> cursors;
  /// The run went through an approved quarantine: lift it.
  bool clear_quarantine = false;
  bool empty() const {
    return upsert.empty() && remove.empty() && journal_done.empty() && !cursors[Side::kHost] &&
           !cursors[Side::kRemote] && !clear_quarantine;
  }
};

/// A pair stopped by the circuit breaker or waiting for first-sync approval (R38).
struct Quarantine {
  std::string reason;
  bool approved = false;  ///< an admin approved; the next run may go through once
  bool operator==(const Quarantine&) const = default;
};

}  // namespace agendasync::sync
