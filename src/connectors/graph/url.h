#pragma once
/// Percent-encoding for Graph URLs and form bodies.
#include <string>
#include <string_view>

namespace agendasync::graph {

/// RFC 3986 percent-encoding of everything but unreserved characters.
std::string url_encode(std::string_view text);

}  // namespace agendasync::graph
