// GetServerTimeZones: the full Windows time-zone set with each zone's periods and transition
// rules for the current year, as Exchange lists them; and the same full definition for a zone
// an item names by Id alone.
// Reference: learn.microsoft.com/exchange/client-developer/web-service-reference/getservertimezones
#include <algorithm>

#include "exsim/calendar/windows_zones.h"
#include "exsim/calendar/zone_rules.h"
#include "exsim/ews/operation.h"
#include "exsim/store/xml_util.h"

namespace exsim {

bool write_full_time_zone(pugi::xml_node parent, const char* element, std::string_view id) {
  const WindowsZone* zone = find_windows_zone(id);
  if (!zone) return false;
  write_time_zone_definition(parent, element, zone->id, zone->name, {zone->current});
  return true;
}

void handle_get_server_time_zones(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("GetServerTimeZones");
  bool full = ctx.request.attribute("ReturnFullTimeZoneData").as_bool(true);
  std::vector<std::string> wanted;
  for (pugi::xml_node id : children(child(ctx.request, "Ids"), "Id"))
    wanted.push_back(id.text().as_string());
  // Ids Exchange does not know are left out of the answer, not refused.
  pugi::xml_node msg = add_response_message(messages, "GetServerTimeZonesResponseMessage");
  pugi::xml_node defs = msg.append_child("m:TimeZoneDefinitions");
  for (const WindowsZone& zone : windows_zones()) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), zone.id) == wanted.end()) {
      continue;
    }
    if (full) {
      write_time_zone_definition(defs, "t:TimeZoneDefinition", zone.id, zone.name, {zone.current});
    } else {
      pugi::xml_node z = defs.append_child("t:TimeZoneDefinition");
      z.append_attribute("Name") = zone.name.c_str();
      z.append_attribute("Id") = zone.id.c_str();
    }
  }
}

}  // namespace exsim
