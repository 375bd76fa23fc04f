#pragma once
/// Time zones: Windows ids (EWS, Graph) <-> IANA ids through ICU/CLDR, and wall-clock <->
/// UTC conversion through the IANA database (R18).
#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"

namespace agendasync {

/// The IANA zone CLDR gives for a Windows zone id in `territory` ("001" = the default).
/// Unknown id: kInvalidData naming the id.
Result<std::string> iana_from_windows(std::string_view windows_id,
                                      std::string_view territory = "001");
/// The Windows zone id for an IANA zone (aliases accepted). Unknown: kInvalidData.
Result<std::string> windows_from_iana(std::string_view iana_id);
/// Accepts either an IANA or a Windows id (any letter case) and returns an IANA id: a known
/// IANA id as given (aliases kept), a Windows id as its CLDR default ("001") zone.
Result<std::string> normalize_zone(std::string_view zone_id);

/// A wall-clock time without a zone.
using LocalTime = std::chrono::local_seconds;

/// The instant of a wall-clock time in `iana_zone`. In a DST gap the time is moved forward
/// by the gap; in an overlap the earlier instant is taken (RFC 5545 section 3.3.5).
Result<std::chrono::sys_seconds> to_utc(LocalTime local, std::string_view iana_zone);
/// The wall-clock time of an instant in `iana_zone`.
Result<LocalTime> to_local(std::chrono::sys_seconds instant, std::string_view iana_zone);
/// Offset from UTC at `instant` in `iana_zone`.
Result<std::chrono::seconds> utc_offset(std::chrono::sys_seconds instant,
                                        std::string_view iana_zone);

}  // namespace agendasync
