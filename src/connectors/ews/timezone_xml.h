#pragma once
/// t:TimeZoneDefinition (StartTimeZone, EndTimeZone) <-> TimeZoneDefinition.
/// Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/timezonedefinition
#include <optional>

#include <pugixml.hpp>

#include "connectors/ews/calendar_item.h"

namespace agendasync::ews {

/// Reads a TimeZoneDefinition-typed element; nullopt when a period or transition is malformed.
std::optional<TimeZoneDefinition> read_time_zone(const pugi::xml_node& element);
/// Fills an existing TimeZoneDefinition-typed element (attributes and children).
void write_time_zone(pugi::xml_node& element, const TimeZoneDefinition& zone);

}  // namespace agendasync::ews
