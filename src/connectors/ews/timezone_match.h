#pragma once
/// From an EWS TimeZoneDefinition to an IANA zone (R18): by its Id when that is a Windows
/// zone id CLDR knows, otherwise ("Customized Time Zone", definitions some clients send) by
/// its rules: the offsets its periods and transitions give through a year are compared with
/// every known zone's offsets, transition hours included.
#include <chrono>
#include <string>

#include "connectors/ews/calendar_item.h"
#include "core/error.h"

namespace agendasync::ews {

/// The IANA zone for `zone`, judged around `reference` (the item's start: the rules that
/// were in force then). kInvalidData naming the definition when no known zone matches.
Result<std::string> iana_for_definition(const TimeZoneDefinition& zone, Instant reference);

/// The UTC offset the definition's own rules give at `instant`; nullopt when the definition
/// has no periods (named by Id only) or refers to a period it does not define.
std::optional<std::chrono::minutes> definition_offset(const TimeZoneDefinition& zone,
                                                      Instant instant);

}  // namespace agendasync::ews
