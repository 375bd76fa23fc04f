#pragma once
/// The HTTP seam between protocol connectors (EWS, Graph, CalDAV) and the transport (libcurl,
/// http_client.cpp). Connectors build requests and read responses; the transport owns
/// connections, TLS, authentication handshakes, retries, backoff and concurrency caps.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/secret.h"

namespace agendasync::net {

enum class AuthMethod { kNone, kNtlm, kBasic, kBearer };
const char* to_string(AuthMethod method);

struct Credentials {
  AuthMethod method = AuthMethod::kNone;
  std::string user;    ///< NTLM: "DOMAIN\\user" or user with `domain` set; Basic: user name
  std::string domain;  ///< NTLM NetBIOS domain (may be empty)
  Secret password;     ///< NTLM/Basic
  /// Bearer: called before each request (and again after a 401) for a current token.
  std::function<Result<Secret>()> bearer_token;
};

struct TlsOptions {
  bool verify = true;            ///< certificate and host name verification
  std::string ca_bundle_path;    ///< extra CA bundle (PEM); empty = system store
  /// Never below TLS 1.2 (R6): the transport refuses older servers whatever this says.
  bool allow_tls13 = true;
};

struct ClientOptions {
  TlsOptions tls;
  std::string proxy;                        ///< "http://proxy:3128"; empty = none
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{120'000};
  int max_attempts = 4;                     ///< transport errors and 5xx (not 4xx)
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{30'000};
  int max_concurrency_per_host = 20;        ///< below EWS's usual EWSMaxConcurrency of 27
  std::string user_agent = "AgendaSync/0.1";
};

struct Request {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Requests that must not be retried by the transport (non-idempotent without a key).
  bool retry_allowed = true;
};

struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lowercased
  std::string body;
  /// Diagnostics for doctor: the negotiated TLS version ("TLSv1.3"), the remote address.
  std::string tls_version;
  std::string remote_address;
  std::optional<std::string> header(std::string_view name) const;
};

/// Transport errors map to: kTransient (connect/reset/timeout, after retries), kAuth (401 after
/// the handshake; the message names the method tried), kPermanent with a message that says
/// "TLS 1.2 or newer is required" or how to add a CA for certificate failures.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  /// Blocking call; safe to call from many threads at once.
  virtual Result<Response> send(const Request& request, const Credentials& credentials) = 0;
  /// Asynchronous call on the client's event loop; `done` runs on a client thread.
  virtual void send_async(Request request, Credentials credentials,
                          std::function<void(Result<Response>)> done) = 0;
};

/// The libcurl implementation (multi interface, connection reuse, few threads).
std::unique_ptr<HttpClient> make_curl_client(ClientOptions options);

}  // namespace agendasync::net
