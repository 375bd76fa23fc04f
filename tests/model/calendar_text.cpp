#include "calendar_text.h"

#include <cctype>
#include <cstdio>

namespace agendasync::model_test {
namespace {

std::optional<int> digits(std::string_view text, std::size_t from, std::size_t count) {
  int value = 0;
  for (std::size_t i = from; i < from + count; ++i) {
    if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) {
      return std::nullopt;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<CalendarTime> parse_calendar_time(std::string_view text) {
  using namespace std::chrono;
  CalendarTime out;
  if (text.size() != 8 && text.size() != 15 && text.size() != 16) return std::nullopt;
  auto y = digits(text, 0, 4);
  auto m = digits(text, 4, 2);
  auto d = digits(text, 6, 2);
  if (!y || !m || !d) return std::nullopt;
  year_month_day date{year(*y), month(static_cast<unsigned>(*m)), day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  out.local = local_days(date);
  if (text.size() == 8) {
    out.is_date = true;
    return out;
  }
  if (text[8] != 'T') return std::nullopt;
  if (text.size() == 16) {
    if (text[15] != 'Z') return std::nullopt;
    out.is_utc = true;
  }
  auto hh = digits(text, 9, 2);
  auto mm = digits(text, 11, 2);
  auto ss = digits(text, 13, 2);
  if (!hh || !mm || !ss) return std::nullopt;
  out.local += hours(*hh) + minutes(*mm) + seconds(*ss);
  return out;
}

std::string format_floating(std::chrono::local_seconds local) {
  using namespace std::chrono;
  auto day_start = floor<days>(local);
  year_month_day date{day_start};
  hh_mm_ss time{local - day_start};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

std::string format_date(std::chrono::local_seconds local) {
  return format_floating(local).substr(0, 8);
}

}  // namespace agendasync::model_test
