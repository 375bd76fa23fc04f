// The libcurl HttpClient: one event-loop thread drives a curl multi handle for send_async and
// streamed answers; a blocking send() runs on its caller's thread (curl_easy_perform), with the
// same rules. Both share the connection cache, TLS sessions and DNS (shared_cache.h) and the
// concurrency cap per server or budget key, which queues the excess in arrival order whichever
// thread waits. Failed attempts wait, holding no slot, before they run again: on the loop's
// timer list, or asleep on the caller's thread. Blocking callbacks (bearer token sources,
// completion callbacks) of loop requests run on small worker pools so the loop never waits on
// user code.
#include "net/curl_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <future>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "net/curl_client_impl.h"
#include "net/curl_global.h"
#include "net/server_address.h"

namespace agendasync::net::detail {

CurlClient::CurlClient(ClientOptions options, BlockingSends blocking, CurlClientLimits limits)
    : options_(std::move(options)),
      blocking_(blocking),
      limits_(limits),
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
  transfer->own_request(request);
  transfer->credentials = credentials;
  transfer->complete_inline = true;
  transfer->done = [&promise](Result<Response> result) { promise.set_value(std::move(result)); };
  begin(std::move(transfer));
  return future.get();
}

void CurlClient::send_async(Request request, Credentials credentials,
                            std::function<void(Result<Response>)> done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->own_request(std::move(request));
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

}  // namespace agendasync::net::detail

namespace agendasync::net {

std::unique_ptr<HttpClient> make_curl_client(ClientOptions options, BlockingSends blocking,
                                             CurlClientLimits limits) {
  return std::make_unique<detail::CurlClient>(std::move(options), blocking, limits);
}

std::unique_ptr<HttpClient> make_curl_client(ClientOptions options) {
  return make_curl_client(std::move(options), BlockingSends::kOnCallersThread);
}

}  // namespace agendasync::net
