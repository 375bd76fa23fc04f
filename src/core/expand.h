#pragma once
/// Expansion of a series into the occurrences inside a window (libical), across DST in the
/// series' own zone; EXDATEs removed, overrides applied.
#include <cstddef>
#include <vector>

#include "core/appointment.h"
#include "core/error.h"

namespace agendasync {

struct Occurrence {
  Instant recurrence_id{};  ///< the original start
  Instant start{};
  Instant end{};
  bool overridden = false;
};

/// Occurrences of `item` that overlap [from, to), in start order, at most `limit` of them.
/// A non-recurring item yields itself when it overlaps. kInvalidData for an impossible rule
/// or an unknown zone.
Result<std::vector<Occurrence>> expand(const Appointment& item, Instant from, Instant to,
                                       std::size_t limit = 10000);

/// The start of the last occurrence, or nullopt for an endless series (R21: "recurring with
/// occurrences in the future").
Result<std::optional<Instant>> last_occurrence_start(const Appointment& item);

}  // namespace agendasync
