#pragma once
/// Time zone names and date-time texts as Graph writes them: dateTimeTimeZone values, zones
/// named by Windows or IANA ids, "2024-05-01T09:00:00.0000000".
#include <optional>
#include <string>
#include <string_view>

#include "exsim/store/ews_time.h"

namespace exsim {

/// A zone a client named, resolved to its Windows id (what the mailbox stores) and rules.
struct GraphZone {
  std::string name;        // as the client wrote it (echoed back in dateTimeTimeZone)
  std::string windows_id;  // "W. Europe Standard Time", or "UTC"
  Zone zone;
};
/// Resolves a Windows or IANA zone name; nullopt when neither ICU nor CLDR knows it.
std::optional<GraphZone> resolve_graph_zone(std::string_view name);

/// "2024-05-01T09:00:00.0000000" (wall clock, 7 fraction digits as Graph writes them).
std::string format_graph_local(LocalSeconds t);
/// "2024-05-01T09:00:00Z" (originalStart, subscription times).
std::string format_graph_utc(Seconds t);
/// "2024-05-01T09:00:00.0000000Z" (createdDateTime, lastModifiedDateTime).
std::string format_graph_stamp(Seconds t);

}  // namespace exsim
