#pragma once
/// Fencing across nodes (issue 17): how a write refused by a pair's lease epoch is recognised
/// wherever it surfaces (the app's status, the daemon's metrics), without knowing the store.
#include "core/error.h"

namespace agendasync {

/// The protocol_code of a write refused by fencing: the pair's lease passed to another node
/// while this run stalled, so nothing was written. Not the pair's failure: the node holding
/// the lease now syncs it, and its run is the pair's status.
inline constexpr const char* kLeaseLostCode = "lease-lost";
inline bool is_lease_lost(const Error& error) { return error.protocol_code == kLeaseLostCode; }

}  // namespace agendasync
