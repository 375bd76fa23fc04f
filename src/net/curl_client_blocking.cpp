// A blocking send of the curl client on its caller's thread: curl_easy_perform with a pooled
// easy handle, after the same gates as the loop's requests (slots, holds, pacing), sleeping
// through their waits and the backoff holding no slot.
#include <thread>
#include <utility>

#include "net/curl_client_impl.h"
#include "net/easy_setup.h"

namespace agendasync::net::detail {

namespace {

/// Backoff jitter for blocking sends, one generator per thread (no lock).
std::mt19937_64& thread_random() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return random;
}

}  // namespace

Result<Response> CurlClient::send_here(const Request& request, const Credentials& credentials) {
  ++counters_.requests;
  Transfer transfer;
  transfer.id = next_id_++;
  transfer.borrow_request(request);
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

}  // namespace agendasync::net::detail
