// The libcurl HttpClient: one event-loop thread drives a curl multi handle for send_async and
// streamed answers; a blocking send() runs on its caller's thread (curl_easy_perform), with the
// same rules. Both share the connection cache, TLS sessions and DNS (shared_cache.h) and the
// concurrency cap per server or budget key, which queues the excess in arrival order whichever
// thread waits. Failed attempts wait, holding no slot, before they run again: on the loop's
// timer list, or asleep on the caller's thread. Blocking callbacks (bearer token sources,
// completion callbacks) of loop requests run on small worker pools so the loop never waits on
// user code.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/curl_client.h"
#include "net/curl_global.h"
#include "net/easy_pool.h"
#include "net/easy_setup.h"
#include "net/host_slots.h"
#include "net/http.h"
#include "net/retry_policy.h"
#include "net/shared_cache.h"
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
/// Idle easy handles kept for blocking sends (about the number of threads sending at once).
constexpr std::size_t kIdleEasyHandles = 64;

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

/// What an attempt's easy handle says once it ended, read before the handle is reused.
struct AttemptFacts {
  long status = 0;
  long connect_code = 0;     ///< the proxy's answer to CONNECT, when tunnelling
  long new_connections = 0;  ///< 0: the attempt went out on a kept-alive connection
};

/// What to do after an attempt: hand the result back, send again after `wait`, or fetch a
/// fresh Bearer token and send again.
struct Verdict {
  enum class Next { kFinish, kRetry, kRefreshToken };
  Next next = Next::kFinish;
  std::optional<Result<Response>> result;  ///< kFinish
  milliseconds wait{0};                    ///< kRetry
  std::string why;                         ///< kRetry, for the log
};

/// The outcome of a check made before an attempt (a shared hold, pacing): go now, end with
/// `error`, or come back at `until` holding no slot.
struct Gate {
  std::optional<Error> error;
  std::optional<Clock::time_point> until;
  bool go() const { return !error && !until; }
};

class CurlClient final : public HttpClient {
 public:
  CurlClient(ClientOptions options, BlockingSends blocking);
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
  /// A blocking send waiting on its own thread for a slot.
  struct SlotWaiter {
    std::condition_variable wake;
    bool admitted = false;
  };

  // Any thread.
  /// Fills in the server and slot key; an error for a URL that names no server.
  Result<void> address(Transfer& transfer) const;
  Result<Secret> fetch_token(const Transfer& transfer, bool after_rejection) const;
  /// A shared back-off (BudgetHolds) the request must wait out first.
  Gate held_back(Transfer& transfer);
  /// Request::budget_rate: go (the attempt is counted), wait, or never fits / waits too long.
  Gate paced(Transfer& transfer);
  /// Takes a slot at once (true) or queues `transfer` for the loop (false).
  bool try_slot(const Transfer& transfer);
  /// Frees a slot; the requests it admits start (loop) or wake up (callers' threads).
  void release_slot(const Transfer& transfer);
  /// Under slots_mutex_: wakes the callers' threads among `ids`, returns the loop's ones.
  std::vector<std::uint64_t> wake_callers(std::vector<std::uint64_t> ids);
  /// Starts queued loop requests that got a slot: at once on the loop, else via its inbox.
  void hand_to_loop(std::vector<std::uint64_t> ids);
  AttemptFacts read_facts(Transfer& transfer) const;
  Verdict judge(Transfer& transfer, CURLcode code, const AttemptFacts& facts,
                std::mt19937_64& random);
  void count_retry_wait(Transfer& transfer, milliseconds wait, std::string_view why);

  // A blocking send on the caller's thread.
  Result<Response> send_here(const Request& request, const Credentials& credentials);
  Result<Response> run_here(Transfer& transfer);
  void take_slot_blocking(const Transfer& transfer);

  // The loop's requests, any thread.
  void begin(TransferPtr transfer);
  void fetch_token_then_submit(TransferPtr transfer, bool after_rejection);
  void submit(TransferPtr transfer);
  void complete(TransferPtr transfer, Result<Response> result);

  // Loop thread only.
  void run_loop();
  void admit(Transfer& transfer);
  void start_attempt(Transfer& transfer);
  void start_admitted(const std::vector<std::uint64_t>& ids);
  void drain_finished();
  void on_attempt_done(Transfer& transfer, CURLcode code);
  void retry_at(Transfer& transfer, Clock::time_point when);
  void finish(Transfer& transfer, Result<Response> result);
  void fire_due_retries();
  milliseconds poll_timeout() const;
  void abandon_everything(std::vector<TransferPtr> not_started);
  TransferContext context_of(const Transfer& transfer) const;

  const ClientOptions options_;
  const BlockingSends blocking_;
  const RetryPolicy policy_;
  std::shared_ptr<const ExtraCaBundle> extra_ca_;
  std::optional<Error> setup_error_;  ///< e.g. an unreadable CA bundle: every request fails
  SharedCache share_;
  EasyPool easy_pool_{kIdleEasyHandles};
  CURLM* multi_ = nullptr;
  Counters counters_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::thread::id> loop_thread_{};
  std::atomic<bool> closing_{false};  ///< the destructor runs: blocking sends end at once

  std::mutex inbox_mutex_;  ///< guards the three members below and multi_ wake-ups
  std::vector<TransferPtr> inbox_;
  std::vector<std::uint64_t> admitted_;  ///< loop requests given a slot by another thread
  bool stopping_ = false;

  std::mutex slots_mutex_;  ///< guards the three members below (every thread takes slots)
  HostSlots slots_;
  RateWindows rates_;
  std::unordered_map<std::uint64_t, SlotWaiter*> waiting_callers_;

  // Owned by the loop thread.
  std::unordered_map<std::uint64_t, TransferPtr> transfers_;
  std::multimap<Clock::time_point, std::uint64_t> retry_at_;
  std::mt19937_64 random_{std::random_device{}()};

  // Declared last so they are destroyed first, while everything their jobs touch is alive:
  // token jobs still drain into submit(), which completes them with a shut-down error.
  WorkerPool callbacks_{2};
  WorkerPool token_workers_{2};
  std::thread loop_;
};

/// Backoff jitter for blocking sends, one generator per thread (no lock).
std::mt19937_64& thread_random() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return random;
}

CurlClient::CurlClient(ClientOptions options, BlockingSends blocking)
    : options_(std::move(options)),
      blocking_(blocking),
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
  if (multi_ == nullptr) {
    throw std::runtime_error("libcurl could not create its multi handle (out of memory)");
  }
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, kConnectionCacheSize);
  loop_ = std::thread([this] { run_loop(); });
}

CurlClient::~CurlClient() {
  closing_ = true;
  {
    std::lock_guard lock(inbox_mutex_);
    stopping_ = true;
    curl_multi_wakeup(multi_);
  }
  loop_.join();
  curl_multi_cleanup(multi_);
  // The share refuses to go while handles still use it.
  easy_pool_.clear();
}

Result<Response> CurlClient::send(const Request& request, const Credentials& credentials) {
  // A streamed answer's pieces are handed over on the loop (Request::on_body_piece).
  if (blocking_ == BlockingSends::kOnCallersThread && !request.on_body_piece) {
    return send_here(request, credentials);
  }
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
  std::vector<std::uint64_t> for_loop;
  {
    std::lock_guard lock(slots_mutex_);
    for_loop = wake_callers(slots_.set_limit(server->key(), limit));
  }
  hand_to_loop(std::move(for_loop));
}

void CurlClient::set_budget_concurrency(std::string_view key, int limit) {
  std::vector<std::uint64_t> for_loop;
  {
    std::lock_guard lock(slots_mutex_);
    for_loop = wake_callers(slots_.set_limit(budget_slot_key(key), limit));
  }
  hand_to_loop(std::move(for_loop));
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

// ---- Rules both paths follow -------------------------------------------------------------

Result<void> CurlClient::address(Transfer& transfer) const {
  auto server = parse_server_address(transfer.request.url);
  if (!server) return std::unexpected(server.error());
  transfer.server = std::move(*server);
  if (transfer.request.budget_key.empty()) {
    transfer.slot_key = transfer.server.key();
  } else {
    transfer.slot_key = budget_slot_key(transfer.request.budget_key);
    transfer.slot_limit = transfer.request.budget_limit;
  }
  transfer.fresh_connection = transfer.request.fresh_connection;
  return {};
}

Result<Secret> CurlClient::fetch_token(const Transfer& transfer, bool after_rejection) const {
  const Credentials& credentials = transfer.credentials;
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
        fmt::format("no Bearer token for {}: {}", transfer.server.host_port(), error.message);
    return std::unexpected(std::move(error));
  }
  return token;
}

Gate CurlClient::held_back(Transfer& transfer) {
  // A back-off another request (here or on another node) was given for this budget key:
  // wait it out holding no slot.
  if (!options_.budget_holds || transfer.request.budget_key.empty()) return {};
  const auto until = options_.budget_holds->held_until(transfer.request.budget_key);
  const auto now = Clock::now();
  if (!until || *until <= now) return {};
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
    return {std::move(error), std::nullopt};
  }
  transfer.waited += wait;
  counters_.retry_wait_ms += static_cast<std::uint64_t>(wait.count());
  return {std::nullopt, *until};
}

Gate CurlClient::paced(Transfer& transfer) {
  const RequestRate rate = transfer.request.budget_rate;
  if (!rate.limited()) return {};
  const int cost = std::max(1, transfer.request.budget_cost);
  const auto now = Clock::now();
  std::optional<milliseconds> wait;
  {
    std::lock_guard lock(slots_mutex_);
    wait = rates_.wait_for(transfer.slot_key, rate, cost, now);
    if (wait && wait->count() == 0) {
      rates_.spend(transfer.slot_key, rate, cost, now);
      return {};
    }
  }
  if (!wait) {
    return {Error::make(ErrorKind::kPermanent,
                        fmt::format("{} {} counts {} requests, more than its budget allows in "
                                    "{} ms ({}); send it in smaller parts",
                                    transfer.request.method, transfer.server.host_port(), cost,
                                    rate.per.count(), rate.requests)),
            std::nullopt};
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
    return {std::move(error), std::nullopt};
  }
  transfer.waited += *wait;
  counters_.paced_wait_ms += static_cast<std::uint64_t>(wait->count());
  return {std::nullopt, now + *wait};
}

bool CurlClient::try_slot(const Transfer& transfer) {
  std::lock_guard lock(slots_mutex_);
  return slots_.acquire(transfer.slot_key, transfer.id, transfer.slot_limit);
}

void CurlClient::release_slot(const Transfer& transfer) {
  std::vector<std::uint64_t> for_loop;
  {
    std::lock_guard lock(slots_mutex_);
    for_loop = wake_callers(slots_.release(transfer.slot_key));
  }
  hand_to_loop(std::move(for_loop));
}

std::vector<std::uint64_t> CurlClient::wake_callers(std::vector<std::uint64_t> ids) {
  std::erase_if(ids, [this](std::uint64_t id) {
    const auto it = waiting_callers_.find(id);
    if (it == waiting_callers_.end()) return false;
    it->second->admitted = true;
    it->second->wake.notify_one();
    waiting_callers_.erase(it);
    return true;
  });
  return ids;
}

void CurlClient::hand_to_loop(std::vector<std::uint64_t> ids) {
  if (ids.empty()) return;
  if (std::this_thread::get_id() == loop_thread_.load()) return start_admitted(ids);
  std::lock_guard lock(inbox_mutex_);
  if (stopping_) return;
  admitted_.insert(admitted_.end(), ids.begin(), ids.end());
  curl_multi_wakeup(multi_);
}

AttemptFacts CurlClient::read_facts(Transfer& transfer) const {
  AttemptFacts facts;
  char* ip = nullptr;
  long port = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &facts.status);
  curl_easy_getinfo(transfer.easy, CURLINFO_PRIMARY_IP, &ip);
  curl_easy_getinfo(transfer.easy, CURLINFO_PRIMARY_PORT, &port);
  curl_easy_getinfo(transfer.easy, CURLINFO_HTTP_CONNECTCODE, &facts.connect_code);
  curl_easy_getinfo(transfer.easy, CURLINFO_NUM_CONNECTS, &facts.new_connections);
  if (ip != nullptr && *ip != '\0') {
    transfer.response.remote_address = fmt::format("{}:{}", ip, port);
  }
  return facts;
}

Verdict CurlClient::judge(Transfer& transfer, CURLcode code, const AttemptFacts& facts,
                          std::mt19937_64& random) {
  const auto done = [](Result<Response> result) {
    Verdict verdict;
    verdict.result = std::move(result);
    return verdict;
  };
  const auto again = [](milliseconds wait, std::string why) {
    Verdict verdict;
    verdict.next = Verdict::Next::kRetry;
    verdict.wait = wait;
    verdict.why = std::move(why);
    return verdict;
  };
  const long status = facts.status;
  Response& response = transfer.response;
  response.status = status;
  response.attempts = transfer.attempts;
  response.retry_wait = transfer.waited;

  if ((code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK) &&
      transfer.stopped_by_caller) {
    return done(std::move(response));  // the caller ended the stream
  }
  if (code == CURLE_WRITE_ERROR && transfer.piece_handler_threw) {
    return done(fail(ErrorKind::kPermanent,
                     fmt::format("the handler for the streamed answer from {} threw; "
                                 "the stream was closed",
                                 transfer.server.host_port())));
  }
  if (code != CURLE_OK) {
    ++counters_.transport_errors;
    Error error = facts.connect_code >= 300
                      ? (facts.connect_code == 407
                             ? proxy_auth_required(redact_url(options_.proxy))
                             : proxy_refused(redact_url(options_.proxy),
                                             transfer.server.host_port(), facts.connect_code))
                      : transport_error(code, transfer.error_buffer, context_of(transfer));
    AttemptOutcome outcome;
    outcome.transport_error = true;
    // Pieces already handed over cannot be taken back: a stream is not replayed.
    outcome.transport_retryable = is_retryable(error) && !transfer.body_handed_over;
    const auto decision =
        decide_retry(policy_, transfer.attempts, transfer.request.retry_allowed, outcome, random());
    if (decision.retry) return again(decision.wait, error.message);
    if (transfer.attempts > 1 && is_retryable(error)) {
      error.message += fmt::format(" (gave up after {} attempts)", transfer.attempts);
    }
    return done(std::unexpected(std::move(error)));
  }

  if (looks_stray(transfer.request, response)) {
    if (transfer.stray_retried) {
      return done(std::unexpected(stray_answer_error(response, transfer.server.host_port(),
                                                     StrayEnding::kAgainOnNewConnection)));
    }
    // On a new connection the first answer can only be the server's answer to this request.
    if (facts.new_connections == 0) {
      spdlog::warn(
          "net: {} {}: HTTP {} and Connection: close on a kept-alive connection, "
          "not an answer to the request (a stray answer){}",
          transfer.request.method, transfer.server.host_port(), status,
          transfer.request.retry_allowed ? "; sending it again on a new connection" : "");
      if (!transfer.request.retry_allowed) {
        return done(std::unexpected(stray_answer_error(response, transfer.server.host_port(),
                                                       StrayEnding::kNotRepeatable)));
      }
      // A stray answer says nothing about the server's health: no backoff, one retry at
      // once, on a new connection where no earlier exchange can have left words behind.
      transfer.stray_retried = true;
      transfer.fresh_connection = true;
      return again(milliseconds(0), "stray answer");
    }
  }

  if (status == 401) {
    if (transfer.credentials.method == AuthMethod::kBearer && !transfer.bearer_refreshed) {
      // The token may have expired between fetch and use: one fresh token, one more try.
      // A 401 means the server did not act, so this is safe even when retry_allowed is false.
      transfer.bearer_refreshed = true;
      Verdict verdict;
      verdict.next = Verdict::Next::kRefreshToken;
      return verdict;
    }
    // A service that explains its 401 in JSON (Graph's {"error":{"code":
    // "InvalidAuthenticationToken"}}, Entra ID's token endpoint with its AADSTS code) said
    // more than the transport could: its caller maps that body. EWS and IIS answer 401 with
    // a challenge and an HTML or empty body: that stays an auth error naming the method.
    if (!explains_itself_in_json(response)) {
      return done(std::unexpected(
          auth_rejected(transfer.credentials, response, transfer.server.host_port())));
    }
    return done(std::move(response));
  }
  if (status == 407) {
    return done(std::unexpected(proxy_auth_required(redact_url(options_.proxy))));
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
      decide_retry(policy_, transfer.attempts, transfer.request.retry_allowed, outcome, random());
  if (decision.retry) return again(decision.wait, fmt::format("HTTP {}", status));
  return done(std::move(response));
}

void CurlClient::count_retry_wait(Transfer& transfer, milliseconds wait, std::string_view why) {
  spdlog::debug("net: {} {} failed ({}); attempt {} of {} in {} ms", transfer.request.method,
                transfer.server.host_port(), why, transfer.attempts + 1, policy_.max_attempts,
                wait.count());
  transfer.waited += wait;
  counters_.retry_wait_ms += static_cast<std::uint64_t>(wait.count());
}

// ---- A blocking send on the caller's thread ------------------------------------------------

Result<Response> CurlClient::send_here(const Request& request, const Credentials& credentials) {
  ++counters_.requests;
  Transfer transfer;
  transfer.id = next_id_++;
  transfer.request = request;
  transfer.credentials = credentials;
  auto result = run_here(transfer);
  if (!result) ++counters_.failed;
  return result;
}

Result<Response> CurlClient::run_here(Transfer& transfer) {
  if (closing_) {
    // e.g. a token source that sends, drained while the client shuts down
    return fail(ErrorKind::kTransient, "the HTTP client was shut down before the request ran");
  }
  if (setup_error_) return std::unexpected(*setup_error_);
  if (auto addressed = address(transfer); !addressed) {
    return std::unexpected(addressed.error());
  }
  bool need_token = false;
  bool after_rejection = false;
  if (transfer.credentials.method == AuthMethod::kBearer) {
    if (!transfer.credentials.bearer_token) {
      return fail(ErrorKind::kAuth,
                  "Bearer authentication is configured without a "
                  "token source; configure the OAuth app credentials");
    }
    need_token = true;
  }
  for (;;) {
    // The token first, holding no slot: its source may send through this client.
    if (need_token) {
      auto token = fetch_token(transfer, after_rejection);
      if (!token) return std::unexpected(token.error());
      transfer.bearer_token = std::move(*token);
      need_token = false;
    }
    if (Gate hold = held_back(transfer); !hold.go()) {
      if (hold.error) return std::unexpected(std::move(*hold.error));
      std::this_thread::sleep_until(*hold.until);
      continue;
    }
    take_slot_blocking(transfer);
    if (Gate pace = paced(transfer); !pace.go()) {
      release_slot(transfer);
      if (pace.error) return std::unexpected(std::move(*pace.error));
      std::this_thread::sleep_until(*pace.until);
      continue;  // queued again behind the others, as a paced loop request is
    }
    ++transfer.attempts;
    ++counters_.attempts;
    if (transfer.attempts > 1) ++counters_.retries;
    CURL* pooled = easy_pool_.take();
    if (auto prepared = prepare_attempt(transfer, options_, share_.get(), extra_ca_.get(), pooled);
        !prepared) {
      release_slot(transfer);
      return std::unexpected(prepared.error());
    }
    // curl_easy_perform's own multi handle prunes the shared cache down to this number.
    curl_easy_setopt(transfer.easy, CURLOPT_MAXCONNECTS, kConnectionCacheSize);
    const CURLcode code = curl_easy_perform(transfer.easy);
    const AttemptFacts facts = read_facts(transfer);
    easy_pool_.give_back(std::exchange(transfer.easy, nullptr));
    transfer.end_attempt();
    release_slot(transfer);

    Verdict verdict = judge(transfer, code, facts, thread_random());
    switch (verdict.next) {
      case Verdict::Next::kFinish:
        return std::move(*verdict.result);
      case Verdict::Next::kRetry:
        count_retry_wait(transfer, verdict.wait, verdict.why);
        if (verdict.wait.count() > 0) std::this_thread::sleep_for(verdict.wait);
        break;
      case Verdict::Next::kRefreshToken:
        need_token = true;
        after_rejection = true;
        break;
    }
  }
}

void CurlClient::take_slot_blocking(const Transfer& transfer) {
  std::unique_lock lock(slots_mutex_);
  if (slots_.acquire(transfer.slot_key, transfer.id, transfer.slot_limit)) return;
  ++counters_.queued_for_host_cap;
  // Queued in the same line as the loop's requests; release_slot wakes it in its turn.
  SlotWaiter waiter;
  waiting_callers_.emplace(transfer.id, &waiter);
  waiter.wake.wait(lock, [&waiter] { return waiter.admitted; });
}

// ---- Requests on the event loop -------------------------------------------------------------

void CurlClient::begin(TransferPtr transfer) {
  ++counters_.requests;
  transfer->id = next_id_++;
  if (setup_error_) return complete(std::move(transfer), std::unexpected(*setup_error_));
  if (auto addressed = address(*transfer); !addressed) {
    return complete(std::move(transfer), std::unexpected(addressed.error()));
  }
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
    auto token = fetch_token(*transfer, after_rejection);
    if (!token) return complete(std::move(transfer), std::unexpected(token.error()));
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
  loop_thread_ = std::this_thread::get_id();
  for (;;) {
    std::vector<TransferPtr> arrived;
    std::vector<std::uint64_t> admitted;
    {
      std::lock_guard lock(inbox_mutex_);
      arrived.swap(inbox_);
      admitted.swap(admitted_);
      if (stopping_) return abandon_everything(std::move(arrived));
    }
    // Slots freed or caps raised by other threads first: those requests queued earlier.
    start_admitted(admitted);
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
  if (Gate hold = held_back(transfer); !hold.go()) {
    if (hold.error) return finish(transfer, std::unexpected(std::move(*hold.error)));
    return retry_at(transfer, *hold.until);
  }
  if (try_slot(transfer)) {
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

void CurlClient::start_attempt(Transfer& transfer) {
  if (Gate pace = paced(transfer); !pace.go()) {
    release_slot(transfer);
    if (pace.error) return finish(transfer, std::unexpected(std::move(*pace.error)));
    return retry_at(transfer, *pace.until);
  }
  ++transfer.attempts;
  ++counters_.attempts;
  if (transfer.attempts > 1) ++counters_.retries;
  auto prepared = prepare_attempt(transfer, options_, share_.get(), extra_ca_.get());
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
  const AttemptFacts facts = read_facts(transfer);
  curl_multi_remove_handle(multi_, transfer.easy);
  transfer.end_attempt();
  release_slot(transfer);
  Verdict verdict = judge(transfer, code, facts, random_);
  switch (verdict.next) {
    case Verdict::Next::kFinish:
      return finish(transfer, std::move(*verdict.result));
    case Verdict::Next::kRetry:
      count_retry_wait(transfer, verdict.wait, verdict.why);
      return retry_at(transfer, Clock::now() + verdict.wait);
    case Verdict::Next::kRefreshToken: {
      auto node = transfers_.extract(transfer.id);
      return fetch_token_then_submit(std::move(node.mapped()), true);
    }
  }
}

void CurlClient::retry_at(Transfer& transfer, Clock::time_point when) {
  retry_at_.emplace(when, transfer.id);
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

std::unique_ptr<HttpClient> make_curl_client(ClientOptions options, BlockingSends blocking) {
  return std::make_unique<CurlClient>(std::move(options), blocking);
}

std::unique_ptr<HttpClient> make_curl_client(ClientOptions options) {
  return make_curl_client(std::move(options), BlockingSends::kOnCallersThread);
}

}  // namespace agendasync::net
