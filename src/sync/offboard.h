#pragma once
/// R40 offboarding: when a user is blocked or removed, or turns sync off with "clean up",
/// remove from their remote calendar exactly the items the sync created there — never an
/// item the person made, even one the first sync linked (R20).
#include <cstddef>
#include <string>
#include <vector>

#include "core/calendar_side.h"
#include "sync/audit.h"
#include "sync/sync_state.h"

namespace agendasync::sync {

struct OffboardReport {
  std::size_t deleted = 0;
  std::size_t kept = 0;  ///< linked items the person made (or that lost our key): untouched
  std::vector<std::string> errors;
};

/// Deletes the remote items whose link says the sync created them and which still carry our
/// idempotency key, plus items of interrupted creates found by key; then clears the pair's
/// state when every deletion succeeded (else keeps it so the cleanup can be rerun).
Result<OffboardReport> offboard(CalendarSide& remote, SyncState& state, AuditSink& audit,
                                const std::string& pair_id, Instant now);

}  // namespace agendasync::sync
