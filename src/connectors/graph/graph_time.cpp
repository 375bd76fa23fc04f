#include "connectors/graph/graph_time.h"

#include <fmt/format.h>

#include <charconv>

namespace agendasync::graph {
namespace {

/// Reads exactly `width` digits at `pos`; -1 when they are not digits.
int digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return -1;
  int value = 0;
  const auto* first = text.data() + pos;
  const auto [end, error] = std::from_chars(first, first + width, value);
  if (error != std::errc{} || end != first + width) return -1;
  return value;
}

std::unexpected<Error> bad(std::string_view text, std::string_view what) {
  return fail(ErrorKind::kInvalidData,
              fmt::format("Graph sent an unreadable {} \"{}\"", what, text.substr(0, 64)));
}

}  // namespace

Result<LocalTime> parse_date(std::string_view text) {
  const int year = digits(text, 0, 4);
  const int month = digits(text, 5, 2);
  const int day = digits(text, 8, 2);
  if (year < 0 || month < 0 || day < 0 || text[4] != '-' || text[7] != '-') {
    return bad(text, "date");
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return bad(text, "date");
  return LocalTime{std::chrono::local_days{date}.time_since_epoch()};
}

Result<LocalTime> parse_date_time(std::string_view text) {
  auto date = parse_date(text);
  if (!date) return bad(text, "date-time");
  if (text.size() == 10) return *date;
  const int hour = digits(text, 11, 2);
  const int minute = digits(text, 14, 2);
  int second = 0;
  std::size_t pos = 16;
  if (text.size() > 16 && text[16] == ':') {
    second = digits(text, 17, 2);
    pos = 19;
  }
  if (text[10] != 'T' || text[13] != ':' || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 60) {
    return bad(text, "date-time");
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  std::chrono::seconds offset{0};
  if (pos < text.size()) {
    const std::string_view zone = text.substr(pos);
    if (zone == "Z") {
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
      const int oh = digits(zone, 1, 2);
      const int om = digits(zone, 4, 2);
      if (oh < 0 || om < 0) return bad(text, "date-time");
      offset = std::chrono::hours(oh) + std::chrono::minutes(om);
      if (zone[0] == '-') offset = -offset;
    } else {
      return bad(text, "date-time");
    }
  }
  return *date + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) - offset;
}

std::string format_date_time(LocalTime time) {
  const auto day = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{time - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock.hours().count(), clock.minutes().count(), clock.seconds().count());
}

std::string format_utc(Instant time) {
  return format_date_time(LocalTime{time.time_since_epoch()}) + "Z";
}

std::string format_date(LocalTime time) { return format_date_time(time).substr(0, 10); }

}  // namespace agendasync::graph
