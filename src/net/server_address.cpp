#include "net/server_address.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include <fmt/format.h>

namespace agendasync::net {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct PartDeleter {
  void operator()(char* part) const { curl_free(part); }
};

Result<ServerAddress> parse_url(std::string_view url);

std::string get_part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(url, which, &raw, flags) != CURLUE_OK || raw == nullptr) return {};
  std::unique_ptr<char, PartDeleter> part(raw);
  return std::string(part.get());
}

}  // namespace

std::string redact_url(std::string_view url) {
  std::string text(url.substr(0, url.find('?')));
  const auto scheme_end = text.find("://");
  const auto at = text.find('@', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  const auto path = text.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (scheme_end != std::string::npos && at != std::string::npos &&
      (path == std::string::npos || at < path)) {
    text.erase(scheme_end + 3, at - scheme_end - 2);
  }
  return text;
}

std::string ServerAddress::key() const { return fmt::format("{}://{}:{}", scheme, host, port); }

std::string ServerAddress::host_port() const { return fmt::format("{}:{}", host, port); }

Result<ServerAddress> parse_server_address(std::string_view url) {
  // Every request asks this of its URL (its slot key; EWS's budget key as well) and a node
  // sends to few servers, so each thread keeps its last answer: curl_url cost ~9 k
  // instructions a call, a tenth of an idle mailbox's whole request in net/.
  thread_local std::string last_url;
  thread_local ServerAddress last;
  if (!last_url.empty() && url == last_url) return last;
  auto parsed = parse_url(url);
  if (parsed) {
    last_url.assign(url);
    last = *parsed;
  }
  return parsed;
}

namespace {

Result<ServerAddress> parse_url(std::string_view url) {
  std::unique_ptr<CURLU, UrlDeleter> handle(curl_url());
  if (!handle) return fail(ErrorKind::kPermanent, "out of memory while reading a URL");
  const std::string text(url);
  if (curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return fail(
        ErrorKind::kInvalidData,
        fmt::format("'{}' is not a valid URL; expected https://host/path", redact_url(url)));
  }
  ServerAddress address;
  address.scheme = get_part(handle.get(), CURLUPART_SCHEME);
  address.host = get_part(handle.get(), CURLUPART_HOST);
  std::transform(address.scheme.begin(), address.scheme.end(), address.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::transform(address.host.begin(), address.host.end(), address.host.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if ((address.scheme != "http" && address.scheme != "https") || address.host.empty()) {
    return fail(
        ErrorKind::kInvalidData,
        fmt::format("'{}' is not an http(s) URL; expected https://host/path", redact_url(url)));
  }
  const std::string port = get_part(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  address.port = port.empty() ? 0 : std::stol(port);
  return address;
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  // The same three the configuration accepts with http:// (src/config, is_loopback_url).
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

}  // namespace agendasync::net
