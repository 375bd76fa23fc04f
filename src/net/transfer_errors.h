#pragma once
/// One table from libcurl results and HTTP authentication failures to errors an admin can act
/// on: what failed, where (host and port), and what to change. Never a password or token.
#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "net/http.h"

namespace agendasync::net {

/// Where a failed transfer was going, for the message.
struct TransferContext {
  std::string host_port;  ///< "mail.example.com:443"
  std::string proxy;      ///< redacted proxy URL, empty when direct
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds connect_timeout{0};
};

/// The error for a transfer that ended without an HTTP response. `curl_detail` is curl's
/// error buffer (may be empty). kTransient errors are the ones worth retrying.
Error transport_error(CURLcode code, std::string_view curl_detail, const TransferContext& where);

/// Whether the transport may try again after `code` (connect, reset, timeout, truncated body).
bool is_retryable(const Error& transport_failure);

/// The error for an answer whose (decoded) body is larger than `limit` bytes.
Error answer_too_large(std::string_view host_port, std::size_t limit);

/// The error for an answer whose body cannot be decoded; `why` says how: a Content-Encoding
/// the client did not ask for, or gzip/deflate data that is corrupt or cut short.
Error undecodable_answer(std::string_view host_port, std::string_view why);

/// The authentication schemes a 401's WWW-Authenticate headers offer ("NTLM", "Negotiate").
std::vector<std::string> offered_auth_schemes(const Response& response);

/// The kAuth error for a 401 after the handshake: names the method and the account tried.
Error auth_rejected(const Credentials& credentials, const Response& response,
                    std::string_view host_port);

/// The kAuth error for a 407 from the configured proxy.
Error proxy_auth_required(std::string_view proxy);

/// The error for a proxy that answered CONNECT with another non-2xx status (its rules forbid
/// the target, or the target is down from where the proxy stands).
Error proxy_refused(std::string_view proxy, std::string_view host_port, long status);

}  // namespace agendasync::net
