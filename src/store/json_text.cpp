#include "store/json_text.h"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <stdexcept>

namespace agendasync::store {

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) -> unsigned {
    return at + i < text.size() ? static_cast<unsigned char>(text[at + i]) : 0x100;
  };
  auto in = [](unsigned value, unsigned low, unsigned high) {
    return value >= low && value <= high;
  };
  const unsigned lead = byte(0);
  if (lead < 0x80) return 1;
  if (in(lead, 0xC2, 0xDF)) return in(byte(1), 0x80, 0xBF) ? 2 : 0;
  if (in(lead, 0xE0, 0xEF)) {
    const unsigned low = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned high = lead == 0xED ? 0x9F : 0xBF;
    return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(lead, 0xF0, 0xF4)) {
    const unsigned low = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned high = lead == 0xF4 ? 0x8F : 0xBF;
    return in(byte(1), low, high) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

namespace {

/// The bytes a string's text cannot copy as they are: control characters, the quote, the
/// backslash, and the lead bytes of UTF-8 sequences (checked, then copied).
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> special{};
  for (int c = 0; c < 256; ++c) special[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return special;
}();

void append_escaped(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t plain = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < text.size();) {
    // Most text needs nothing: one table look-up per byte until something does.
    while (i < text.size() && !kSpecial[static_cast<unsigned char>(text[i])]) ++i;
    if (i >= text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      // dump() refuses invalid UTF-8 (type_error 316); so does this, the same way.
      if (length == 0) (void)nlohmann::json(std::string(text)).dump();
      if (length == 0) throw std::invalid_argument("invalid UTF-8 in a JSON string");
      i += length;
      continue;
    }
    out.append(text.substr(plain, i - plain));
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default: {
        constexpr char kHex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, sizeof escaped);
      }
    }
    plain = ++i;
  }
  out.append(text.substr(plain));
  out.push_back('"');
}

}  // namespace

void JsonText::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0) return;
  const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
  if (filled_ & bit) out_.push_back(',');
  filled_ |= bit;
}

void JsonText::open(char bracket) {
  separate();
  out_.push_back(bracket);
  ++depth_;
  filled_ &= ~(std::uint64_t{1} << (depth_ - 1));
}

void JsonText::close(char bracket) {
  --depth_;
  out_.push_back(bracket);
}

void JsonText::key(std::string_view name) {
  separate();
  // Member names are the writers' own plain ASCII names: nothing to escape, so not scanned.
  out_.push_back('"');
  out_.append(name);
  out_.append("\":");
  after_key_ = true;
}

void JsonText::string(std::string_view value) {
  separate();
  append_escaped(out_, value);
}

void JsonText::number(std::int64_t value) {
  separate();
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out_.append(digits, end);
}

void JsonText::boolean(bool value) {
  separate();
  out_.append(value ? "true" : "false");
}

void JsonText::null() {
  separate();
  out_.append("null");
}

}  // namespace agendasync::store
