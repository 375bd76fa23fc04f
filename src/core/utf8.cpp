// UTF-8 decoding by Unicode's table 3-7 of well-formed byte sequences. The second byte's
// range depends on the first (E0: A0..BF rejects overlongs, ED: 80..9F rejects surrogates,
// F0: 90..BF overlongs, F4: 80..8F caps at U+10FFFF), so checking it per lead byte is what
// makes overlong forms, surrogates and values above U+10FFFF invalid.
#include "core/utf8.h"

namespace agendasync {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

/// The length of the well-formed sequence at `at`, or 0 when it is ill-formed there. `valid`
/// receives how many of its bytes were valid so far (the maximal subpart, at least 1).
std::size_t sequence_at(std::string_view text, std::size_t at, std::size_t& maximal_subpart) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  maximal_subpart = 1;
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // overlong below U+0800
    if (lead == 0xED) second_high = 0x9F;  // surrogates U+D800..DFFF
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // overlong below U+10000
    if (lead == 0xF4) second_high = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // C0, C1 (overlong ASCII), F5..FF, or a stray continuation byte
  }
  for (std::size_t i = 1; i < length; ++i) {
    if (at + i >= text.size()) return 0;  // truncated
    const unsigned char next = byte(at + i);
    const unsigned char low = i == 1 ? second_low : 0x80;
    const unsigned char high = i == 1 ? second_high : 0xBF;
    if (next < low || next > high) return 0;
    maximal_subpart = i + 1;
  }
  return length;
}

}  // namespace

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  std::size_t subpart = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = sequence_at(text, at, subpart);
    if (length == 0) return at;
    at += length;
  }
  return std::nullopt;
}

bool valid_utf8(std::string_view text) { return !first_invalid_utf8(text).has_value(); }

std::string repair_utf8(std::string_view text) {
  auto first = first_invalid_utf8(text);
  if (!first) return std::string(text);
  std::string out(text.substr(0, *first));
  out.reserve(text.size() + 8);
  std::size_t subpart = 0;
  for (std::size_t at = *first; at < text.size();) {
    const std::size_t length = sequence_at(text, at, subpart);
    if (length == 0) {
      out += kReplacement;
      at += subpart;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  return out;
}

bool repair_utf8_in_place(std::string& text) {
  if (valid_utf8(text)) return false;
  text = repair_utf8(text);
  return true;
}

}  // namespace agendasync
