#pragma once
/// The HTTP seam between protocol connectors (EWS, Graph, CalDAV) and the transport (libcurl,
/// curl_client.cpp). Connectors build requests and read responses; the transport owns
/// connections, TLS, authentication handshakes, retries, backoff and concurrency caps.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "net/budget_holds.h"
#include "net/request_rate.h"

namespace agendasync::net {

enum class AuthMethod { kNone, kNtlm, kBasic, kBearer };
const char* to_string(AuthMethod method);

struct Credentials {
  AuthMethod method = AuthMethod::kNone;
  std::string user;    ///< NTLM: "DOMAIN\\user" or user with `domain` set; Basic: user name
  std::string domain;  ///< NTLM NetBIOS domain (may be empty)
  Secret password;     ///< NTLM/Basic
  /// Bearer: called before each request (and again after a 401) for a current token. The
  /// refresh after a 401 is one extra attempt on top of ClientOptions::max_attempts.
  /// Runs on a client worker thread, never on the event loop, so it may itself send requests
  /// (a token endpoint) through the same client.
  std::function<Result<Secret>()> bearer_token;
  /// Bearer, optional: asked once for a fresh token after the server answered 401 to the
  /// token from `bearer_token` (drop the cached token and fetch a new one). When empty,
  /// `bearer_token` is asked again.
  std::function<Result<Secret>()> bearer_token_refresh;
};

/// "DOMAIN\\user" for NTLM when a domain is set, else the user as given: the name the server
/// sees and the name error messages show (never with a password).
std::string account_name(const Credentials& credentials);

struct TlsOptions {
  bool verify = true;          ///< certificate and host name verification
  std::string ca_bundle_path;  ///< extra CA bundle (PEM), trusted on top of the system store
  /// Never below TLS 1.2 (R6): the transport refuses older servers whatever this says.
  bool allow_tls13 = true;
};

struct ClientOptions {
  TlsOptions tls;
  /// "http://proxy:3128"; empty = direct connections. The *_proxy environment variables are
  /// deliberately ignored: the setting is the only source, so what doctor shows is what runs.
  std::string proxy;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{120'000};
  int max_attempts = 4;  ///< transport errors and 5xx (not 4xx); absolute
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{30'000};
  /// Longest a request is held back to stay within its Request::budget_rate; beyond it the
  /// request fails kThrottled at once (nothing sent) with the wait as retry_after.
  std::chrono::milliseconds max_pacing_wait{30'000};
  int max_concurrency_per_host = 20;  ///< below EWS's usual EWSMaxConcurrency of 27
  std::string user_agent = "AgendaSync/0.1";
  /// Back-offs shared with other nodes per budget key (budget_holds.h). Null: this client's
  /// own retries are the only back-off.
  std::shared_ptr<BudgetHolds> budget_holds;
};

struct Response;

struct Request {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Requests that must not be retried by the transport (non-idempotent without a key).
  bool retry_allowed = true;
  /// Overrides ClientOptions::request_timeout for this request (long polls, streaming).
  std::optional<std::chrono::milliseconds> timeout;
  /// Decides whether a 5xx response is a hiccup worth retrying. Empty = every 5xx is retried.
  /// EWS answers SOAP faults (ErrorServerBusy, schema errors) with 500 and wants them back
  /// untouched; it passes a predicate that retries only non-SOAP 5xx. Runs on the client's
  /// event loop or, for a blocking send(), on the caller's thread: quick, thread-safe, no
  /// blocking, no send().
  std::function<bool(const Response&)> retry_response;
  /// Streaming responses (EWS GetStreamingEvents): when set, the body of a 2xx response is
  /// handed over piece by piece as it arrives instead of collecting in Response::body. Runs on
  /// the client's event loop: keep it short, never block, never call send() from it. Return
  /// false to end the transfer early; the Response then comes back with the status and headers
  /// that arrived. Once a piece was handed over, the request is not retried.
  std::function<bool(std::string_view piece)> on_body_piece;
  /// Ends the transfer once set to true, within about a second (libcurl's progress callback),
  /// even while the server sends nothing: a stream whose subscriptions changed is closed
  /// without waiting for the server's next keep-alive. The Response then comes back with the
  /// status and headers that arrived, as when on_body_piece returns false.
  std::shared_ptr<const std::atomic<bool>> cancel;
  /// Tells this protocol's answers from anything else a server may write (EWS: a SOAP
  /// envelope). When set, a 4xx/5xx answer (not 401/407) it does not recognise that came on
  /// a reused connection and closes it (`Connection: close`) is a stray answer: words the
  /// server wrote on the kept-alive connection on its own (a dropped connection, an idle
  /// timeout), which libcurl read as the answer to this request. The server may or may not
  /// have received the request. A retryable request is sent once more at once, on a new
  /// connection; a request that is not (retry_allowed false), or whose new connection gets
  /// the same again, ends in an Error that is_stray_answer() recognises. Empty = no answer is
  /// taken as stray. Runs on the client's event loop or, for a blocking send(), on the
  /// caller's thread: quick, thread-safe, no blocking, no send().
  std::function<bool(const Response&)> recognises_answer;
  /// Sends on a new connection instead of a kept-alive one (CURLOPT_FRESH_CONNECT): for a
  /// request the caller sends again after a stray answer.
  bool fresh_connection = false;
  /// Whose concurrency budget this request spends (issue 16 §3). Empty: the server's (scheme,
  /// host and port; ClientOptions::max_concurrency_per_host), shared by every request to that
  /// host. Set: the requests with this key share its slots instead, and the host's cap does
  /// not apply to them. Microsoft limits per caller and target, not per host: EWS per service
  /// account on a server (EWSMaxConcurrency), Graph per app and mailbox; with one host cap,
  /// every Exchange Online customer of a multi-tenant node would share 20 slots on
  /// graph.microsoft.com. The key is opaque here; connectors build it (and include the
  /// server in it where the limit is per server).
  std::string budget_key;
  /// The cap of `budget_key` when the client first meets the key (< 1: the client's
  /// max_concurrency_per_host). Later requests do not change it; set_budget_concurrency does.
  int budget_limit = 0;
  /// The rate `budget_key` stays within (none by default): the client holds a request back
  /// until it fits, counting every attempt when it goes out (a retry counts again, as the
  /// server counts it). A wait longer than ClientOptions::max_pacing_wait is not waited: the
  /// request ends kThrottled with that wait as retry_after, for its caller to reschedule.
  RequestRate budget_rate;
  /// What one attempt counts against budget_rate: a Graph $batch counts each member.
  int budget_cost = 1;
};

struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lowercased
  std::string body;
  /// Diagnostics for doctor: the negotiated TLS version ("TLSv1.3"), the remote address.
  std::string tls_version;
  std::string remote_address;
  /// How many times the transport sent this request (1 = no retry), and how long it waited
  /// between attempts (backoff and Retry-After) in total.
  int attempts = 1;
  std::chrono::milliseconds retry_wait{0};
  std::optional<std::string> header(std::string_view name) const;
};

/// The Error::protocol_code of a stray answer (Request::recognises_answer).
inline constexpr const char* kStrayAnswerCode = "stray-answer";

/// True for the error a stray answer ended in (Request::recognises_answer): the server may
/// or may not have acted on the request; only its caller can tell whether to send it again.
bool is_stray_answer(const Error& error);

/// The wait a 429/503 response asks for: Retry-After as delta-seconds or an HTTP-date
/// (a date in the past is a wait of 0). nullopt when absent or unreadable.
std::optional<std::chrono::milliseconds> retry_after(const Response& response);

/// Counters since the client was made, for metrics (monotonic, read at any time).
struct ClientStats {
  std::uint64_t requests = 0;             ///< send()/send_async() calls
  std::uint64_t attempts = 0;             ///< transfers started (requests + retries)
  std::uint64_t retries = 0;              ///< attempts after the first
  std::uint64_t transport_errors = 0;     ///< attempts that ended without an HTTP response
  std::uint64_t retry_wait_ms = 0;        ///< total time requests waited before a retry
  std::uint64_t queued_for_host_cap = 0;  ///< attempts that waited for a host or budget slot
  std::uint64_t failed = 0;               ///< requests that ended in an Error
  std::uint64_t paced_wait_ms = 0;        ///< total time attempts were held for budget_rate
  std::uint64_t paced_refused = 0;        ///< requests ended kThrottled by budget_rate
};

/// Transport errors map to: kTransient (connect/reset/timeout, after retries), kAuth (401 after
/// the handshake; the message names the method tried), kPermanent with a message that says
/// "TLS 1.2 or newer is required" or how to add a CA for certificate failures.
/// Every other HTTP status (4xx, 5xx after retries) comes back as a Response for the connector
/// to map with its protocol's codes.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  /// Blocking call; safe to call from many threads at once.
  virtual Result<Response> send(const Request& request, const Credentials& credentials) = 0;
  /// Asynchronous call on the client's event loop; `done` runs on a client thread.
  virtual void send_async(Request request, Credentials credentials,
                          std::function<void(Result<Response>)> done) = 0;
  /// Sets the concurrency cap of the server `url` points at (scheme, host and port count;
  /// the path does not) at run time, e.g. lower on EWS ErrorExceededConnectionCount. Requests
  /// in flight finish; new ones queue until the server is under the cap. A limit < 1 counts
  /// as 1. Test fakes may ignore it.
  virtual void set_host_concurrency(std::string_view url, int limit) {
    (void)url;
    (void)limit;
  }
  /// Sets the cap of the budget `key` (Request::budget_key) at run time, as
  /// set_host_concurrency does for a server: e.g. EWS lowers its service account's budget on
  /// ErrorExceededConnectionCount. Test fakes may ignore it.
  virtual void set_budget_concurrency(std::string_view key, int limit) {
    (void)key;
    (void)limit;
  }
  /// A connector read a back-off in an answer the transport cannot interpret (EWS
  /// ErrorServerBusy's BackOffMilliseconds in a SOAP fault): requests spending `key`, on
  /// this node and on every node sharing ClientOptions::budget_holds, wait `wait`. Test
  /// fakes may ignore it.
  virtual void hold_budget(std::string_view key, std::chrono::milliseconds wait) {
    (void)key;
    (void)wait;
  }
  /// Counters for metrics. Test fakes may return zeros.
  virtual ClientStats stats() const { return {}; }
};

/// The libcurl implementation (multi interface, connection reuse, few threads).
std::unique_ptr<HttpClient> make_curl_client(ClientOptions options);

}  // namespace agendasync::net
