#include "connectors/ews/xml.h"

#include <charconv>
#include <cstdio>

#include <fmt/format.h>

namespace agendasync::ews {

Result<void> parse_untrusted(pugi::xml_document& doc, std::string_view text,
                             std::string_view what) {
  // parse_doctype keeps a DOCTYPE as a node so we can see it and refuse; pugixml never
  // expands DTD entities, but a server that sends a DTD is not one we want to trust.
  const unsigned options = (pugi::parse_default | pugi::parse_doctype) & ~pugi::parse_pi;
  const pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size(), options);
  if (!parsed) {
    return fail(ErrorKind::kInvalidData,
                fmt::format("The {} is not well-formed XML ({} at byte {}); check that the EWS "
                            "URL points at Exchange and not at a proxy or login page.",
                            what, parsed.description(), parsed.offset));
  }
  for (const pugi::xml_node node : doc.children()) {
    if (node.type() == pugi::node_doctype) {
      return fail(ErrorKind::kInvalidData,
                  fmt::format("The {} contains a DOCTYPE declaration, which EWS never sends; "
                              "refused for safety.",
                              what));
    }
  }
  if (!doc.document_element()) {
    return fail(ErrorKind::kInvalidData, fmt::format("The {} is empty.", what));
  }
  return {};
}

std::string_view local_name(const pugi::xml_node& node) {
  const std::string_view name = node.name();
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node& node, std::string_view name) {
  for (pugi::xml_node element = node.first_child(); element; element = element.next_sibling()) {
    if (element.type() == pugi::node_element && local_name(element) == name) return element;
  }
  return {};
}

pugi::xml_node descendant(const pugi::xml_node& node, std::string_view name) {
  for (pugi::xml_node element = node.first_child(); element; element = element.next_sibling()) {
    if (element.type() != pugi::node_element) continue;
    if (local_name(element) == name) return element;
    if (pugi::xml_node found = descendant(element, name)) return found;
  }
  return {};
}

std::string child_text(const pugi::xml_node& node, std::string_view name) {
  return child(node, name).text().as_string();
}

namespace {

/// Reads `count` digits at `pos` into `out`; false when they are not all digits.
bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' ||
                           text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
  text = trim(text);
  int year = 0, month = 0, day = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !read_digits(text, 0, 4, year) ||
      !read_digits(text, 5, 2, month) || !read_digits(text, 8, 2, day)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::optional<std::chrono::sys_seconds> parse_date_time(std::string_view text) {
  text = trim(text);
  const auto date = parse_date(text);
  int hour = 0, minute = 0, second = 0;
  if (!date || text.size() < 19 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      !read_digits(text, 11, 2, hour) || !read_digits(text, 14, 2, minute) ||
      !read_digits(text, 17, 2, second) || hour > 24 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  std::chrono::seconds offset{0};
  if (pos < text.size()) {
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      // UTC
    } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() &&
               text[pos + 3] == ':') {
      int oh = 0, om = 0;
      if (!read_digits(text, pos + 1, 2, oh) || !read_digits(text, pos + 4, 2, om) || oh > 14 ||
          om > 59)
        return std::nullopt;
      offset = std::chrono::hours{oh} + std::chrono::minutes{om};
      if (text[pos] == '-') offset = -offset;
    } else {
      return std::nullopt;
    }
  }
  const std::chrono::sys_seconds local = std::chrono::sys_days{*date} + std::chrono::hours{hour} +
                                         std::chrono::minutes{minute} +
                                         std::chrono::seconds{second};
  return local - offset;
}

std::string format_date(std::chrono::year_month_day date) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

std::string format_date_time(std::chrono::sys_seconds instant) {
  const auto day = std::chrono::floor<std::chrono::days>(instant);
  const std::chrono::hh_mm_ss time{instant - day};
  return fmt::format("{}T{:02}:{:02}:{:02}Z", format_date(std::chrono::year_month_day{day}),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

std::optional<std::chrono::minutes> parse_duration(std::string_view text) {
  text = trim(text);
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() != 'P') return std::nullopt;
  text.remove_prefix(1);
  double total_seconds = 0;
  bool in_time = false;
  bool any = false;
  while (!text.empty()) {
    if (text.front() == 'T') {
      in_time = true;
      text.remove_prefix(1);
      continue;
    }
    std::size_t n = 0;
    while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) ++n;
    if (n == 0 || n >= text.size() || n > 12) return std::nullopt;
    const std::string number(text.substr(0, n));
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return std::nullopt;
    const char unit = text[n];
    if (!in_time && unit == 'D') {
      total_seconds += value * 86400;
    } else if (in_time && unit == 'H') {
      total_seconds += value * 3600;
    } else if (in_time && unit == 'M') {
      total_seconds += value * 60;
    } else if (in_time && unit == 'S') {
      total_seconds += value;
    } else {
      return std::nullopt;  // years and months have no fixed length: never used by EWS here
    }
    any = true;
    text.remove_prefix(n + 1);
  }
  if (!any || total_seconds > 366.0 * 86400) return std::nullopt;
  const auto minutes = std::chrono::minutes{static_cast<long>(total_seconds / 60 + 0.5)};
  return negative ? -minutes : minutes;
}

std::string format_duration(std::chrono::minutes value) {
  const bool negative = value.count() < 0;
  const long total = negative ? -value.count() : value.count();
  std::string out = negative ? "-PT" : "PT";
  if (total / 60 != 0) out += fmt::format("{}H", total / 60);
  if (total % 60 != 0 || total == 0) out += fmt::format("{}M", total % 60);
  return out;
}

std::optional<bool> parse_bool(std::string_view text) {
  text = trim(text);
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return std::nullopt;
}

std::optional<int> parse_int(std::string_view text) {
  text = trim(text);
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace agendasync::ews
