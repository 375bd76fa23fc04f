#pragma once
/// "Why did this appointment change?" (R32): the engine's audit records of one host
/// appointment, for GET /api/v1/appointments/{id}/audit.
#include <filesystem>
#include <functional>
#include <vector>

#include "core/error.h"
#include "store/agenda_store.h"
#include "store/pg_connection.h"
#include "sync/audit.h"

namespace agendasync::service {

/// The audit records that concern host appointment `id`, oldest first.
using AuditLookup = std::function<Result<std::vector<sync::AuditRecord>>(store::AppointmentId id)>;

/// Reads the engine's SQLite audit trail at `state_path` (the sync state file): the links the
/// appointment had on the host side, then every record of those links (both sides).
AuditLookup sqlite_audit_lookup(std::filesystem::path state_path);

/// The same from an organisation's schema on PostgreSQL (`target`), on a connection of its
/// own opened at the first lookup.
AuditLookup pg_audit_lookup(store::pg::Target target);

}  // namespace agendasync::service
