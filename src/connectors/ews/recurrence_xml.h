#pragma once
/// t:Recurrence <-> EwsRecurrence, and the day-name tokens EWS uses.
/// Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurrence-recurrencetype
#include <optional>
#include <string_view>

#include <pugixml.hpp>

#include "connectors/ews/calendar_item.h"

namespace agendasync::ews {

/// Reads the children of a t:Recurrence element; nullopt when the pattern or range is
/// missing or malformed.
std::optional<EwsRecurrence> read_recurrence(const pugi::xml_node& element);
/// Appends the pattern and range children to an existing t:Recurrence element.
void write_recurrence(pugi::xml_node& element, const EwsRecurrence& recurrence);

std::optional<DayClass> parse_day_class(std::string_view token);
const char* to_token(DayClass day);

}  // namespace agendasync::ews
