#pragma once
/// The fields of an appointment as the merge, the diff and the audit trail see them: one
/// table drives all three, so a field added to core::Appointment is added here once.
#include <span>
#include <string>
#include <vector>

#include "core/appointment.h"

namespace agendasync::sync {

struct FieldSpec {
  const char* name;
  bool (*equal)(const Appointment& a, const Appointment& b);
  void (*copy)(Appointment& to, const Appointment& from);
  std::string (*render)(const Appointment& item);
  /// Meaningful on the host only (activity type, owner, ...): never written to the remote,
  /// always taken from the host in a merge.
  bool host_only;
};

/// Every field, in a fixed order. "time" groups all_day/start/end/time_zone (a merge must
/// not combine one side's start with the other side's end); "recurrence" is merged by
/// occurrence, see merge.h.
std::span<const FieldSpec> appointment_fields();

/// One field that differs between two versions of an item (audit, dry-run).
struct FieldChange {
  std::string field;
  std::string before;
  std::string after;
};

/// The fields that differ; host-only fields only when `include_host_only`.
std::vector<FieldChange> diff(const Appointment& before, const Appointment& after,
                              bool include_host_only);

/// "2024-03-31T01:00:00Z"
std::string render_instant(Instant instant);

}  // namespace agendasync::sync
