#pragma once
/// "Why did this appointment change?" (R32): the engine's audit records of one host
/// appointment, for GET /api/v1/appointments/{id}/audit.
#include <filesystem>
#include <functional>
#include <vector>

#include "core/error.h"
#include "store/agenda_store.h"
#include "sync/audit.h"

namespace agendasync::service {

/// The audit records that concern host appointment `id`, oldest first.
using AuditLookup = std::function<Result<std::vector<sync::AuditRecord>>(store::AppointmentId id)>;

/// Reads the engine's SQLite audit trail at `state_path` (the sync state file): the links the
/// appointment had on the host side, then every record of those links (both sides).
AuditLookup sqlite_audit_lookup(std::filesystem::path state_path);

}  // namespace agendasync::service
