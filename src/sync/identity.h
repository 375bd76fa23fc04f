#pragma once
/// How the engine recognises items: the idempotency key it stamps on what it creates, and
/// the fingerprint it compares to tell a real change from an echo or a flaky version tag.
#include <string>
#include <string_view>

#include "core/appointment.h"
#include "core/strong_id.h"
#include "sync/side.h"

namespace agendasync::sync {

/// The key for the item the sync creates from `source_ref` on `source`'s side, within pair
/// `pair_id`. Deterministic, so a crashed create is found again even without the journal
/// (R28), and a resync can match "our" items by key before anything else (R27).
IdempotencyKey derive_key(std::string_view pair_id, Side source, const ItemRef& source_ref);

/// True for keys this engine makes ("as1-..."): a copied item carries ours too (see plan).
bool is_our_key(const IdempotencyKey& key);

/// What "content changed" means on `side`: core content_hash of the synced fields, plus on
/// the host the host-only fields the policies read (activity type, project task, owner,
/// participants), so a changed activity type re-runs the R16 filter.
std::string item_fingerprint(Side side, const Appointment& item);

/// The item as the remote holds it: host-only fields cleared.
Appointment without_host_fields(Appointment item);

}  // namespace agendasync::sync
