#include "net/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

#include "net/ascii_text.h"

namespace agendasync::net {

const char* to_string(AuthMethod method) {
  switch (method) {
    case AuthMethod::kNone:
      return "none";
    case AuthMethod::kNtlm:
      return "NTLM";
    case AuthMethod::kBasic:
      return "Basic";
    case AuthMethod::kBearer:
      return "Bearer";
  }
  return "unknown";
}

std::string account_name(const Credentials& credentials) {
  if (credentials.method == AuthMethod::kNtlm && !credentials.domain.empty() &&
      credentials.user.find('\\') == std::string::npos) {
    return credentials.domain + "\\" + credentials.user;
  }
  return credentials.user;
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equals_ignoring_case(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> retry_after(const Response& response) {
  auto value = response.header("retry-after");
  if (!value) return std::nullopt;
  std::string_view text = *value;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text.front()))) {
    long long seconds = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    // A day is far beyond any sane throttle; clamp so the arithmetic cannot overflow.
    return std::chrono::milliseconds(std::min<long long>(seconds, 86'400) * 1000);
  }
  // HTTP-date (IMF-fixdate, RFC 850 or asctime): curl_getdate reads all three.
  const std::string date(text);
  const time_t when = curl_getdate(date.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  const time_t now = std::time(nullptr);
  if (when <= now) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::min<long long>(when - now, 86'400) * 1000);
}

}  // namespace agendasync::net
