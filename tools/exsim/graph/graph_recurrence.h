#pragma once
/// Graph's patternedRecurrence <-> EWS's <t:Recurrence>: Graph writes become the same
/// Recurrence element an EWS client would send (so both APIs share one series model), and
/// stored rules read back as patternedRecurrence.
/// Reference: learn.microsoft.com/graph/api/resources/patternedrecurrence
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "exsim/calendar/recurrence.h"

namespace exsim {

/// Appends <t:Recurrence> for a patternedRecurrence under `parent`; on failure returns false
/// with a message naming the bad member in `error`.
bool recurrence_to_ews(const nlohmann::json& patterned, pugi::xml_node parent, std::string& error);

/// A stored rule as patternedRecurrence; `zone` is the range's recurrenceTimeZone.
nlohmann::json recurrence_to_graph(const RecurrenceRule& rule, const std::string& zone);

}  // namespace exsim
