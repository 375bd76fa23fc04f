// RRULE value text <-> RecurrenceRule (RFC 5545 section 3.3.10).
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/recurrence.h"
#include "core/rule_shape.h"

namespace agendasync {
namespace {

constexpr std::array<std::string_view, 7> kWeekdayCodes = {"SU", "MO", "TU", "WE",
                                                           "TH", "FR", "SA"};
/// Long lists only come from broken or hostile input; no real rule comes close.
constexpr std::size_t kMaxListEntries = 400;

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::unexpected<Error> bad_part(std::string_view part, std::string_view why) {
  return fail(ErrorKind::kInvalidData,
              "invalid RRULE part '" + std::string(part) + "': " + std::string(why));
}

/// A signed decimal integer; nullopt when `text` is anything else or out of int range.
std::optional<int> parse_int(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t digits_from = (text.front() == '+' || text.front() == '-') ? 1 : 0;
  if (digits_from == text.size()) return std::nullopt;
  int value = 0;
  auto digits = text.substr(digits_from);
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return text.front() == '-' ? -value : value;
}

std::optional<std::chrono::weekday> parse_weekday(std::string_view code) {
  for (unsigned i = 0; i < kWeekdayCodes.size(); ++i) {
    if (code == kWeekdayCodes[i]) return std::chrono::weekday(i);
  }
  return std::nullopt;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  std::size_t from = 0;
  while (true) {
    auto at = text.find(separator, from);
    out.push_back(text.substr(from, at == std::string_view::npos ? text.npos : at - from));
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

Result<std::vector<int>> parse_int_list(std::string_view part, std::string_view value, int min,
                                        int max) {
  std::vector<int> out;
  for (auto item : split(value, ',')) {
    auto number = parse_int(item);
    if (!number || *number < min || *number > max || *number == 0) {
      return bad_part(part, "'" + std::string(item) + "' is not a non-zero number from " +
                                std::to_string(min) + " to " + std::to_string(max));
    }
    out.push_back(*number);
    if (out.size() > kMaxListEntries) return bad_part(part, "too many values");
  }
  return out;
}

Result<std::vector<WeekdayNum>> parse_by_day(std::string_view part, std::string_view value) {
  std::vector<WeekdayNum> out;
  for (auto item : split(value, ',')) {
    if (item.size() < 2) return bad_part(part, "'" + std::string(item) + "' is not a weekday");
    auto day = parse_weekday(item.substr(item.size() - 2));
    if (!day) {
      return bad_part(part, "'" + std::string(item) + "' does not end in a weekday (SU..SA)");
    }
    int ordinal = 0;
    if (item.size() > 2) {
      auto number = parse_int(item.substr(0, item.size() - 2));
      if (!number || *number == 0 || *number < -53 || *number > 53) {
        return bad_part(part, "'" + std::string(item) + "' has an ordinal outside -53..-1, 1..53");
      }
      ordinal = *number;
    }
    out.push_back(WeekdayNum{ordinal, *day});
    if (out.size() > kMaxListEntries) return bad_part(part, "too many values");
  }
  return out;
}

std::optional<int> fixed_digits(std::string_view text, std::size_t from, std::size_t count) {
  if (from + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = from; i < from + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

/// UNTIL as a date ("20241231", midnight UTC) or a UTC date-time ("20241231T235959Z").
Result<std::chrono::sys_seconds> parse_until(std::string_view part, std::string_view value) {
  using namespace std::chrono;
  const bool is_date = value.size() == 8;
  const bool is_utc = value.size() == 16 && value[8] == 'T' && value[15] == 'Z';
  if (value.size() == 15 && value[8] == 'T') {
    return bad_part(part,
                    "a floating date-time is ambiguous; give UTC with a trailing 'Z' "
                    "(e.g. 20241231T235959Z) or a date (20241231)");
  }
  auto y = fixed_digits(value, 0, 4);
  auto m = fixed_digits(value, 4, 2);
  auto d = fixed_digits(value, 6, 2);
  if ((!is_date && !is_utc) || !y || !m || !d) {
    return bad_part(part, "expected a date YYYYMMDD or a UTC date-time YYYYMMDDTHHMMSSZ");
  }
  year_month_day date{year(*y), month(static_cast<unsigned>(*m)), day(static_cast<unsigned>(*d))};
  if (!date.ok()) return bad_part(part, "no such calendar date");
  sys_seconds at = sys_days(date);
  if (is_utc) {
    auto hh = fixed_digits(value, 9, 2);
    auto mm = fixed_digits(value, 11, 2);
    auto ss = fixed_digits(value, 13, 2);
    if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 59) {
      return bad_part(part, "no such time of day");
    }
    at += hours(*hh) + minutes(*mm) + seconds(*ss);
  }
  return at;
}

Result<Frequency> parse_freq(std::string_view part, std::string_view value) {
  if (value == "DAILY") return Frequency::kDaily;
  if (value == "WEEKLY") return Frequency::kWeekly;
  if (value == "MONTHLY") return Frequency::kMonthly;
  if (value == "YEARLY") return Frequency::kYearly;
  if (value == "SECONDLY" || value == "MINUTELY" || value == "HOURLY") {
    return bad_part(part,
                    "only DAILY, WEEKLY, MONTHLY and YEARLY series exist in Exchange "
                    "calendars");
  }
  return bad_part(part, "expected DAILY, WEEKLY, MONTHLY or YEARLY");
}

int days_in_month_at_most(int month) {
  constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[static_cast<std::size_t>(month - 1)];
}

std::string join_ints(const std::vector<int>& values) {
  std::string out;
  for (int v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
  return out;
}

std::string until_text(std::chrono::sys_seconds until, UntilForm form) {
  using namespace std::chrono;
  auto day_start = floor<days>(until);
  year_month_day date{day_start};
  hh_mm_ss time{until - day_start};
  char buffer[32];
  if (form == UntilForm::kDate) {
    std::snprintf(buffer, sizeof buffer, "%04d%02u%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  } else {
    std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02dZ",
                  static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()));
  }
  return buffer;
}

}  // namespace

Result<void> check_rule(const RecurrenceRule& rule) {
  if (rule.interval < 1) {
    return fail(ErrorKind::kInvalidData,
                "recurrence INTERVAL must be 1 or more, not " + std::to_string(rule.interval));
  }
  if (rule.count && rule.until) {
    return fail(ErrorKind::kInvalidData,
                "recurrence has both COUNT and UNTIL; RFC 5545 allows only one of them");
  }
  if (rule.count && *rule.count < 1) {
    return fail(ErrorKind::kInvalidData,
                "recurrence COUNT must be 1 or more, not " + std::to_string(*rule.count));
  }
  for (int month : rule.by_month) {
    if (month < 1 || month > 12) {
      return fail(ErrorKind::kInvalidData,
                  "recurrence BYMONTH=" + std::to_string(month) + " is not a month (1..12)");
    }
  }
  for (int day : rule.by_month_day) {
    if (day == 0 || day < -31 || day > 31) {
      return fail(ErrorKind::kInvalidData, "recurrence BYMONTHDAY=" + std::to_string(day) +
                                               " is not a day of a month (1..31 or -31..-1)");
    }
  }
  for (int pos : rule.by_set_pos) {
    if (pos == 0 || pos < -366 || pos > 366) {
      return fail(ErrorKind::kInvalidData,
                  "recurrence BYSETPOS=" + std::to_string(pos) + " is outside -366..-1, 1..366");
    }
  }
  if (!rule.by_set_pos.empty() && rule.by_day.empty() && rule.by_month_day.empty() &&
      rule.by_month.empty()) {
    return fail(ErrorKind::kInvalidData,
                "recurrence BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH to select from");
  }
  if (rule.freq == Frequency::kWeekly && !rule.by_month_day.empty()) {
    return fail(ErrorKind::kInvalidData, "recurrence BYMONTHDAY cannot be used in a WEEKLY rule");
  }
  for (const auto& entry : rule.by_day) {
    if (!entry.day.ok()) {
      return fail(ErrorKind::kInvalidData, "recurrence BYDAY holds an invalid weekday");
    }
    if (entry.ordinal == 0) continue;
    if (rule.freq != Frequency::kMonthly && rule.freq != Frequency::kYearly) {
      return fail(ErrorKind::kInvalidData,
                  "recurrence BYDAY=" + std::to_string(entry.ordinal) +
                      std::string(kWeekdayCodes[entry.day.c_encoding()]) +
                      ": an ordinal weekday needs a MONTHLY or YEARLY rule");
    }
    const int limit = rule.freq == Frequency::kMonthly || !rule.by_month.empty() ? 5 : 53;
    if (entry.ordinal < -limit || entry.ordinal > limit) {
      return fail(ErrorKind::kInvalidData,
                  "recurrence BYDAY=" + std::to_string(entry.ordinal) +
                      std::string(kWeekdayCodes[entry.day.c_encoding()]) +
                      " can never occur: a month has at most 5 of each weekday");
    }
  }
  if (!rule.by_month_day.empty() && !rule.by_month.empty()) {
    // Some day must exist in some listed month, else the series has no occurrence at all.
    bool possible = false;
    for (int month : rule.by_month) {
      for (int day : rule.by_month_day) {
        if (std::abs(day) <= days_in_month_at_most(month)) possible = true;
      }
    }
    if (!possible) {
      return fail(ErrorKind::kInvalidData,
                  "recurrence can never occur: BYMONTHDAY=" + join_ints(rule.by_month_day) +
                      " does not exist in BYMONTH=" + join_ints(rule.by_month));
    }
  }
  const bool has_ordinal = std::any_of(rule.by_day.begin(), rule.by_day.end(),
                                       [](const WeekdayNum& d) { return d.ordinal != 0; });
  if (!rule.by_set_pos.empty() || (has_ordinal && !rule.by_month_day.empty())) {
    // Refused here because libical would search for seconds before giving up.
    const int most = detail::max_candidates_per_period(rule);
    if (most == 0) {
      return fail(ErrorKind::kInvalidData, "recurrence " + format_rrule(rule) +
                                               " can never occur: no day satisfies all of "
                                               "its BYDAY, BYMONTHDAY and BYMONTH parts");
    }
    const bool reachable = std::any_of(rule.by_set_pos.begin(), rule.by_set_pos.end(),
                                       [most](int pos) { return std::abs(pos) <= most; });
    if (!rule.by_set_pos.empty() && !reachable) {
      return fail(ErrorKind::kInvalidData, "recurrence BYSETPOS=" + join_ints(rule.by_set_pos) +
                                               " can never occur: each period of the rule holds "
                                               "at most " +
                                               std::to_string(most) + " days");
    }
  }
  return {};
}

Result<RecurrenceRule> parse_rrule(std::string_view text) {
  RecurrenceRule rule;
  std::vector<std::string> seen;
  bool has_freq = false;
  for (auto raw_part : split(text, ';')) {
    // Empty parts: a trailing ';' is common in the wild (Google Calendar) and harmless.
    if (raw_part.empty()) continue;
    auto equals = raw_part.find('=');
    if (equals == std::string_view::npos) return bad_part(raw_part, "expected NAME=VALUE");
    const std::string name = upper(raw_part.substr(0, equals));
    const std::string value = upper(raw_part.substr(equals + 1));
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return bad_part(raw_part, name + " is given more than once");
    }
    seen.push_back(name);
    if (value.empty()) return bad_part(raw_part, "the value is empty");
    if (name == "FREQ") {
      auto freq = parse_freq(raw_part, value);
      if (!freq) return std::unexpected(freq.error());
      rule.freq = *freq;
      has_freq = true;
    } else if (name == "INTERVAL") {
      auto number = parse_int(value);
      if (!number || *number < 1 || value.front() == '-' || value.front() == '+') {
        return bad_part(raw_part, "expected a whole number of 1 or more");
      }
      rule.interval = *number;
    } else if (name == "COUNT") {
      auto number = parse_int(value);
      if (!number || *number < 1 || value.front() == '-' || value.front() == '+') {
        return bad_part(raw_part, "expected a whole number of 1 or more");
      }
      rule.count = *number;
    } else if (name == "UNTIL") {
      auto until = parse_until(raw_part, value);
      if (!until) return std::unexpected(until.error());
      rule.until = *until;
    } else if (name == "BYDAY") {
      auto days = parse_by_day(raw_part, value);
      if (!days) return std::unexpected(days.error());
      rule.by_day = std::move(*days);
    } else if (name == "BYMONTHDAY") {
      auto days = parse_int_list(raw_part, value, -31, 31);
      if (!days) return std::unexpected(days.error());
      rule.by_month_day = std::move(*days);
    } else if (name == "BYMONTH") {
      auto months = parse_int_list(raw_part, value, 1, 12);
      if (!months) return std::unexpected(months.error());
      rule.by_month = std::move(*months);
    } else if (name == "BYSETPOS") {
      auto positions = parse_int_list(raw_part, value, -366, 366);
      if (!positions) return std::unexpected(positions.error());
      rule.by_set_pos = std::move(*positions);
    } else if (name == "WKST") {
      auto day = parse_weekday(value);
      if (!day) return bad_part(raw_part, "expected a weekday SU, MO, TU, WE, TH, FR or SA");
      rule.week_start = *day;
    } else if (name == "BYSECOND" || name == "BYMINUTE" || name == "BYHOUR" || name == "BYWEEKNO" ||
               name == "BYYEARDAY" || name == "RSCALE" || name == "SKIP") {
      return bad_part(raw_part, name +
                                    " is not supported: Exchange and Graph recurrence "
                                    "patterns cannot express it");
    } else {
      return bad_part(raw_part, "unknown rule part " + name);
    }
  }
  if (!has_freq) {
    return fail(ErrorKind::kInvalidData,
                "invalid RRULE '" + std::string(text.substr(0, 200)) + "': FREQ is missing");
  }
  auto checked = check_rule(rule);
  if (!checked) return std::unexpected(checked.error());
  return rule;
}

std::string format_rrule(const RecurrenceRule& rule) {
  return format_rrule(rule, UntilForm::kUtcDateTime);
}

std::string format_rrule(const RecurrenceRule& rule, UntilForm until_form) {
  static constexpr std::array<std::string_view, 4> kFreq = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"};
  std::string out = "FREQ=" + std::string(kFreq[static_cast<std::size_t>(rule.freq)]);
  if (rule.interval != 1) out += ";INTERVAL=" + std::to_string(rule.interval);
  if (!rule.by_month.empty()) out += ";BYMONTH=" + join_ints(rule.by_month);
  if (!rule.by_month_day.empty()) out += ";BYMONTHDAY=" + join_ints(rule.by_month_day);
  if (!rule.by_day.empty()) {
    out += ";BYDAY=";
    bool first = true;
    for (const auto& entry : rule.by_day) {
      if (!first) out += ',';
      first = false;
      if (entry.ordinal != 0) out += std::to_string(entry.ordinal);
      out += entry.day.ok() ? kWeekdayCodes[entry.day.c_encoding()] : "??";
    }
  }
  if (!rule.by_set_pos.empty()) out += ";BYSETPOS=" + join_ints(rule.by_set_pos);
  if (rule.week_start != std::chrono::Monday && rule.week_start.ok()) {
    out += ";WKST=" + std::string(kWeekdayCodes[rule.week_start.c_encoding()]);
  }
  if (rule.count) out += ";COUNT=" + std::to_string(*rule.count);
  if (rule.until) out += ";UNTIL=" + until_text(*rule.until, until_form);
  return out;
}

}  // namespace agendasync
