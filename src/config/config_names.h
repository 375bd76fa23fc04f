#pragma once
/// Parsing helpers for the configuration's enum names (declared in config.h).
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace agendasync::config {

/// The value whose to_string() is `text`, or nullopt.
template <class Enum>
std::optional<Enum> parse_name(std::string_view text, std::initializer_list<Enum> values) {
  for (auto value : values) {
    if (text == to_string(value)) return value;
  }
  return std::nullopt;
}

/// "a, b or c" for messages.
template <class Enum>
std::string list_names(std::initializer_list<Enum> values) {
  std::string out;
  std::size_t i = 0;
  for (auto value : values) {
    if (i > 0) out += (i + 1 == values.size()) ? " or " : ", ";
    out += to_string(value);
    ++i;
  }
  return out;
}

}  // namespace agendasync::config
