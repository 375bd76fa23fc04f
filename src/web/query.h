#pragma once
/// The request target's bytes as the daemon and exsim both read them: one decoder, so a value
/// holding `=` (OData's `$filter=id eq '...'` inside `$expand=`) reaches handlers intact.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agendasync::web {

/// Decodes %XX escapes. An escape that is not `%` and two hex digits stays as written (lenient,
/// like browsers), so a stray `%` cannot make a request unreadable. `plus_is_space`: `+` is a
/// space (query strings and HTML forms); in a path it is a literal `+`.
std::string percent_decode(std::string_view text, bool plus_is_space);

/// Encodes everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
std::string percent_encode(std::string_view text);

/// A request target cut at its first `?`, both parts still encoded.
struct Target {
  std::string_view path;
  std::string_view query;  ///< without the `?`; empty when there is none
};
Target split_target(std::string_view target);

/// Decoded query (or form) parameters in their order; a name may repeat.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

/// "a=1&b=x=y&c" -> (a, 1), (b, x=y), (c, ""): split at every `&`, then at the first `=` only,
/// each side percent-decoded with `+` as a space. Empty pieces (`a=1&&b=2`) are skipped.
QueryParams parse_query(std::string_view query);

}  // namespace agendasync::web
