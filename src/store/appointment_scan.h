#pragma once
/// Reads an appointment document without building a JSON tree: the fast path of
/// from_document (appointment_document.h). Store-internal.
#include <optional>
#include <string_view>

#include "core/appointment.h"

namespace agendasync::store {

/// The item when `document` has exactly the members of the current document, each once and of
/// its type (in any order, with any white space); nullopt for anything else, which
/// from_document then reads with nlohmann's parser (and names what is wrong).
std::optional<Appointment> scan_document(std::string_view document);

}  // namespace agendasync::store
