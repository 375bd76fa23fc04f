#pragma once
/// The two text rules HTTP header handling needs, in one place for net/: header names and
/// codings compare without case (RFC 9110 §5.1, §8.4.1), and values lose surrounding
/// whitespace. ASCII only, as HTTP's tokens are.
#include <algorithm>
#include <cctype>
#include <string_view>

namespace agendasync::net {

/// `a` and `b` are the same text without regard to ASCII case.
inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

/// `text` without leading and trailing whitespace.
inline std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace agendasync::net
