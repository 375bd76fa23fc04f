// libFuzzer: any bytes as a request target, decoded the way the daemon's router does it (split
// at '?', every path segment percent-decoded and checked for UTF-8, the query split at '&' and
// the first '='). Nothing may crash, and three properties must hold: decoding never grows the
// text, parse_query(encode(pairs)) gives the pairs back, and is_valid_utf8 agrees with ICU.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <unicode/ustring.h>

#include "web/query.h"
#include "web/utf8.h"

namespace {

using namespace agendasync;

bool icu_says_valid(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t length = 0;
  // Preflight only: a well-formed text overflows the empty buffer, an ill-formed one fails.
  u_strFromUTF8(nullptr, 0, &length, text.data(), static_cast<int32_t>(text.size()), &status);
  return !U_FAILURE(status) || status == U_BUFFER_OVERFLOW_ERROR;
}

void check(bool holds) {
  if (!holds) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto target = web::split_target(input);
  check(target.path.size() <= input.size() && target.query.size() <= input.size());

  std::string_view rest = target.path;
  while (true) {
    auto slash = rest.find('/');
    auto raw = rest.substr(0, slash);
    auto segment = web::percent_decode(raw, false);
    check(segment.size() <= raw.size());
    check(web::is_valid_utf8(segment) == icu_says_valid(segment));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }

  const auto params = web::parse_query(target.query);
  std::string encoded;
  for (const auto& [name, value] : params) {
    check(web::is_valid_utf8(name) == icu_says_valid(name));
    check(web::is_valid_utf8(value) == icu_says_valid(value));
    encoded += web::percent_encode(name) + "=" + web::percent_encode(value) + "&";
  }
  check(web::parse_query(encoded) == params);
  check(web::percent_decode(web::percent_encode(input), true) == input);
  check(web::is_valid_utf8(input) == icu_says_valid(input));
  return 0;
}
