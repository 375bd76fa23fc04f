#pragma once
/// The plan of one cycle as plain values (STYLE.md "Plan is data"): the planner is a pure
/// function from the status and what each side reported to a list of operations; the
/// executor applies them; --dry-run prints them (R37). See README.md for the decision table.
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "core/appointment.h"
#include "core/calendar_side.h"
#include "core/settings.h"
#include "sync/link_record.h"
#include "sync/policies.h"

namespace agendasync::sync {

/// Create `item` on `target`, stamped with `link` as its idempotency key. On success the
/// executor records `pending` with the new item's ref/version on `target`.
struct CreateOp {
  Side target = Side::kRemote;
  IdempotencyKey link;
  Appointment item;
  LinkRecord pending;
  /// R15: an item from Exchange under one-way-from-Exchange is shown read-only in the host.
  bool read_only = false;
  /// R39: whether the write may invite attendees. Always false unless the
  /// `send_invitations` setting asks for real meetings; connectors write with SendToNone.
  bool send_invitations = false;
  std::string rule;
};

/// Replace the item `ref` on `target` by `item` (a full item; `previous` lets a connector
/// send only the changed fields).
struct UpdateOp {
  Side target = Side::kRemote;
  IdempotencyKey link;
  ItemRef ref;
  VersionTag expected;
  Appointment item;
  Appointment previous;
  bool send_invitations = false;  ///< R39, as in CreateOp
  /// R41: the item does not carry the link's key yet; the update writes it too (one write
  /// instead of an update and a StampKeyOp racing on the same version).
  bool stamp_key = false;
  std::string rule;
};

struct DeleteOp {
  Side target = Side::kRemote;
  IdempotencyKey link;
  ItemRef ref;
  VersionTag expected;
  Appointment previous;
  std::string rule;
};

/// Write the link's key on an item the sync did not create (an Outlook item, a first-sync
/// match), so that it can be found by its key on another backend (R41). Only the key is
/// written, never what the user sees; the executor records the item's new version. A failed
/// stamp is reported but does not keep the link from being recorded.
struct StampKeyOp {
  Side target = Side::kRemote;
  IdempotencyKey link;
  ItemRef ref;
  VersionTag expected;
  Appointment item;  ///< as last read; returned with the new version
  std::string rule;
};

/// Record `record` in the status once every write of its link succeeded (the executor fills
/// in the refs/versions the writes returned). `is_new` for a fresh link (R20 match, R27).
struct LinkOp {
  LinkRecord record;
  bool is_new = false;
  std::string rule;
};

/// Both sides changed the same fields: recorded for the summary and the audit trail; the
/// merged item travels in the link's UpdateOps.
struct ResolveConflictOp {
  IdempotencyKey link;
  std::vector<std::string> fields;
  Side winner = Side::kHost;
  ConflictPolicy policy = ConflictPolicy::kNewestWins;
  std::string rule;
};

/// Drop the link from the status (both deleted, or deleted on one side and propagated).
struct ForgetOp {
  IdempotencyKey link;
  std::string rule;
};

using Operation =
    std::variant<CreateOp, UpdateOp, DeleteOp, StampKeyOp, LinkOp, ResolveConflictOp, ForgetOp>;

struct Plan {
  std::vector<Operation> operations;
  /// Items seen but deliberately left alone, with the rule that says so (dry-run output).
  std::vector<std::string> skipped;
};

/// The link an operation belongs to (every operation belongs to exactly one).
const IdempotencyKey& link_of(const Operation& operation);

/// An item as a side reported it this cycle (its `last_modified` drives newest-wins, R24).
struct Observed {
  SideItem item;
};

/// What one side reported this cycle.
struct SideReport {
  /// Items changed since the cursor (incremental) or every listed item (full listing).
  std::vector<Observed> items;
  /// Deletions reported by the change feed, or linked items a full listing proved gone.
  std::vector<ItemRef> deleted;
  /// Refs known to exist although not in `items` (copy detection; see plan.cpp).
  std::unordered_set<ItemRef> existing;
};

struct PlanInput {
  PerSide<SideReport> reports;
  /// Every link an observation refers to, by ref or by idempotency key (the engine looks
  /// them up; the planner never sees the rest of the status).
  std::vector<LinkRecord> links;
  /// Full listing (first sync, resync): unlinked old items are skipped per R21.
  bool full_listing = false;
  Instant now{};
};

struct PlanPolicy {
  std::string pair_id;
  std::string host_user;  ///< owner of items the sync creates on the host
  SyncDirection direction = SyncDirection::kTwoWay;
  ConflictPolicy conflict_policy = ConflictPolicy::kNewestWins;
  DeletedInExchange deleted_in_exchange = DeletedInExchange::kRecreate;
  ActivityTypePolicy activity_types;
  std::chrono::days skip_ended_after{30};
  bool send_invitations = false;
  /// R41: stamp the link's key on remote items that do not carry it (Outlook items, R20
  /// matches), so a mailbox that moves to another backend is re-linked by key. Off under
  /// from-Exchange, where the sync writes nothing to Exchange (the app may hold read rights
  /// only); such pairs are re-linked by the R20 match instead.
  bool stamp_keys = true;
};

/// The pure planner. Deterministic: equal inputs give equal plans.
Plan make_plan(const PlanInput& input, const PlanPolicy& policy);

/// Whether an unlinked item of `side` may be paired by the R20 match key. A host item that
/// may not go to Exchange (R16) is not paired with one either, unless Exchange is the source
/// (from-Exchange), where pairing avoids a duplicate in the host. The planner and the paged
/// full listing (which matches across batches) share this rule.
bool r20_matchable(const PlanPolicy& policy, Side side, const Appointment& item);

}  // namespace agendasync::sync
