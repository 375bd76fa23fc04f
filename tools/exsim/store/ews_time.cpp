#include "exsim/store/ews_time.h"

#include <charconv>
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <unicode/ucal.h>

#include "exsim/calendar/zone_rules.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using namespace std::chrono;

bool read_int(std::string_view& s, size_t digits, int& out) {
  if (s.size() < digits) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + digits, out);
  if (ec != std::errc() || p != s.data() + digits) return false;
  s.remove_prefix(digits);
  return true;
}

bool expect(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

// Reads "Z", "+hh:mm" or "-hh:mm" when present.
bool read_offset(std::string_view& s, std::optional<seconds>& offset) {
  if (s.empty()) return true;
  if (s.front() == 'Z') {
    offset = seconds{0};
    s.remove_prefix(1);
    return true;
  }
  if (s.front() != '+' && s.front() != '-') return false;
  int sign = s.front() == '-' ? -1 : 1;
  s.remove_prefix(1);
  int h = 0, m = 0;
  if (!read_int(s, 2, h) || !expect(s, ':') || !read_int(s, 2, m)) return false;
  offset = seconds{sign * (h * 3600 + m * 60)};
  return true;
}

}  // namespace

std::optional<ParsedDateTime> parse_date_time(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_int(s, 4, y) || !expect(s, '-') || !read_int(s, 2, mo) || !expect(s, '-') ||
      !read_int(s, 2, d) || !expect(s, 'T') || !read_int(s, 2, h) || !expect(s, ':') ||
      !read_int(s, 2, mi) || !expect(s, ':') || !read_int(s, 2, sec)) {
    return std::nullopt;
  }
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') s.remove_prefix(1);
  }
  ParsedDateTime out;
  if (!read_offset(s, out.offset) || !s.empty()) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  out.wall = local_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
  return out;
}

std::optional<year_month_day> parse_date(std::string_view s) {
  int y = 0, mo = 0, d = 0;
  if (!read_int(s, 4, y) || !expect(s, '-') || !read_int(s, 2, mo) || !expect(s, '-') ||
      !read_int(s, 2, d)) {
    return std::nullopt;
  }
  std::optional<seconds> ignored;
  if (!read_offset(s, ignored) || !s.empty()) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::optional<seconds> parse_duration(std::string_view s) {
  int sign = 1;
  if (!s.empty() && s.front() == '-') {
    sign = -1;
    s.remove_prefix(1);
  }
  if (!expect(s, 'P')) return std::nullopt;
  long long total = 0;
  bool in_time = false;
  while (!s.empty()) {
    if (s.front() == 'T') {
      in_time = true;
      s.remove_prefix(1);
      continue;
    }
    long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    // Components beyond ~30 years are never a bias or reminder; refusing them keeps the sum
    // far from overflowing.
    if (ec != std::errc() || v < 0 || v > 1'000'000'000) return std::nullopt;
    s.remove_prefix(static_cast<size_t>(p - s.data()));
    if (!s.empty() && s.front() == '.') {  // fractional seconds: drop
      s.remove_prefix(1);
      while (!s.empty() && s.front() >= '0' && s.front() <= '9') s.remove_prefix(1);
    }
    if (s.empty()) return std::nullopt;
    char unit = s.front();
    s.remove_prefix(1);
    if (unit == 'D')
      total += v * 86400;
    else if (unit == 'H' && in_time)
      total += v * 3600;
    else if (unit == 'M' && in_time)
      total += v * 60;
    else if (unit == 'S' && in_time)
      total += v;
    else if (unit == 'W')
      total += v * 7 * 86400;
    else
      return std::nullopt;  // years and months have no fixed length
    if (total > 1'000'000'000'000'000) return std::nullopt;
  }
  return seconds{sign * total};
}

std::string format_utc(Seconds t) {
  auto days = floor<std::chrono::days>(t);
  year_month_day ymd{days};
  hh_mm_ss hms{t - days};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string format_date(year_month_day d) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

std::string format_duration(seconds d) {
  std::string sign = d.count() < 0 ? "-" : "";
  long long v = std::abs(d.count());
  return fmt::format("{}P{}DT{}H{}M{}S", sign, v / 86400, (v % 86400) / 3600, (v % 3600) / 60,
                     v % 60);
}

Zone Zone::from_windows_id(std::string_view id) {
  Zone z;
  if (id.empty() || id == "UTC") return z;
  std::u16string wid(id.begin(), id.end());
  UChar buf[128];
  UErrorCode status = U_ZERO_ERROR;
  int32_t len = ucal_getTimeZoneIDForWindowsID(wid.data(), static_cast<int32_t>(wid.size()), "001",
                                               buf, 128, &status);
  if (U_FAILURE(status) || len <= 0) return z;
  z.iana_.assign(buf, buf + len);
  return z;
}

Zone Zone::from_element(pugi::xml_node tz) {
  if (!tz) return {};
  // TimeZoneDefinition style (StartTimeZone, EndTimeZone): a known Id wins.
  if (pugi::xml_attribute id = tz.attribute("Id")) {
    Zone known = from_windows_id(id.value());
    if (!known.iana_.empty()) return known;
  }
  // A customised definition (Periods) or a legacy MeetingTimeZone without a known name: its
  // own rules.
  bool legacy = !child(tz, "Periods");
  if (legacy) {
    if (pugi::xml_attribute name = tz.attribute("TimeZoneName")) {
      Zone known = from_windows_id(name.value());
      if (!known.iana_.empty()) return known;
    }
  }
  if (auto rules = RuleBasedZone::from_element(tz)) {
    Zone z;
    z.rules_ = std::make_shared<const RuleBasedZone>(std::move(*rules));
    return z;
  }
  return {};
}

namespace {
struct CalCloser {
  void operator()(UCalendar* c) const { ucal_close(c); }
};
std::unique_ptr<UCalendar, CalCloser> open_calendar(const std::string& iana) {
  std::u16string zid(iana.begin(), iana.end());
  UErrorCode status = U_ZERO_ERROR;
  UCalendar* cal = ucal_open(zid.data(), static_cast<int32_t>(zid.size()),
                             "en_US@calendar=gregorian", UCAL_GREGORIAN, &status);
  if (U_FAILURE(status)) return nullptr;
  return std::unique_ptr<UCalendar, CalCloser>(cal);
}
}  // namespace

Seconds Zone::to_utc(LocalSeconds wall) const {
  if (iana_.empty()) return rules_ ? rules_->to_utc(wall) : Seconds{wall.time_since_epoch()};
  auto cal = open_calendar(iana_);
  if (!cal) return Seconds{wall.time_since_epoch()};
  auto days = floor<std::chrono::days>(wall);
  year_month_day ymd{days};
  hh_mm_ss hms{wall - days};
  UErrorCode status = U_ZERO_ERROR;
  ucal_setDateTime(cal.get(), static_cast<int>(ymd.year()),
                   static_cast<int>(static_cast<unsigned>(ymd.month())) - 1,
                   static_cast<int>(static_cast<unsigned>(ymd.day())),
                   static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                   static_cast<int>(hms.seconds().count()), &status);
  ucal_set(cal.get(), UCAL_MILLISECOND, 0);
  UDate ms = ucal_getMillis(cal.get(), &status);
  if (U_FAILURE(status)) return Seconds{wall.time_since_epoch()};
  return Seconds{seconds{static_cast<long long>(ms / 1000)}};
}

LocalSeconds Zone::to_local(Seconds t) const {
  if (iana_.empty()) {
    return LocalSeconds{t.time_since_epoch() + (rules_ ? rules_->offset_at(t) : seconds{0})};
  }
  auto cal = open_calendar(iana_);
  if (!cal) return LocalSeconds{t.time_since_epoch()};
  UErrorCode status = U_ZERO_ERROR;
  ucal_setMillis(cal.get(), static_cast<UDate>(t.time_since_epoch().count()) * 1000.0, &status);
  int32_t offset_ms = ucal_get(cal.get(), UCAL_ZONE_OFFSET, &status) +
                      ucal_get(cal.get(), UCAL_DST_OFFSET, &status);
  if (U_FAILURE(status)) return LocalSeconds{t.time_since_epoch()};
  return LocalSeconds{t.time_since_epoch() + seconds{offset_ms / 1000}};
}

}  // namespace exsim
