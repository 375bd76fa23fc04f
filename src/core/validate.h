#pragma once
/// Validation of an appointment with messages a person can act on.
#include "core/appointment.h"
#include "core/error.h"

namespace agendasync {

/// kInvalidData with the first problem found: unknown zone, end before start, all-day not on
/// date boundaries, impossible rule (BYMONTHDAY=30 with BYMONTH=2, COUNT and UNTIL together,
/// interval < 1, ...), override or exdate that is not an occurrence of the series, two
/// overrides of one occurrence, a moved occurrence ending before it starts, a negative
/// reminder, text that is not valid UTF-8 (core/appointment_text.h).
Result<void> validate(const Appointment& item);

}  // namespace agendasync
