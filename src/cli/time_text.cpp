#include "cli/time_text.h"

#include <charconv>
#include <cstdio>

namespace agendasync::cli {

namespace {

bool read_int(std::string_view text, std::size_t pos, std::size_t len, int& value) {
  if (pos + len > text.size()) return false;
  auto part = text.substr(pos, len);
  auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
  return ec == std::errc{} && end == part.data() + part.size();
}

std::unexpected<Error> bad(std::string_view option, std::string_view text, const char* expected) {
  return fail(ErrorKind::kInvalidData,
              std::string(option) + ": \"" + std::string(text) + "\" is not " + expected);
}

Result<std::chrono::sys_days> read_date(std::string_view text, std::string_view option) {
  int y = 0, m = 0, d = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !read_int(text, 0, 4, y) ||
      !read_int(text, 5, 2, m) || !read_int(text, 8, 2, d)) {
    return bad(option, text, "a date like 2026-03-02");
  }
  std::chrono::year_month_day date{std::chrono::year{y},
                                   std::chrono::month{static_cast<unsigned>(m)},
                                   std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok()) return bad(option, text, "a real calendar date");
  return std::chrono::sys_days{date};
}

}  // namespace

Result<Instant> parse_date(std::string_view text, std::string_view option) {
  if (text.size() != 10) return bad(option, text, "a date like 2026-03-02");
  auto date = read_date(text, option);
  if (!date) return std::unexpected(date.error());
  return Instant{*date};
}

Result<LocalTime> parse_local(std::string_view text, std::string_view option) {
  auto date = read_date(text, option);
  if (!date) return std::unexpected(date.error());
  int hour = 0, minute = 0, second = 0;
  bool shape = text.size() >= 16 && (text[10] == 'T' || text[10] == ' ') && text[13] == ':' &&
               read_int(text, 11, 2, hour) && read_int(text, 14, 2, minute);
  if (shape && text.size() > 16) {
    shape = text.size() == 19 && text[16] == ':' && read_int(text, 17, 2, second);
  }
  if (!shape || hour > 23 || minute > 59 || second > 59) {
    return bad(option, text, "a date and time like 2026-03-02T09:00");
  }
  return LocalTime{date->time_since_epoch()} + std::chrono::hours{hour} +
         std::chrono::minutes{minute} + std::chrono::seconds{second};
}

Result<Instant> parse_in_zone(std::string_view text, std::string_view zone,
                              std::string_view option) {
  auto local = parse_local(text, option);
  if (!local) return std::unexpected(local.error());
  return to_utc(*local, zone);
}

std::string format_local(Instant instant, std::string_view zone) {
  auto local = to_local(instant, zone);
  auto wall = local ? local->time_since_epoch() : instant.time_since_epoch();
  auto days = std::chrono::floor<std::chrono::days>(wall);
  std::chrono::year_month_day date{std::chrono::sys_days{days}};
  std::chrono::hh_mm_ss time{wall - days};
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()));
  return text;
}

std::string format_date(Instant instant) {
  std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(instant)};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::string format_utc(Instant instant) {
  auto days = std::chrono::floor<std::chrono::days>(instant);
  std::chrono::hh_mm_ss time{instant - days};
  char text[32];
  std::snprintf(text, sizeof text, "%sT%02d:%02d:%02dZ", format_date(instant).c_str(),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

}  // namespace agendasync::cli
