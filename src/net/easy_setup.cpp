#include "net/easy_setup.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

namespace agendasync::net {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t length = size * count;
  const std::string_view line(data, length);
  if (line.starts_with("HTTP/")) {
    // A new header block: an authentication round (NTLM's 401s) or a 100 Continue came
    // first; only the last block describes the response.
    transfer.response.headers.clear();
    transfer.response.body.clear();
    // "HTTP/1.1 200 OK": the code follows the first space.
    const auto space = line.find(' ');
    transfer.status_so_far = space == std::string_view::npos
                                 ? 0
                                 : std::atol(std::string(line.substr(space + 1, 3)).c_str());
    // Read while the connection is live: after the transfer the TLS pointer is gone.
    if (auto version = negotiated_tls_version(transfer.easy); !version.empty()) {
      transfer.response.tls_version = std::move(version);
    }
    return length;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return length;  // the blank line ending the block
  std::string name(trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  transfer.response.headers.emplace_back(std::move(name),
                                         std::string(trim(line.substr(colon + 1))));
  return length;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t length = size * count;
  const auto& stream = transfer.request.on_body_piece;
  if (stream && transfer.status_so_far >= 200 && transfer.status_so_far < 300) {
    transfer.body_handed_over = true;
    // An exception must not unwind through libcurl's C frames: end the transfer instead.
    bool go_on = false;
    try {
      go_on = stream(std::string_view(data, length));
    } catch (...) {
      transfer.piece_handler_threw = true;
      return 0;
    }
    if (go_on) return length;
    transfer.stopped_by_caller = true;
    return 0;  // CURLE_WRITE_ERROR ends the transfer
  }
  if (transfer.response.body.size() + length > kMaxResponseBytes) return 0;  // CURLE_WRITE_ERROR
  transfer.response.body.append(data, length);
  return length;
}

/// Request::cancel: a non-zero return aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (!transfer.request.cancel || !transfer.request.cancel->load()) return 0;
  transfer.stopped_by_caller = true;
  return 1;
}

long tls_version_range(const TlsOptions& tls) {
  // R6: the floor is TLS 1.2 whatever the options say.
  const long floor = CURL_SSLVERSION_TLSv1_2;
  const long ceiling = tls.allow_tls13 ? static_cast<long>(CURL_SSLVERSION_MAX_DEFAULT)
                                       : static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2);
  return floor | ceiling;
}

/// Every setopt below takes constant, valid arguments; one failing means curl lacks a
/// feature we rely on, which must not pass silently.
class Options {
 public:
  explicit Options(CURL* curl) : curl_(curl) {}
  template <class Value>
  void set(CURLoption option, Value value) {
    const CURLcode code = curl_easy_setopt(curl_, option, value);
    if (code != CURLE_OK && first_error_ == CURLE_OK) {
      first_error_ = code;
      failed_option_ = static_cast<int>(option);
    }
  }
  Result<void> result() const {
    if (first_error_ == CURLE_OK) return {};
    return fail(ErrorKind::kPermanent,
                fmt::format("libcurl refused option {} ({}); install a libcurl with OpenSSL, "
                            "NTLM and HTTP proxy support (Debian: libcurl4)",
                            failed_option_, curl_easy_strerror(first_error_)));
  }

 private:
  CURL* curl_;
  CURLcode first_error_ = CURLE_OK;
  int failed_option_ = 0;
};

void set_method_and_body(Options& set, const Request& request) {
  const std::string& method = request.method;
  if (method == "GET" && request.body.empty()) {
    set.set(CURLOPT_HTTPGET, 1L);
    return;
  }
  if (method == "HEAD") {
    set.set(CURLOPT_NOBODY, 1L);
    return;
  }
  // POSTFIELDS does not copy: the body lives in the Transfer for the whole attempt.
  set.set(CURLOPT_POSTFIELDS, request.body.c_str());
  set.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  if (method != "POST") set.set(CURLOPT_CUSTOMREQUEST, method.c_str());
}

void set_authentication(Options& set, const Transfer& transfer) {
  const Credentials& credentials = transfer.credentials;
  switch (credentials.method) {
    case AuthMethod::kNone:
      break;
    case AuthMethod::kNtlm: {
      // curl runs the Type 1/2/3 exchange on one kept-alive connection and only reuses an
      // NTLM-authenticated connection for the same credentials.
      const std::string user = account_name(credentials);
      set.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_NTLM));
      set.set(CURLOPT_USERNAME, user.c_str());  // curl copies strings
      set.set(CURLOPT_PASSWORD, credentials.password.reveal().c_str());
      break;
    }
    case AuthMethod::kBasic:
      set.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      set.set(CURLOPT_USERNAME, credentials.user.c_str());
      set.set(CURLOPT_PASSWORD, credentials.password.reveal().c_str());
      break;
    case AuthMethod::kBearer:
      set.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
      set.set(CURLOPT_XOAUTH2_BEARER, transfer.bearer_token.reveal().c_str());
      break;
  }
}

}  // namespace

Result<void> prepare_attempt(Transfer& transfer, const ClientOptions& options, CURLSH* share,
                             const ExtraCaBundle* extra_ca, CURL* reuse) {
  transfer.end_attempt();
  transfer.response = Response{};
  transfer.error_buffer[0] = '\0';
  transfer.status_so_far = 0;
  transfer.body_handed_over = false;
  transfer.stopped_by_caller = false;
  transfer.piece_handler_threw = false;
  if (reuse != nullptr) curl_easy_reset(reuse);
  CURL* curl = reuse != nullptr ? reuse : curl_easy_init();
  if (curl == nullptr) return fail(ErrorKind::kTransient, "libcurl could not make a handle");
  transfer.easy = curl;

  Options set(curl);
  set.set(CURLOPT_URL, transfer.request.url.c_str());
  set.set(CURLOPT_PRIVATE, static_cast<void*>(&transfer));
  set.set(CURLOPT_ERRORBUFFER, transfer.error_buffer);
  set.set(CURLOPT_NOSIGNAL, 1L);
  set.set(CURLOPT_SHARE, share);
  set.set(CURLOPT_PROTOCOLS_STR, "http,https");
  set.set(CURLOPT_FOLLOWLOCATION, 0L);
  // HTTP/1.1 keep-alive everywhere: NTLM authenticates a connection, not a request, and
  // does not work over HTTP/2.
  set.set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set.set(CURLOPT_TCP_KEEPALIVE, 1L);
  // Not FORBID_REUSE as well: the new connection is as good as any and may be kept.
  if (transfer.fresh_connection) set.set(CURLOPT_FRESH_CONNECT, 1L);
  set.set(CURLOPT_USERAGENT, options.user_agent.c_str());
  // gzip: what IIS/Exchange and Graph use, cheap for the server. Not brotli: servers that
  // compress it at the best (default) quality spend milliseconds on every small answer.
  set.set(CURLOPT_ACCEPT_ENCODING, "gzip");
  set.set(CURLOPT_HEADERFUNCTION, &on_header);
  set.set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
  set.set(CURLOPT_WRITEFUNCTION, &on_body);
  set.set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
  if (transfer.request.cancel) {
    set.set(CURLOPT_XFERINFOFUNCTION, &on_progress);
    set.set(CURLOPT_XFERINFODATA, static_cast<void*>(&transfer));
    set.set(CURLOPT_NOPROGRESS, 0L);
  }

  set.set(CURLOPT_SSLVERSION, tls_version_range(options.tls));
  set.set(CURLOPT_SSL_VERIFYPEER, options.tls.verify ? 1L : 0L);
  set.set(CURLOPT_SSL_VERIFYHOST, options.tls.verify ? 2L : 0L);
  if (extra_ca != nullptr) extra_ca->install(curl);

  // An empty proxy and no-proxy list make curl ignore http(s)_proxy/no_proxy from the
  // environment: only the setting decides.
  set.set(CURLOPT_PROXY, options.proxy.c_str());
  set.set(CURLOPT_NOPROXY, "");
  set.set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);

  set.set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  const auto timeout = transfer.request.timeout.value_or(options.request_timeout);
  set.set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));

  set_method_and_body(set, transfer.request);
  set_authentication(set, transfer);

  for (const auto& [name, value] : transfer.request.headers) {
    const std::string line = fmt::format("{}: {}", name, value);
    curl_slist* grown = curl_slist_append(transfer.header_list, line.c_str());
    if (grown == nullptr) {
      transfer.end_attempt();
      return fail(ErrorKind::kTransient, "out of memory while preparing request headers");
    }
    transfer.header_list = grown;
  }
  // No "Expect: 100-continue" round trip: it costs a second per large POST on servers that
  // ignore it, and the body is in memory anyway.
  if (curl_slist* grown = curl_slist_append(transfer.header_list, "Expect:")) {
    transfer.header_list = grown;
  }
  set.set(CURLOPT_HTTPHEADER, transfer.header_list);

  if (auto ok = set.result(); !ok) {
    transfer.end_attempt();
    return ok;
  }
  return {};
}

}  // namespace agendasync::net
