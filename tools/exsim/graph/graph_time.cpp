#include "exsim/graph/graph_time.h"

#include <fmt/format.h>
#include <unicode/ucal.h>

namespace exsim {

std::optional<GraphZone> resolve_graph_zone(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "tzone://Microsoft/Utc") {
    return GraphZone{std::string(name.empty() ? "UTC" : name), "UTC", Zone()};
  }
  Zone windows = Zone::from_windows_id(name);
  if (!windows.iana().empty()) return GraphZone{std::string(name), std::string(name), windows};
  // An IANA name: Exchange keeps the Windows zone CLDR maps it to.
  std::u16string iana(name.begin(), name.end());
  UChar buf[128];
  UErrorCode status = U_ZERO_ERROR;
  int32_t len =
      ucal_getWindowsTimeZoneID(iana.data(), static_cast<int32_t>(iana.size()), buf, 128, &status);
  if (U_FAILURE(status) || len <= 0) return std::nullopt;
  std::string id(buf, buf + len);
  return GraphZone{std::string(name), id, Zone::from_windows_id(id)};
}

std::string format_graph_local(LocalSeconds t) {
  std::string text = format_utc(Seconds{t.time_since_epoch()});
  text.pop_back();  // the 'Z'
  return text + ".0000000";
}

std::string format_graph_utc(Seconds t) { return format_utc(t); }

std::string format_graph_stamp(Seconds t) {
  std::string text = format_utc(t);
  text.pop_back();
  return text + ".0000000Z";
}

}  // namespace exsim
