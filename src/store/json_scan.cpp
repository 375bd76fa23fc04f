#include "store/json_scan.h"

#include <array>
#include <limits>

#include "store/json_text.h"

namespace agendasync::store {
namespace {

/// Bytes a string's text does not simply copy: the closing quote, escapes, control characters
/// (refused) and UTF-8 lead bytes (checked).
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> special{};
  for (int c = 0; c < 256; ++c) special[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return special;
}();

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

/// The four hex digits at `text[at]`, or -1.
std::int32_t hex4(std::string_view text, std::size_t at) {
  if (at + 4 > text.size()) return -1;
  std::int32_t value = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    const char c = text[i];
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= c - '0';
    } else if (c >= 'a' && c <= 'f') {
      value |= c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      value |= c - 'A' + 10;
    } else {
      return -1;
    }
  }
  return value;
}

}  // namespace

void JsonScan::skip_space() {
  while (at_ < text_.size() &&
         (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t')) {
    ++at_;
  }
}

void JsonScan::open(char bracket) {
  if (bad_) return;
  skip_space();
  if (at_ >= text_.size() || text_[at_] != bracket) {
    fail();
    return;
  }
  ++at_;
  first_ = true;
}

bool JsonScan::more(char close) {
  if (bad_) return false;
  skip_space();
  if (at_ >= text_.size()) return fail();
  if (text_[at_] == close) {
    ++at_;
    first_ = false;
    return false;
  }
  if (!first_) {
    if (text_[at_] != ',') return fail();
    ++at_;
  }
  first_ = false;
  return true;
}

bool JsonScan::next_member(std::string_view& key) {
  if (!more('}')) return false;
  skip_space();
  if (at_ >= text_.size() || text_[at_] != '"') return fail();
  const std::size_t begin = ++at_;
  // Member names of our documents are plain ASCII: anything else goes to the full parser.
  while (at_ < text_.size() && text_[at_] != '"') {
    const auto c = static_cast<unsigned char>(text_[at_]);
    if (c < 0x20 || c >= 0x80 || c == '\\') return fail();
    ++at_;
  }
  if (at_ >= text_.size()) return fail();
  key = text_.substr(begin, at_ - begin);
  ++at_;
  skip_space();
  if (at_ >= text_.size() || text_[at_] != ':') return fail();
  ++at_;
  return true;
}

bool JsonScan::next_element() { return more(']'); }

void JsonScan::string(std::string& out) {
  out.clear();
  if (bad_) return;
  skip_space();
  if (at_ >= text_.size() || text_[at_] != '"') {
    fail();
    return;
  }
  ++at_;
  std::size_t plain = at_;  // start of the bytes not yet copied
  while (at_ < text_.size()) {
    while (at_ < text_.size() && !kSpecial[static_cast<unsigned char>(text_[at_])]) ++at_;
    if (at_ >= text_.size()) break;
    const auto c = static_cast<unsigned char>(text_[at_]);
    if (c == '"') {
      out.append(text_.substr(plain, at_ - plain));
      ++at_;
      return;
    }
    if (c < 0x20) {
      fail();
      return;
    }
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text_, at_);
      if (length == 0) {
        fail();
        return;
      }
      at_ += length;
      continue;
    }
    out.append(text_.substr(plain, at_ - plain));
    if (++at_ >= text_.size()) {
      fail();
      return;
    }
    switch (text_[at_]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        std::int32_t code = hex4(text_, at_ + 1);
        if (code < 0 || (code >= 0xDC00 && code <= 0xDFFF)) {
          fail();
          return;
        }
        at_ += 4;
        if (code >= 0xD800 && code <= 0xDBFF) {
          // A high surrogate must be followed by an escaped low one.
          const std::int32_t low =
              at_ + 2 < text_.size() && text_[at_ + 1] == '\\' && text_[at_ + 2] == 'u'
                  ? hex4(text_, at_ + 3)
                  : -1;
          if (low < 0xDC00 || low > 0xDFFF) {
            fail();
            return;
          }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          at_ += 6;
        }
        append_utf8(out, static_cast<std::uint32_t>(code));
        break;
      }
      default:
        fail();
        return;
    }
    plain = ++at_;
  }
  fail();  // no closing quote
}

std::int64_t JsonScan::integer() {
  if (bad_) return 0;
  skip_space();
  const bool negative = at_ < text_.size() && text_[at_] == '-';
  if (negative) ++at_;
  const std::size_t digits = at_;
  // Magnitudes up to 2^63 (the most negative value); one more digit is refused.
  std::uint64_t magnitude = 0;
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
  while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
    const auto digit = static_cast<std::uint64_t>(text_[at_] - '0');
    if (magnitude > (kLimit - digit) / 10) {
      fail();
      return 0;
    }
    magnitude = magnitude * 10 + digit;
    ++at_;
  }
  const std::size_t count = at_ - digits;
  // No digits, a leading zero, or a fraction / exponent (a float: the full parser decides).
  if (count == 0 || (count > 1 && text_[digits] == '0') ||
      (at_ < text_.size() && (text_[at_] == '.' || text_[at_] == 'e' || text_[at_] == 'E'))) {
    fail();
    return 0;
  }
  if (!negative && magnitude == kLimit) {
    fail();
    return 0;
  }
  return negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
}

bool JsonScan::boolean() {
  if (bad_) return false;
  skip_space();
  const std::string_view rest = text_.substr(at_);
  if (rest.starts_with("true")) {
    at_ += 4;
    return true;
  }
  if (rest.starts_with("false")) {
    at_ += 5;
    return false;
  }
  return fail();
}

bool JsonScan::null() {
  if (bad_) return false;
  skip_space();
  if (text_.substr(at_).starts_with("null")) {
    at_ += 4;
    return true;
  }
  return false;
}

void JsonScan::end() {
  if (bad_) return;
  skip_space();
  if (at_ != text_.size()) fail();
}

}  // namespace agendasync::store
