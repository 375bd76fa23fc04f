#pragma once
/// UTF-8 validity (RFC 3629 / Unicode table 3-7): what may enter the agenda, and the repair of
/// text that arrives broken. Pure text functions, no I/O: the CLI, the configuration, the
/// connectors and the store share the one definition of "valid".
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace agendasync {

/// True when `text` is well-formed UTF-8: no overlong forms, no surrogates (U+D800..DFFF),
/// nothing above U+10FFFF, no truncated or stray continuation bytes.
bool valid_utf8(std::string_view text);

/// The byte offset of the first ill-formed sequence, or nullopt for valid text. For messages
/// that must say where the problem is without echoing the bytes.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

/// `text` with every ill-formed sequence replaced by U+FFFD (one per maximal subpart, as
/// Unicode 15 section 3.9 recommends and browsers do); valid text comes back unchanged.
std::string repair_utf8(std::string_view text);

/// Repairs `text` in place; true when anything was replaced.
bool repair_utf8_in_place(std::string& text);

}  // namespace agendasync
