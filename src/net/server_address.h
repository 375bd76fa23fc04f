#pragma once
/// Which server a URL points at: the key for per-server concurrency caps and the "host:port"
/// that error messages name.
#include <string>
#include <string_view>

#include "core/error.h"

namespace agendasync::net {

struct ServerAddress {
  std::string scheme;  ///< "https"
  std::string host;    ///< lowercased; IPv6 literals keep their brackets
  long port = 0;       ///< explicit, or the scheme's default
  /// "https://host:443": two URLs with the same key share connections and a concurrency cap.
  std::string key() const;
  /// "host:443", for messages.
  std::string host_port() const;
};

/// Reads scheme, host and port from an absolute http(s) URL. Fails with kInvalidData naming
/// the URL (without any user:password part) when it is not one.
Result<ServerAddress> parse_server_address(std::string_view url);

/// Whether `host` (as ServerAddress holds it) is 127.0.0.1, localhost or [::1]: plain http is
/// accepted only to such a host (test servers, exsim), by the configuration and doctor alike.
bool is_loopback_host(std::string_view host);

/// `url` as it may appear in a message or log: without user:password@ and without the query.
std::string redact_url(std::string_view url);

}  // namespace agendasync::net
