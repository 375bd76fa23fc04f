// The libcurl HttpClient: one event-loop thread drives a curl multi handle for every request
// of the process (connection cache, TLS sessions and DNS shared), a concurrency cap per
// server or budget key queues the excess, and failed attempts wait on a timer list, holding no
// slot, before they run again. Blocking callbacks (bearer token sources, completion callbacks) run
// on small worker pools so the loop never waits on user code.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/curl_global.h"
#include "net/easy_setup.h"
#include "net/host_slots.h"
#include "net/http.h"
#include "net/retry_policy.h"
#include "net/stray_answer.h"
#include "net/tls_trust.h"
#include "net/transfer.h"
#include "net/transfer_errors.h"
#include "net/worker_pool.h"

namespace agendasync::net {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The longest the loop sleeps without news: bounds how late a missed wake-up is noticed.
constexpr milliseconds kMaxPoll{500};
/// Idle connections kept for reuse across all servers.
constexpr long kConnectionCacheSize = 256;

/// True when the answer carries a JSON body (application/json, also with parameters or a
/// +json suffix), the way Graph and Entra ID describe their errors.
bool explains_itself_in_json(const Response& response) {
  if (response.body.empty()) return false;
  const auto type = response.header("Content-Type");
  if (!type) return false;
  std::string lowered(*type);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string media = lowered.substr(0, lowered.find(';'));
  return media.find("/json") != std::string::npos || media.find("+json") != std::string::npos;
}

struct Counters {
  std::atomic<std::uint64_t> requests{0}, attempts{0}, retries{0}, transport_errors{0},
      retry_wait_ms{0}, queued_for_host_cap{0}, failed{0}, paced_wait_ms{0}, paced_refused{0};
};

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(ClientOptions options);
  ~CurlClient() override;

  Result<Response> send(const Request& request, const Credentials& credentials) override;
  void send_async(Request request, Credentials credentials,
                  std::function<void(Result<Response>)> done) override;
  void set_host_concurrency(std::string_view url, int limit) override;
  void set_budget_concurrency(std::string_view key, int limit) override;
  void hold_budget(std::string_view key, milliseconds wait) override;
  ClientStats stats() const override;

 private:
  using TransferPtr = std::unique_ptr<Transfer>;

  // Any thread.
  void begin(TransferPtr transfer);
  void fetch_token_then_submit(TransferPtr transfer, bool after_rejection);
  void submit(TransferPtr transfer);
  void complete(TransferPtr transfer, Result<Response> result);

  // Loop thread only.
  void run_loop();
  void admit(Transfer& transfer);
  void start_attempt(Transfer& transfer);
  /// Request::budget_rate: true when the attempt may go now (counted); otherwise the transfer
  /// gave its slot back and waits on the timer list, or ended kThrottled.
  bool paced(Transfer& transfer);
  void start_admitted(const std::vector<std::uint64_t>& ids);
  void release_slot(const Transfer& transfer);
  void drain_finished();
  void on_attempt_done(Transfer& transfer, CURLcode code);
  void retry_later(Transfer& transfer, milliseconds wait, std::string_view why);
  void finish(Transfer& transfer, Result<Response> result);
  void fire_due_retries();
  milliseconds poll_timeout() const;
  void abandon_everything(std::vector<TransferPtr> not_started);
  TransferContext context_of(const Transfer& transfer) const;

  const ClientOptions options_;
  const RetryPolicy policy_;
  std::shared_ptr<const ExtraCaBundle> extra_ca_;
  std::optional<Error> setup_error_;  ///< e.g. an unreadable CA bundle: every request fails
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;
  Counters counters_;
  std::atomic<std::uint64_t> next_id_{1};

  std::mutex inbox_mutex_;  ///< guards the three members below and multi_ wake-ups
  std::vector<TransferPtr> inbox_;
  std::vector<std::pair<std::string, int>> limit_changes_;
  bool stopping_ = false;

  // Owned by the loop thread.
  HostSlots slots_;
  RateWindows rates_;
  std::unordered_map<std::uint64_t, TransferPtr> transfers_;
  std::multimap<Clock::time_point, std::uint64_t> retry_at_;
  std::mt19937_64 random_{std::random_device{}()};

  // Declared last so they are destroyed first, while everything their jobs touch is alive:
  // token jobs still drain into submit(), which completes them with a shut-down error.
  WorkerPool callbacks_{2};
  WorkerPool token_workers_{2};
  std::thread loop_;
};

CurlClient::CurlClient(ClientOptions options)
    : options_(std::move(options)),
      policy_{std::max(options_.max_attempts, 1), options_.backoff_base, options_.backoff_max},
      slots_(options_.max_concurrency_per_host) {
  ensure_curl_initialised();
  if (!options_.tls.ca_bundle_path.empty()) {
    auto bundle = ExtraCaBundle::load(options_.tls.ca_bundle_path);
    if (bundle) {
      extra_ca_ = *bundle;
    } else {
      setup_error_ = bundle.error();
    }
  }
  multi_ = curl_multi_init();
  share_ = curl_share_init();
  if (multi_ == nullptr || share_ == nullptr) {
    throw std::runtime_error("libcurl could not create its multi/share handles (out of memory)");
  }
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, kConnectionCacheSize);
  // Only the loop thread uses easy handles, so the share needs no lock callbacks.
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  loop_ = std::thread([this] { run_loop(); });
}

CurlClient::~CurlClient() {
  {
    std::lock_guard lock(inbox_mutex_);
    stopping_ = true;
    curl_multi_wakeup(multi_);
  }
  loop_.join();
  curl_multi_cleanup(multi_);
  curl_share_cleanup(share_);
}

Result<Response> CurlClient::send(const Request& request, const Credentials& credentials) {
  std::promise<Result<Response>> promise;
  auto future = promise.get_future();
  auto transfer = std::make_unique<Transfer>();
  transfer->request = request;
  transfer->credentials = credentials;
  transfer->complete_inline = true;
  transfer->done = [&promise](Result<Response> result) { promise.set_value(std::move(result)); };
  begin(std::move(transfer));
  return future.get();
}

void CurlClient::send_async(Request request, Credentials credentials,
                            std::function<void(Result<Response>)> done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->credentials = std::move(credentials);
  transfer->done = std::move(done);
  begin(std::move(transfer));
}

void CurlClient::set_host_concurrency(std::string_view url, int limit) {
  auto server = parse_server_address(url);
  if (!server) {
    spdlog::warn("net: cannot set a concurrency cap: {}", server.error().message);
    return;
  }
  std::lock_guard lock(inbox_mutex_);
  if (stopping_) return;
  limit_changes_.emplace_back(server->key(), limit);
  curl_multi_wakeup(multi_);
}

void CurlClient::set_budget_concurrency(std::string_view key, int limit) {
  std::lock_guard lock(inbox_mutex_);
  if (stopping_) return;
  limit_changes_.emplace_back(budget_slot_key(key), limit);
  curl_multi_wakeup(multi_);
}

void CurlClient::hold_budget(std::string_view key, milliseconds wait) {
  if (options_.budget_holds && !key.empty()) options_.budget_holds->hold(key, wait);
}

ClientStats CurlClient::stats() const {
  ClientStats out;
  out.requests = counters_.requests.load();
  out.attempts = counters_.attempts.load();
  out.retries = counters_.retries.load();
  out.transport_errors = counters_.transport_errors.load();
  out.retry_wait_ms = counters_.retry_wait_ms.load();
  out.queued_for_host_cap = counters_.queued_for_host_cap.load();
  out.failed = counters_.failed.load();
  out.paced_wait_ms = counters_.paced_wait_ms.load();
  out.paced_refused = counters_.paced_refused.load();
  return out;
}

void CurlClient::begin(TransferPtr transfer) {
  ++counters_.requests;
  transfer->id = next_id_++;
  if (setup_error_) return complete(std::move(transfer), std::unexpected(*setup_error_));
  auto server = parse_server_address(transfer->request.url);
  if (!server) return complete(std::move(transfer), std::unexpected(server.error()));
  transfer->server = std::move(*server);
  if (transfer->request.budget_key.empty()) {
    transfer->slot_key = transfer->server.key();
  } else {
    transfer->slot_key = budget_slot_key(transfer->request.budget_key);
    transfer->slot_limit = transfer->request.budget_limit;
  }
  transfer->fresh_connection = transfer->request.fresh_connection;
  if (transfer->credentials.method == AuthMethod::kBearer) {
    if (!transfer->credentials.bearer_token) {
      return complete(std::move(transfer),
                      fail(ErrorKind::kAuth,
                           "Bearer authentication is configured without a "
                           "token source; configure the OAuth app credentials"));
    }
    return fetch_token_then_submit(std::move(transfer), false);
  }
  submit(std::move(transfer));
}

void CurlClient::fetch_token_then_submit(TransferPtr transfer, bool after_rejection) {
  // std::function needs a copyable job; the transfer rides in a shared holder.
  auto holder = std::make_shared<TransferPtr>(std::move(transfer));
  token_workers_.post([this, holder, after_rejection] {
    TransferPtr transfer = std::move(*holder);
    const Credentials& credentials = transfer->credentials;
    const auto& source = after_rejection && credentials.bearer_token_refresh
                             ? credentials.bearer_token_refresh
                             : credentials.bearer_token;
    Result<Secret> token = fail(ErrorKind::kAuth, "the token source failed unexpectedly");
    try {
      token = source();
    } catch (const std::exception& e) {
      token = fail(ErrorKind::kAuth, fmt::format("the token source failed: {}", e.what()));
    } catch (...) {
    }
    if (!token) {
      Error error = token.error();
      error.message =
          fmt::format("no Bearer token for {}: {}", transfer->server.host_port(), error.message);
      return complete(std::move(transfer), std::unexpected(std::move(error)));
    }
    transfer->bearer_token = std::move(*token);
    submit(std::move(transfer));
  });
}

void CurlClient::submit(TransferPtr transfer) {
  {
    std::lock_guard lock(inbox_mutex_);
    if (!stopping_) {
      inbox_.push_back(std::move(transfer));
      curl_multi_wakeup(multi_);
      return;
    }
  }
  complete(std::move(transfer),
           fail(ErrorKind::kTransient, "the HTTP client was shut down before the request ran"));
}

void CurlClient::complete(TransferPtr transfer, Result<Response> result) {
  if (!result) ++counters_.failed;
  if (transfer->complete_inline) {
    transfer->done(std::move(result));
    return;
  }
  auto job = std::make_shared<std::pair<std::function<void(Result<Response>)>, Result<Response>>>(
      std::move(transfer->done), std::move(result));
  callbacks_.post([job] { job->first(std::move(job->second)); });
}

void CurlClient::run_loop() {
  for (;;) {
    std::vector<TransferPtr> arrived;
    std::vector<std::pair<std::string, int>> limits;
    {
      std::lock_guard lock(inbox_mutex_);
      arrived.swap(inbox_);
      limits.swap(limit_changes_);
      if (stopping_) return abandon_everything(std::move(arrived));
    }
    // Caps first: a caller that lowers the cap and then sends expects the new cap to hold.
    for (const auto& [key, limit] : limits) start_admitted(slots_.set_limit(key, limit));
    for (auto& transfer : arrived) {
      Transfer& ref = *transfer;
      transfers_.emplace(ref.id, std::move(transfer));
      admit(ref);
    }
    fire_due_retries();
    int running = 0;
    curl_multi_perform(multi_, &running);
    drain_finished();
    // curl lowers the wait to its own next timeout; wake-ups cut it short.
    curl_multi_poll(multi_, nullptr, 0, static_cast<int>(poll_timeout().count()), nullptr);
  }
}

void CurlClient::admit(Transfer& transfer) {
  // A back-off another request (here or on another node) was given for this budget key:
  // wait it out on the timer list, holding no slot.
  if (options_.budget_holds && !transfer.request.budget_key.empty()) {
    const auto until = options_.budget_holds->held_until(transfer.request.budget_key);
    const auto now = Clock::now();
    if (until && *until > now) {
      const auto wait = std::chrono::ceil<milliseconds>(*until - now);
      if (wait > options_.max_pacing_wait) {
        // A back-off of minutes is not sat out holding the caller's thread: it ends as the
        // server's own long Retry-After does, throttled and unsent, for a later run.
        ++counters_.paced_refused;
        Error error = Error::make(
            ErrorKind::kThrottled,
            fmt::format("held back, not sent: Exchange asked {} to wait (a Retry-After or "
                        "ErrorServerBusy seen by this or another node); it may send again in {} s",
                        transfer.request.budget_key,
                        std::chrono::ceil<std::chrono::seconds>(wait).count()));
        error.retry_after = wait;
        return finish(transfer, std::unexpected(std::move(error)));
      }
      transfer.waited += wait;
      counters_.retry_wait_ms += static_cast<std::uint64_t>(wait.count());
      retry_at_.emplace(*until, transfer.id);
      return;
    }
  }
  if (slots_.acquire(transfer.slot_key, transfer.id, transfer.slot_limit)) {
    start_attempt(transfer);
  } else {
    ++counters_.queued_for_host_cap;
  }
}

void CurlClient::start_admitted(const std::vector<std::uint64_t>& ids) {
  for (std::uint64_t id : ids) {
    if (auto it = transfers_.find(id); it != transfers_.end()) start_attempt(*it->second);
  }
}

void CurlClient::release_slot(const Transfer& transfer) {
  start_admitted(slots_.release(transfer.slot_key));
}

bool CurlClient::paced(Transfer& transfer) {
  const RequestRate rate = transfer.request.budget_rate;
  if (!rate.limited()) return true;
  const int cost = std::max(1, transfer.request.budget_cost);
  const auto now = Clock::now();
  const auto wait = rates_.wait_for(transfer.slot_key, rate, cost, now);
  if (wait && wait->count() == 0) {
    rates_.spend(transfer.slot_key, rate, cost, now);
    return true;
  }
  release_slot(transfer);
  if (!wait) {
    finish(transfer, fail(ErrorKind::kPermanent,
                          fmt::format("{} {} counts {} requests, more than its budget allows in "
                                      "{} ms ({}); send it in smaller parts",
                                      transfer.request.method, transfer.server.host_port(), cost,
                                      rate.per.count(), rate.requests)));
    return false;
  }
  if (*wait > options_.max_pacing_wait) {
    ++counters_.paced_refused;
    Error error = Error::make(
        ErrorKind::kThrottled,
        fmt::format("held back, not sent: {} requests in {} s is the budget for {} and it is "
                    "spent; it frees up in {} s",
                    rate.requests, rate.per.count() / 1000, transfer.request.budget_key,
                    std::chrono::ceil<std::chrono::seconds>(*wait).count()));
    error.retry_after = *wait;
    finish(transfer, std::unexpected(std::move(error)));
    return false;
  }
  transfer.waited += *wait;
  counters_.paced_wait_ms += static_cast<std::uint64_t>(wait->count());
  retry_at_.emplace(now + *wait, transfer.id);
  return false;
}

void CurlClient::start_attempt(Transfer& transfer) {
  if (!paced(transfer)) return;
  ++transfer.attempts;
  ++counters_.attempts;
  if (transfer.attempts > 1) ++counters_.retries;
  auto prepared = prepare_attempt(transfer, options_, share_, extra_ca_.get());
  if (prepared && curl_multi_add_handle(multi_, transfer.easy) != CURLM_OK) {
    transfer.end_attempt();
    prepared = fail(ErrorKind::kTransient, "libcurl could not start the request");
  }
  if (!prepared) {
    release_slot(transfer);
    finish(transfer, std::unexpected(prepared.error()));
  }
}

void CurlClient::drain_finished() {
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    // The message dies with curl_multi_remove_handle: copy what we need first.
    CURL* easy = message->easy_handle;
    const CURLcode code = message->data.result;
    Transfer* transfer = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &transfer);
    on_attempt_done(*transfer, code);
  }
}

void CurlClient::on_attempt_done(Transfer& transfer, CURLcode code) {
  long status = 0;
  char* ip = nullptr;
  long port = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(transfer.easy, CURLINFO_PRIMARY_IP, &ip);
  curl_easy_getinfo(transfer.easy, CURLINFO_PRIMARY_PORT, &port);
  long connect_code = 0;  // the proxy's answer to CONNECT, when tunnelling
  curl_easy_getinfo(transfer.easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);
  long new_connections = 0;  // 0: the attempt went out on a kept-alive connection
  curl_easy_getinfo(transfer.easy, CURLINFO_NUM_CONNECTS, &new_connections);
  if (ip != nullptr && *ip != '\0') {
    transfer.response.remote_address = fmt::format("{}:{}", ip, port);
  }
  curl_multi_remove_handle(multi_, transfer.easy);
  transfer.end_attempt();
  release_slot(transfer);

  Response& response = transfer.response;
  response.status = status;
  response.attempts = transfer.attempts;
  response.retry_wait = transfer.waited;

  if ((code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK) &&
      transfer.stopped_by_caller) {
    return finish(transfer, std::move(response));  // the caller ended the stream
  }
  if (code == CURLE_WRITE_ERROR && transfer.piece_handler_threw) {
    return finish(transfer, fail(ErrorKind::kPermanent,
                                 fmt::format("the handler for the streamed answer from {} threw; "
                                             "the stream was closed",
                                             transfer.server.host_port())));
  }
  if (code != CURLE_OK) {
    ++counters_.transport_errors;
    Error error =
        connect_code >= 300
            ? (connect_code == 407 ? proxy_auth_required(redact_url(options_.proxy))
                                   : proxy_refused(redact_url(options_.proxy),
                                                   transfer.server.host_port(), connect_code))
            : transport_error(code, transfer.error_buffer, context_of(transfer));
    AttemptOutcome outcome;
    outcome.transport_error = true;
    // Pieces already handed over cannot be taken back: a stream is not replayed.
    outcome.transport_retryable = is_retryable(error) && !transfer.body_handed_over;
    const auto decision = decide_retry(policy_, transfer.attempts, transfer.request.retry_allowed,
                                       outcome, random_());
    if (decision.retry) return retry_later(transfer, decision.wait, error.message);
    if (transfer.attempts > 1 && is_retryable(error)) {
      error.message += fmt::format(" (gave up after {} attempts)", transfer.attempts);
    }
    return finish(transfer, std::unexpected(std::move(error)));
  }

  if (looks_stray(transfer.request, response)) {
    if (transfer.stray_retried) {
      return finish(transfer,
                    std::unexpected(stray_answer_error(response, transfer.server.host_port(),
                                                       StrayEnding::kAgainOnNewConnection)));
    }
    // On a new connection the first answer can only be the server's answer to this request.
    if (new_connections == 0) {
      spdlog::warn(
          "net: {} {}: HTTP {} and Connection: close on a kept-alive connection, "
          "not an answer to the request (a stray answer){}",
          transfer.request.method, transfer.server.host_port(), status,
          transfer.request.retry_allowed ? "; sending it again on a new connection" : "");
      if (!transfer.request.retry_allowed) {
        return finish(transfer,
                      std::unexpected(stray_answer_error(response, transfer.server.host_port(),
                                                         StrayEnding::kNotRepeatable)));
      }
      // A stray answer says nothing about the server's health: no backoff, one retry at
      // once, on a new connection where no earlier exchange can have left words behind.
      transfer.stray_retried = true;
      transfer.fresh_connection = true;
      return retry_later(transfer, milliseconds(0), "stray answer");
    }
  }

  if (status == 401) {
    if (transfer.credentials.method == AuthMethod::kBearer && !transfer.bearer_refreshed) {
      // The token may have expired between fetch and use: one fresh token, one more try.
      // A 401 means the server did not act, so this is safe even when retry_allowed is false.
      transfer.bearer_refreshed = true;
      auto node = transfers_.extract(transfer.id);
      return fetch_token_then_submit(std::move(node.mapped()), true);
    }
    // A service that explains its 401 in JSON (Graph's {"error":{"code":
    // "InvalidAuthenticationToken"}}, Entra ID's token endpoint with its AADSTS code) said
    // more than the transport could: its caller maps that body. EWS and IIS answer 401 with
    // a challenge and an HTML or empty body: that stays an auth error naming the method.
    if (!explains_itself_in_json(response)) {
      return finish(transfer, std::unexpected(auth_rejected(transfer.credentials, response,
                                                            transfer.server.host_port())));
    }
    return finish(transfer, std::move(response));
  }
  if (status == 407) {
    return finish(transfer, std::unexpected(proxy_auth_required(redact_url(options_.proxy))));
  }

  AttemptOutcome outcome;
  outcome.status = status;
  outcome.retry_after = retry_after(response);
  if (outcome.retry_after && (status == 429 || status == 503) && options_.budget_holds &&
      !transfer.request.budget_key.empty()) {
    options_.budget_holds->hold(transfer.request.budget_key, *outcome.retry_after);
  }
  if (status >= 500 && transfer.request.retry_response) {
    try {
      outcome.response_retryable = transfer.request.retry_response(response);
    } catch (...) {
      outcome.response_retryable = false;  // the connector reads the answer itself
    }
  }
  const auto decision =
      decide_retry(policy_, transfer.attempts, transfer.request.retry_allowed, outcome, random_());
  if (decision.retry) return retry_later(transfer, decision.wait, fmt::format("HTTP {}", status));
  finish(transfer, std::move(response));
}

void CurlClient::retry_later(Transfer& transfer, milliseconds wait, std::string_view why) {
  spdlog::debug("net: {} {} failed ({}); attempt {} of {} in {} ms", transfer.request.method,
                transfer.server.host_port(), why, transfer.attempts + 1, policy_.max_attempts,
                wait.count());
  transfer.waited += wait;
  counters_.retry_wait_ms += static_cast<std::uint64_t>(wait.count());
  retry_at_.emplace(Clock::now() + wait, transfer.id);
}

void CurlClient::finish(Transfer& transfer, Result<Response> result) {
  auto node = transfers_.extract(transfer.id);
  complete(std::move(node.mapped()), std::move(result));
}

void CurlClient::fire_due_retries() {
  const auto now = Clock::now();
  while (!retry_at_.empty() && retry_at_.begin()->first <= now) {
    const std::uint64_t id = retry_at_.begin()->second;
    retry_at_.erase(retry_at_.begin());
    if (auto it = transfers_.find(id); it != transfers_.end()) admit(*it->second);
  }
}

milliseconds CurlClient::poll_timeout() const {
  if (retry_at_.empty()) return kMaxPoll;
  const auto until = std::chrono::ceil<milliseconds>(retry_at_.begin()->first - Clock::now());
  return std::clamp(until, milliseconds(0), kMaxPoll);
}

void CurlClient::abandon_everything(std::vector<TransferPtr> not_started) {
  const auto shut_down = [] {
    return fail(ErrorKind::kTransient, "the HTTP client was shut down before the request finished");
  };
  for (auto& transfer : not_started) complete(std::move(transfer), shut_down());
  for (auto& [id, transfer] : transfers_) {
    if (transfer->easy != nullptr) curl_multi_remove_handle(multi_, transfer->easy);
    transfer->end_attempt();
    complete(std::move(transfer), shut_down());
  }
  transfers_.clear();
  retry_at_.clear();
}

TransferContext CurlClient::context_of(const Transfer& transfer) const {
  TransferContext where;
  where.host_port = transfer.server.host_port();
  where.proxy = options_.proxy.empty() ? std::string() : redact_url(options_.proxy);
  where.timeout = transfer.request.timeout.value_or(options_.request_timeout);
  where.connect_timeout = options_.connect_timeout;
  return where;
}

}  // namespace

std::unique_ptr<HttpClient> make_curl_client(ClientOptions options) {
  return std::make_unique<CurlClient>(std::move(options));
}

}  // namespace agendasync::net
