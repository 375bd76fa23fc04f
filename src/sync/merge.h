#pragma once
/// Three-way, field-level merge of one item against the base both sides agreed on (R24).
/// A field changed on one side only takes that side's value; a field changed on both sides
/// to different values is a conflict, settled by `winner`. Host-only fields (activity type,
/// owner, ...) always come from the host.
///
/// Recurrence: while neither side changed the series' pattern or time, deleted occurrences
/// merge as sets and modified occurrences merge one by one by recurrence id, so a change to
/// one occurrence stays a change to that occurrence. When one side changed the pattern or the
/// series time, that side's recurrence is taken whole (old occurrence ids no longer exist);
/// when both did, it is a conflict on "recurrence".
#include <optional>
#include <string>
#include <vector>

#include "core/appointment.h"
#include "sync/side.h"

namespace agendasync::sync {

struct MergeResult {
  Appointment merged;
  /// Names of the fields both sides changed differently ("subject", "occurrence <id>", ...).
  std::vector<std::string> conflicts;
};

/// `base` nullopt: no common ancestor (first-sync match, R20): every differing field is a
/// conflict settled by `winner`.
MergeResult merge3(const std::optional<Appointment>& base, const Appointment& host,
                   const Appointment& remote, Side winner);

}  // namespace agendasync::sync
