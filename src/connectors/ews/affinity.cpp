#include "connectors/ews/affinity.h"

#include <algorithm>
#include <cctype>

namespace agendasync::ews {

namespace {
constexpr std::string_view kCookie = "X-BackEndOverrideCookie";

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

void add_affinity_headers(std::vector<std::pair<std::string, std::string>>& headers,
                          const Affinity& affinity) {
  std::erase_if(headers, [](const auto& header) {
    return same_name(header.first, "X-AnchorMailbox") ||
           same_name(header.first, "X-PreferServerAffinity") || same_name(header.first, "Cookie");
  });
  headers.emplace_back("X-AnchorMailbox", affinity.anchor);
  headers.emplace_back("X-PreferServerAffinity", "true");
  if (!affinity.cookie.empty()) {
    headers.emplace_back("Cookie", std::string(kCookie) + "=" + affinity.cookie);
  }
}

std::string backend_override_cookie(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [name, value] : headers) {
    if (name != "set-cookie") continue;
    std::string_view text = value;
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.size() <= kCookie.size() || !same_name(text.substr(0, kCookie.size()), kCookie) ||
        text[kCookie.size()] != '=')
      continue;
    text.remove_prefix(kCookie.size() + 1);
    return std::string(text.substr(0, text.find(';')));
  }
  return {};
}

}  // namespace agendasync::ews
