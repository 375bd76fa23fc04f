#pragma once
/// Every text field of an appointment, by name, for the UTF-8 rule: what enters the agenda
/// must be valid UTF-8 (the store refuses it otherwise), and text that arrives broken from
/// Exchange or Graph is repaired rather than failing a sync. One list, so a field added to
/// the model cannot be forgotten by one of the two.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/appointment.h"
#include "core/error.h"

namespace agendasync {

/// Calls `visit` with each text field's name ("subject", "categories[1]",
/// "occurrence 2026-03-10T09:00:00Z subject", ...) and its value.
void for_each_text_field(const Appointment& item,
                         const std::function<void(const std::string&, const std::string&)>& visit);

/// kInvalidData naming the first field that is not valid UTF-8 and the byte offset; never
/// echoes the text (it may not print, and it is the user's data).
Result<void> check_text_utf8(const Appointment& item);

/// Replaces ill-formed UTF-8 in every text field with U+FFFD; returns the names of the fields
/// it changed (empty when the item was clean).
std::vector<std::string> repair_text_utf8(Appointment& item);

}  // namespace agendasync
