#include "net/easy_setup.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "net/ascii_text.h"

namespace agendasync::net {
namespace {

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t length = size * count;
  const std::string_view line(data, length);
  if (line.starts_with("HTTP/")) {
    // A new header block: an authentication round (NTLM's 401s) or a 100 Continue came
    // first; only the last block describes the response.
    transfer.response.headers.clear();
    transfer.response.body.clear();
    transfer.body_begun = false;
    transfer.undecodable.clear();
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

/// Hands decoded body bytes on: to the streamed answer's handler (a 2xx with on_body_piece)
/// or into Response::body, up to max_body_bytes. False ends the transfer.
bool deliver(Transfer& transfer, std::string_view data) {
  const auto& stream = transfer.request().on_body_piece;
  if (stream && transfer.status_so_far >= 200 && transfer.status_so_far < 300) {
    transfer.body_handed_over = true;
    // An exception must not unwind through libcurl's C frames: end the transfer instead.
    bool go_on = false;
    try {
      go_on = stream(data);
    } catch (...) {
      transfer.piece_handler_threw = true;
      return false;
    }
    if (!go_on) transfer.stopped_by_caller = true;
    return go_on;
  }
  if (transfer.response.body.size() + data.size() > transfer.max_body_bytes) {
    transfer.body_too_large = true;
    return false;
  }
  transfer.response.body.append(data);
  return true;
}

class Deliver final : public BodySink {
 public:
  explicit Deliver(Transfer& transfer) : transfer_(transfer) {}
  bool take(std::string_view decoded) override { return deliver(transfer_, decoded); }

 private:
  Transfer& transfer_;
};

const char* coding_name(BodyCoding coding) {
  return coding == BodyCoding::kGzip ? "gzip" : coding == BodyCoding::kDeflate ? "deflate" : "";
}

/// At a header block's first body byte: how the body is encoded (Content-Encoding, several
/// headers read as one list), with a decoder from the client's pool when it is compressed.
bool begin_body(Transfer& transfer) {
  transfer.body_begun = true;
  std::string encoding;
  for (const auto& [name, value] : transfer.response.headers) {
    if (name != "content-encoding") continue;
    if (!encoding.empty()) encoding += ", ";
    encoding += value;
  }
  const auto coding = body_coding(encoding);
  if (!coding) {
    transfer.undecodable =
        fmt::format("it is encoded as \"{}\", which AgendaSync did not ask for", encoding);
    return false;
  }
  transfer.body_coding = *coding;
  if (*coding == BodyCoding::kIdentity) return true;
  if (!transfer.decoder) {
    transfer.decoder =
        transfer.decoders != nullptr ? transfer.decoders->take() : std::make_unique<BodyDecoder>();
  }
  transfer.decoder->start(*coding);
  return true;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t length = size * count;
  if (!transfer.body_begun && !begin_body(transfer)) return 0;  // CURLE_WRITE_ERROR
  const std::string_view piece(data, length);
  if (transfer.body_coding == BodyCoding::kIdentity) return deliver(transfer, piece) ? length : 0;
  Deliver sink(transfer);
  switch (transfer.decoder->feed(piece, sink)) {
    case BodyDecoder::Fed::kOk:
      return length;
    case BodyDecoder::Fed::kSinkStopped:
      return 0;
    case BodyDecoder::Fed::kCorrupt:
      transfer.undecodable =
          fmt::format("its {} data is corrupt ({})", coding_name(transfer.body_coding),
                      transfer.decoder->error());
      return 0;
  }
  return 0;
}

/// Request::cancel: a non-zero return aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (!transfer.request().cancel || !transfer.request().cancel->load()) return 0;
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
  // NTLM only: curl runs its Type 1/2/3 exchange on one kept-alive connection and only
  // reuses an NTLM-authenticated connection for the same credentials. Basic and Bearer are
  // header lines of ours (add_header_lines): libcurl formats them through its printf engine
  // one character at a time, which for a Bearer token of 1-2 KB cost more than the request.
  if (transfer.credentials.method != AuthMethod::kNtlm) return;
  const std::string user = account_name(transfer.credentials);
  set.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_NTLM));
  set.set(CURLOPT_USERNAME, user.c_str());  // curl copies strings
  set.set(CURLOPT_PASSWORD, transfer.credentials.password.reveal().c_str());
}

bool names_header(const Request& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(), [name](const auto& header) {
    return equals_ignoring_case(header.first, name);
  });
}

/// "Authorization: Basic <base64 of user:password>", appended to `text` with its '\0'.
void append_basic_authorization(std::string& text, const Credentials& credentials) {
  std::string pair = credentials.user;
  pair += ':';
  pair += credentials.password.reveal();
  text += "Authorization: Basic ";
  const std::size_t start = text.size();
  text.resize(start + 4 * ((pair.size() + 2) / 3) + 1);  // EVP_EncodeBlock writes a '\0'
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data() + start),
                                      reinterpret_cast<const unsigned char*>(pair.data()),
                                      static_cast<int>(pair.size()));
  text.resize(start + static_cast<std::size_t>(written) + 1);  // keeps the '\0'
  OPENSSL_cleanse(pair.data(), pair.size());
}

/// The attempt's header lines in one buffer (Transfer::header_text) and curl_slist nodes
/// pointing into it: the request's headers, then ours unless the request has its own.
void add_header_lines(Transfer& transfer, const ClientOptions& options) {
  const Request& request = transfer.request();
  std::string& text = transfer.header_text;
  text.clear();
  const auto add = [&text](std::string_view name, std::string_view value) {
    text.append(name);
    text.append(": ");
    text.append(value);
    text.push_back('\0');
  };
  for (const auto& [name, value] : request.headers) add(name, value);
  // No "Expect: 100-continue" round trip: it costs a second per large POST on servers that
  // ignore it, and the body is in memory anyway.
  text.append("Expect:");
  text.push_back('\0');
  // gzip: what IIS/Exchange and Graph use, cheap for the server. Not brotli: servers that
  // compress it at the best (default) quality spend milliseconds on every small answer.
  // Decoded by us (body_decoder.h), so libcurl is not told (CURLOPT_ACCEPT_ENCODING).
  if (!names_header(request, "Accept-Encoding")) add("Accept-Encoding", "gzip");
  // Through a proxy, CURLOPT_USERAGENT also names us in the CONNECT request.
  if (options.proxy.empty() && !names_header(request, "User-Agent")) {
    add("User-Agent", options.user_agent);
  }
  const Credentials& credentials = transfer.credentials;
  if (!names_header(request, "Authorization")) {
    if (credentials.method == AuthMethod::kBasic) {
      append_basic_authorization(text, credentials);
    } else if (credentials.method == AuthMethod::kBearer) {
      text.append("Authorization: Bearer ");
      text.append(transfer.bearer_token.reveal());
      text.push_back('\0');
    }
  }
  auto& nodes = transfer.header_nodes;
  nodes.clear();
  for (std::size_t at = 0; at < text.size(); at = text.find('\0', at) + 1) {
    nodes.push_back(curl_slist{text.data() + at, nullptr});
  }
  for (std::size_t i = 0; i + 1 < nodes.size(); ++i) nodes[i].next = &nodes[i + 1];
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
  transfer.body_begun = false;
  transfer.body_too_large = false;
  transfer.undecodable.clear();
  if (reuse != nullptr) curl_easy_reset(reuse);
  CURL* curl = reuse != nullptr ? reuse : curl_easy_init();
  if (curl == nullptr) return fail(ErrorKind::kTransient, "libcurl could not make a handle");
  transfer.easy = curl;

  Options set(curl);
  set.set(CURLOPT_URL, transfer.request().url.c_str());
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
  // Our header lines carry User-Agent, except to a proxy's CONNECT, which only this names us in.
  if (!options.proxy.empty()) set.set(CURLOPT_USERAGENT, options.user_agent.c_str());
  // Bodies reach on_body as they came (Accept-Encoding is ours: add_header_lines).
  set.set(CURLOPT_HTTP_CONTENT_DECODING, 0L);
  set.set(CURLOPT_HEADERFUNCTION, &on_header);
  set.set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
  set.set(CURLOPT_WRITEFUNCTION, &on_body);
  set.set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
  if (transfer.request().cancel) {
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
  // Our header lines (an Authorization among them) go to the server only, never in a CONNECT.
  set.set(CURLOPT_HEADEROPT, static_cast<long>(CURLHEADER_SEPARATE));

  set.set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  const auto timeout = transfer.request().timeout.value_or(options.request_timeout);
  set.set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));

  set_method_and_body(set, transfer.request());
  set_authentication(set, transfer);

  add_header_lines(transfer, options);
  set.set(CURLOPT_HTTPHEADER, transfer.header_nodes.data());

  if (auto ok = set.result(); !ok) {
    transfer.end_attempt();
    return ok;
  }
  return {};
}

void note_unfinished_body(Transfer& transfer) {
  if (!transfer.body_begun || transfer.body_coding == BodyCoding::kIdentity || !transfer.decoder ||
      !transfer.undecodable.empty()) {
    return;
  }
  if (!transfer.decoder->finish()) {
    transfer.undecodable =
        fmt::format("its {} data is cut short ({})", coding_name(transfer.body_coding),
                    transfer.decoder->error());
  }
}

void Transfer::end_attempt() {
  if (easy != nullptr) curl_easy_cleanup(easy);
  easy = nullptr;
  if (decoder && decoders != nullptr) decoders->give_back(std::move(decoder));
  decoder.reset();
  // The lines may hold a password or token: wiped, the capacity kept for the next attempt.
  if (!header_text.empty()) OPENSSL_cleanse(header_text.data(), header_text.size());
  header_text.clear();
  header_nodes.clear();
}

}  // namespace agendasync::net
