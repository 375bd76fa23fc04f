#pragma once
/// Graph answers whose text is not valid UTF-8 (Exchange Online stores what clients send).
/// nlohmann::json refuses such a body outright, which would fail the whole read; instead the
/// body is repaired (each ill-formed sequence becomes U+FFFD) and the caller is told, so the
/// items it held sync with the repaired text and are logged and audited (issue 13).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/appointment.h"

namespace agendasync::graph {

/// Parses `body` (discarded on a syntax error, as json::parse with exceptions off);
/// `repaired` is set when the body had to be repaired first.
nlohmann::json parse_repairing(std::string_view body, bool& repaired);

/// The text fields of `item` that hold U+FFFD: after a repaired answer, the fields the repair
/// touched (a field that already held U+FFFD in such an answer is named too).
std::vector<std::string> fields_with_replacement(const Appointment& item);

}  // namespace agendasync::graph
