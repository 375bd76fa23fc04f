#pragma once
/// A canonical form of an appointment and hashes over it: change detection ("changed" means
/// the version token changed *and* the content hash changed) and first-sync matching (R20).
#include <string>

#include "core/appointment.h"

namespace agendasync {

/// Deterministic text of the synced fields: categories and attendees sorted, line endings
/// normalised, trailing whitespace of the body dropped. Host-only fields excluded. The exact
/// field list and line format are documented at the top of canonical.cpp; the text starts
/// with a format version line, so a format change is visible in every hash.
std::string canonical_form(const Appointment& item);
/// SHA-256 of canonical_form, lowercase hex.
std::string content_hash(const Appointment& item);
/// The R20 match key: subject (trimmed, case-folded) + start + end + recurrence pattern.
/// Whitespace runs inside the subject count as one space; UNTIL is compared as a date.
std::string match_key(const Appointment& item);

}  // namespace agendasync
