#pragma once
/// base64url without padding (RFC 4648 section 5), as JWTs use it.
#include <optional>
#include <string>
#include <string_view>

namespace agendasync::graph {

std::string base64url_encode(std::string_view bytes);
/// Accepts padded or unpadded input; nullopt on characters outside the alphabet.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace agendasync::graph
