#include "net/transfer_errors.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace agendasync::net {
namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

/// curl's own words when it has any, else its generic text for the code.
std::string reason(CURLcode code, std::string_view detail) {
  std::string text = detail.empty() ? std::string(curl_easy_strerror(code)) : std::string(detail);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string port_of(std::string_view host_port) {
  const auto colon = host_port.rfind(':');
  return colon == std::string_view::npos ? std::string() : std::string(host_port.substr(colon + 1));
}

std::string host_of(std::string_view host_port) {
  const auto colon = host_port.rfind(':');
  return std::string(colon == std::string_view::npos ? host_port : host_port.substr(0, colon));
}

Error make(ErrorKind kind, std::string message, CURLcode code) {
  return Error::make(kind, std::move(message), fmt::format("curl:{}", static_cast<int>(code)));
}

bool is_tls_version_refusal(std::string_view lowered_detail) {
  return contains(lowered_detail, "protocol version") ||
         contains(lowered_detail, "unsupported protocol") ||
         contains(lowered_detail, "no protocols available") ||
         contains(lowered_detail, "version too low");
}

}  // namespace

Error transport_error(CURLcode code, std::string_view curl_detail, const TransferContext& where) {
  const std::string why = reason(code, curl_detail);
  const std::string lowered = lowercase(why);
  const std::string& hp = where.host_port;
  const std::string via = where.proxy.empty() ? "" : fmt::format(" through proxy {}", where.proxy);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return make(ErrorKind::kTransient,
                  fmt::format("cannot resolve the host name '{}' (port {}): {}. Check the server "
                              "name in the URL and this machine's DNS configuration",
                              host_of(hp), port_of(hp), why),
                  code);
    case CURLE_COULDNT_RESOLVE_PROXY:
      return make(ErrorKind::kTransient,
                  fmt::format("cannot resolve the proxy host of {}: {}. Check the proxy setting "
                              "and this machine's DNS configuration",
                              where.proxy, why),
                  code);
    case CURLE_COULDNT_CONNECT:
      return make(ErrorKind::kTransient,
                  fmt::format("cannot connect to {}{}: {}. Check that the server is running, "
                              "the port is right and a firewall lets this machine reach port {}",
                              hp, via, why, port_of(hp)),
                  code);
    case CURLE_OPERATION_TIMEDOUT:
      if (contains(lowered, "connection timed out") || contains(lowered, "connect")) {
        return make(ErrorKind::kTransient,
                    fmt::format("no connection to {}{} within {} ms: {}. Check the network path "
                                "and firewall to port {}",
                                hp, via, where.connect_timeout.count(), why, port_of(hp)),
                    code);
      }
      return make(ErrorKind::kTransient,
                  fmt::format("{} did not answer completely within {} ms{}: {}. The server is "
                              "overloaded or the request is too large; try again later",
                              hp, where.timeout.count(), via, why),
                  code);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return make(ErrorKind::kTransient,
                  fmt::format("the connection to {}{} broke before a complete answer arrived: {}",
                              hp, via, why),
                  code);
    case CURLE_SSL_CONNECT_ERROR:
      if (is_tls_version_refusal(lowered)) {
        return make(ErrorKind::kPermanent,
                    fmt::format("{}: the server offers only TLS older than 1.2; AgendaSync "
                                "requires TLS 1.2 or newer — upgrade the server's TLS "
                                "configuration (curl: {})",
                                hp, why),
                    code);
      }
      if (contains(lowered, "wrong version number") ||
          contains(lowered, "packet length too long")) {
        return make(ErrorKind::kPermanent,
                    fmt::format("{} did not answer with TLS ({}). Check that the URL uses the "
                                "right scheme (https) and port",
                                hp, why),
                    code);
      }
      // Anything else in the handshake (a reset, a dropped connection) may pass.
      return make(ErrorKind::kTransient,
                  fmt::format("the TLS handshake with {}{} failed: {}", hp, via, why), code);
    case CURLE_PEER_FAILED_VERIFICATION:
      if (contains(lowered, "subject name") || contains(lowered, "does not match") ||
          contains(lowered, "hostname mismatch")) {
        return make(ErrorKind::kPermanent,
                    fmt::format("the TLS certificate of {} is not issued for '{}' ({}). Use the "
                                "host name the certificate names in the URL",
                                hp, host_of(hp), why),
                    code);
      }
      return make(ErrorKind::kPermanent,
                  fmt::format("the TLS certificate of {} is not trusted ({}). If it comes from "
                              "your own certificate authority, add that CA's certificate (PEM) "
                              "to the file named by the [tls] ca_bundle setting",
                              hp, why),
                  code);
    case CURLE_SSL_CACERT_BADFILE:
      return make(ErrorKind::kPermanent,
                  fmt::format("the CA bundle named by the [tls] ca_bundle setting cannot be read "
                              "({}). Point it at a readable PEM file",
                              why),
                  code);
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
      return make(ErrorKind::kPermanent,
                  fmt::format("TLS with {} failed: {}. Check the server's certificate and TLS "
                              "configuration (TLS 1.2 or newer with a modern cipher)",
                              hp, why),
                  code);
    case CURLE_WRITE_ERROR:
      // Our body callback refuses only what exceeds the size limit (answer_too_large, when
      // the client knows that limit) or cannot be decoded (undecodable_answer).
      return make(ErrorKind::kPermanent,
                  fmt::format("the answer from {} is larger than AgendaSync accepts (512 MiB); "
                              "ask for fewer items per request",
                              hp),
                  code);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return make(ErrorKind::kInvalidData,
                  fmt::format("the URL for {} is not usable: {}. Use https://host/path", hp, why),
                  code);
    default:
      return make(ErrorKind::kPermanent,
                  fmt::format("HTTP request to {}{} failed: {}", hp, via, why), code);
  }
}

Error answer_too_large(std::string_view host_port, std::size_t limit) {
  const std::string size = limit >= (std::size_t{1} << 20) ? fmt::format("{} MiB", limit >> 20)
                                                           : fmt::format("{} bytes", limit);
  return make(ErrorKind::kPermanent,
              fmt::format("the answer from {} is larger than AgendaSync accepts ({}, after "
                          "decompression); ask for fewer items per request",
                          host_port, size),
              CURLE_WRITE_ERROR);
}

Error undecodable_answer(std::string_view host_port, std::string_view why) {
  return make(ErrorKind::kPermanent,
              fmt::format("the answer from {} cannot be read: {}. AgendaSync asks for gzip; "
                          "if a proxy, load balancer or TLS inspection device sits between it "
                          "and the server, check that it passes compressed answers unchanged",
                          host_port, why),
              CURLE_BAD_CONTENT_ENCODING);
}

bool is_retryable(const Error& transport_failure) {
  return transport_failure.kind == ErrorKind::kTransient;
}

std::vector<std::string> offered_auth_schemes(const Response& response) {
  std::vector<std::string> schemes;
  for (const auto& [name, value] : response.headers) {
    if (name != "www-authenticate") continue;
    // A header may hold several challenges separated by commas; parameters contain '='.
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view piece = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
      const std::string_view word = piece.substr(0, piece.find(' '));
      if (word.empty() || contains(word, "=")) continue;
      if (std::find(schemes.begin(), schemes.end(), word) == schemes.end()) {
        schemes.emplace_back(word);
      }
    }
  }
  return schemes;
}

Error auth_rejected(const Credentials& credentials, const Response& response,
                    std::string_view host_port) {
  const auto schemes = offered_auth_schemes(response);
  const std::string offered =
      schemes.empty() ? std::string("no method") : fmt::format("{}", fmt::join(schemes, ", "));
  const auto offers = [&](std::string_view scheme) {
    return std::any_of(schemes.begin(), schemes.end(),
                       [&](const std::string& s) { return lowercase(s) == lowercase(scheme); });
  };
  std::string message;
  switch (credentials.method) {
    case AuthMethod::kNone:
      message = fmt::format(
          "{} requires authentication (it offers {}) but no authentication method is "
          "configured; configure the service account's method and credentials",
          host_port, offered);
      break;
    case AuthMethod::kNtlm:
      if (!schemes.empty() && !offers("NTLM") && !offers("Negotiate")) {
        message = fmt::format(
            "NTLM authentication as {} is not possible at {}: the server offers only {}. Enable "
            "Windows authentication on the server's EWS virtual directory or choose an offered "
            "method",
            account_name(credentials), host_port, offered);
      } else {
        message = fmt::format(
            "NTLM authentication as {} was rejected by {}; check the service account's user "
            "name, NetBIOS domain and password, and that the account is not locked or disabled",
            account_name(credentials), host_port);
      }
      break;
    case AuthMethod::kBasic:
      message = fmt::format(
          "Basic authentication as {} was rejected by {} (the server offers {}); check the user "
          "name and password, and that Basic authentication is enabled on the server",
          credentials.user, host_port, offered);
      break;
    case AuthMethod::kBearer: {
      std::string detail;
      for (const auto& [name, value] : response.headers) {
        if (name == "www-authenticate" && contains(lowercase(value), "bearer")) detail = value;
      }
      message = fmt::format(
          "the Bearer token was rejected by {} even after fetching a fresh one{}; check the app "
          "registration's permissions, admin consent and the token's audience",
          host_port, detail.empty() ? "" : fmt::format(" (server says: {})", detail));
      break;
    }
  }
  return Error::make(ErrorKind::kAuth, std::move(message), "401");
}

Error proxy_auth_required(std::string_view proxy) {
  return Error::make(ErrorKind::kAuth,
                     fmt::format("the proxy {} requires authentication (HTTP 407); put its user "
                                 "and password in the proxy URL (http://user:password@host:port) "
                                 "or allow this machine through without authentication",
                                 proxy),
                     "407");
}

Error proxy_refused(std::string_view proxy, std::string_view host_port, long status) {
  // 502/503/504 from a proxy mean it could not reach the server: that may pass.
  const ErrorKind kind = status >= 500 ? ErrorKind::kTransient : ErrorKind::kPermanent;
  return Error::make(kind,
                     fmt::format("the proxy {} refused the tunnel to {} (HTTP {}); check that "
                                 "the proxy allows connections to that host and port",
                                 proxy, host_port, status),
                     std::to_string(status));
}

}  // namespace agendasync::net
