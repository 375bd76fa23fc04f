#pragma once
/// The UTF-8 check of the HTTP edge: every text the daemon hands a handler (path segments,
/// query names and values, header values, the body) must pass it, so no handler can store a
/// name that later makes every JSON answer fail.
#include <string_view>

namespace agendasync::web {

/// True when `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no UTF-16 surrogates
/// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence. The empty text is valid.
bool is_valid_utf8(std::string_view text);

}  // namespace agendasync::web
