#pragma once
/// The libcurl HttpClient's class, shared by the files that implement it (not for use outside
/// net/; make_curl_client in http.h and curl_client.h makes one):
///   curl_client.cpp           construction, the public calls, statistics
///   curl_client_gates.cpp     what a request passes before an attempt, on either path: its
///                             address and slot key, the Bearer token, shared holds, pacing,
///                             the concurrency slots and who is woken when one frees up
///   curl_client_verdict.cpp   what an ended attempt means: finish, retry after a wait
///                             (transport errors, 5xx, Retry-After, stray answers), or refresh
///                             the Bearer token
///   curl_client_blocking.cpp  a blocking send on the caller's thread
///   curl_client_loop.cpp      the event loop (send_async, streamed answers)
#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/body_decoder.h"
#include "net/curl_client.h"
#include "net/easy_pool.h"
#include "net/host_slots.h"
#include "net/http.h"
#include "net/request_rate.h"
#include "net/retry_policy.h"
#include "net/shared_cache.h"
#include "net/tls_trust.h"
#include "net/transfer.h"
#include "net/transfer_errors.h"
#include "net/worker_pool.h"

namespace agendasync::net::detail {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The longest the loop sleeps without news: bounds how late a missed wake-up is noticed.
constexpr milliseconds kMaxPoll{500};
/// Idle connections kept for reuse across all servers.
constexpr long kConnectionCacheSize = 256;
/// Idle easy handles kept for blocking sends (about the number of threads sending at once).
constexpr std::size_t kIdleEasyHandles = 64;

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
  CurlClient(ClientOptions options, BlockingSends blocking, CurlClientLimits limits);
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
  /// Fills in the server, slot key and the client's body limits and decoders; an error for a
  /// URL that names no server.
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
  const CurlClientLimits limits_;
  const RetryPolicy policy_;
  std::shared_ptr<const ExtraCaBundle> extra_ca_;
  std::optional<Error> setup_error_;  ///< e.g. an unreadable CA bundle: every request fails
  SharedCache share_;
  EasyPool easy_pool_{kIdleEasyHandles};
  /// Before transfers_: a transfer lends its decoder back when it ends.
  mutable BodyDecoderPool decoders_{kIdleEasyHandles};  /// locks itself
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

}  // namespace agendasync::net::detail
