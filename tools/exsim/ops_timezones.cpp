// GetServerTimeZones: Windows time zones with their periods and transition rules, derived
// from ICU's data for the current year.
// Reference: learn.microsoft.com/exchange/client-developer/web-service-reference/getservertimezones
#include <algorithm>
#include <array>
#include <chrono>

#include <fmt/format.h>
#include <unicode/ucal.h>

#include "operation.h"
#include "xml_util.h"

namespace exsim {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kZones = {{
    {"UTC", "(UTC) Coordinated Universal Time"},
    {"GMT Standard Time", "(UTC+00:00) Dublin, Edinburgh, Lisbon, London"},
    {"W. Europe Standard Time", "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"},
    {"Romance Standard Time", "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris"},
    {"Central Europe Standard Time",
     "(UTC+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague"},
    {"Eastern Standard Time", "(UTC-05:00) Eastern Time (US & Canada)"},
    {"Central Standard Time", "(UTC-06:00) Central Time (US & Canada)"},
    {"Pacific Standard Time", "(UTC-08:00) Pacific Time (US & Canada)"},
    {"India Standard Time", "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi"},
    {"Tokyo Standard Time", "(UTC+09:00) Osaka, Sapporo, Tokyo"},
    {"AUS Eastern Standard Time", "(UTC+10:00) Canberra, Melbourne, Sydney"},
    {"Israel Standard Time", "(UTC+02:00) Jerusalem"},
}};

struct Transition {
  int month;
  int weekday;     // 0 = Sunday
  int occurrence;  // 1..4, -1 = last
  int local_minutes;
  bool to_daylight;
};

// Offset in minutes of `zone` at unix second `t`.
int offset_at(UCalendar* cal, double t) {
  UErrorCode status = U_ZERO_ERROR;
  ucal_setMillis(cal, t * 1000.0, &status);
  return (ucal_get(cal, UCAL_ZONE_OFFSET, &status) + ucal_get(cal, UCAL_DST_OFFSET, &status)) /
         60000;
}

// Standard offset (minutes) and the yearly transitions of the zone in `year`.
std::pair<int, std::vector<Transition>> rules(std::string_view windows_id, int year) {
  std::pair<int, std::vector<Transition>> out{0, {}};
  Zone zone = Zone::from_windows_id(windows_id);
  if (zone.iana().empty()) return out;
  std::u16string zid(zone.iana().begin(), zone.iana().end());
  UErrorCode status = U_ZERO_ERROR;
  UCalendar* cal =
      ucal_open(zid.data(), static_cast<int32_t>(zid.size()), "en_US", UCAL_GREGORIAN, &status);
  if (U_FAILURE(status)) return out;
  using namespace std::chrono;
  double t0 = static_cast<double>(sys_days{std::chrono::year{year} / 1 / 1}.time_since_epoch() /
                                  seconds(1));
  int prev = offset_at(cal, t0);
  int min_offset = prev;
  for (double t = t0; t < t0 + 366 * 86400.0; t += 3600) {
    int now = offset_at(cal, t);
    min_offset = std::min(min_offset, now);
    if (now != prev) {
      // Local wall time just before the change, as Windows rules state it.
      auto local = sys_seconds{seconds{static_cast<long long>(t) + prev * 60}};
      auto d = floor<days>(local);
      year_month_day ymd{d};
      weekday wd{d};
      unsigned dom = static_cast<unsigned>(ymd.day());
      auto last =
          static_cast<unsigned>(year_month_day_last{ymd.year(), month_day_last{ymd.month()}}.day());
      int occurrence = dom + 7 > last ? -1 : static_cast<int>((dom - 1) / 7 + 1);
      out.second.push_back({static_cast<int>(static_cast<unsigned>(ymd.month())),
                            static_cast<int>(wd.c_encoding()), occurrence,
                            static_cast<int>((local - d).count() / 60), now > prev});
    }
    prev = now;
  }
  out.first = min_offset;
  ucal_close(cal);
  return out;
}

std::string bias_text(int minutes_east) {
  // Bias is what to add to local time to get UTC.
  int bias = -minutes_east;
  return fmt::format("{}PT{}M", bias < 0 ? "-" : "", std::abs(bias));
}

void write_zone(pugi::xml_node parent, std::string_view id, std::string_view name, bool full,
                const char* element = "t:TimeZoneDefinition") {
  pugi::xml_node z = parent.append_child(element);
  z.append_attribute("Name") = std::string(name).c_str();
  z.append_attribute("Id") = std::string(id).c_str();
  if (!full) return;
  int year = static_cast<int>(std::chrono::year_month_day{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())}
                                  .year());
  auto [standard, transitions] = rules(id, year);
  std::string sid = fmt::format("trule:Microsoft/Registry/{}/{}-Standard", id, year);
  std::string did = fmt::format("trule:Microsoft/Registry/{}/{}-Daylight", id, year);
  pugi::xml_node periods = z.append_child("t:Periods");
  pugi::xml_node sp = periods.append_child("t:Period");
  sp.append_attribute("Bias") = bias_text(standard).c_str();
  sp.append_attribute("Name") = "Standard";
  sp.append_attribute("Id") = sid.c_str();
  int daylight = standard + 60;
  if (!transitions.empty()) {
    pugi::xml_node dp = periods.append_child("t:Period");
    dp.append_attribute("Bias") = bias_text(daylight).c_str();
    dp.append_attribute("Name") = "Daylight";
    dp.append_attribute("Id") = did.c_str();
  }
  pugi::xml_node group = z.append_child("t:TransitionsGroups").append_child("t:TransitionsGroup");
  group.append_attribute("Id") = "0";
  if (transitions.empty()) {
    pugi::xml_node to = add_text(group.append_child("t:Transition"), "t:To", sid);
    to.append_attribute("Kind") = "Period";
  }
  static constexpr std::array<const char*, 7> kDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
  for (const Transition& t : transitions) {
    pugi::xml_node r = group.append_child("t:RecurringDayTransition");
    add_text(r, "t:To", t.to_daylight ? did : sid).append_attribute("Kind") = "Period";
    add_text(r, "t:TimeOffset", fmt::format("PT{}M", t.local_minutes));
    add_text(r, "t:Month", std::to_string(t.month));
    add_text(r, "t:DayOfWeek", kDays[static_cast<size_t>(t.weekday)]);
    add_text(r, "t:Occurrence", std::to_string(t.occurrence));
  }
  pugi::xml_node to =
      add_text(z.append_child("t:Transitions").append_child("t:Transition"), "t:To", "0");
  to.append_attribute("Kind") = "Group";
}

}  // namespace

bool write_full_time_zone(pugi::xml_node parent, const char* element, std::string_view id) {
  if (Zone::from_windows_id(id).iana().empty() && id != "UTC") return false;
  std::string name(id);
  for (const auto& [zid, zname] : kZones) {
    if (zid == id) name = zname;
  }
  write_zone(parent, id, name, true, element);
  return true;
}

void handle_get_server_time_zones(OperationContext& ctx) {
  pugi::xml_node messages = ctx.response.begin("GetServerTimeZones");
  bool full = ctx.request.attribute("ReturnFullTimeZoneData").as_bool(true);
  std::vector<std::string> wanted;
  for (pugi::xml_node id : children(child(ctx.request, "Ids"), "Id"))
    wanted.push_back(id.text().as_string());
  pugi::xml_node msg = add_response_message(messages, "GetServerTimeZonesResponseMessage");
  pugi::xml_node defs = msg.append_child("m:TimeZoneDefinitions");
  for (const auto& [id, name] : kZones) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), id) == wanted.end()) continue;
    write_zone(defs, id, name, full);
  }
}

}  // namespace exsim
