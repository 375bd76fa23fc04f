#pragma once
/// The lossless JSON document an appointment is stored as: every field of core::Appointment,
/// with enums as stable names (independent of any display text) and instants as Unix seconds.
/// Store-internal: other layers never see this format.
#include <string>
#include <string_view>

#include "core/appointment.h"
#include "core/error.h"

namespace agendasync::store {

/// The document for `item`. Deterministic: equal items give equal text.
std::string to_document(const Appointment& item);
/// The item a document describes; kInvalidData naming the bad member.
Result<Appointment> from_document(std::string_view document);

}  // namespace agendasync::store
