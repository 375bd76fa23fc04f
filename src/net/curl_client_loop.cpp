// The curl client's event loop: one thread drives a curl multi handle for send_async and
// streamed answers (and for every send of a client made with BlockingSends::kOnTheLoop).
// Failed attempts wait on its timer list holding no slot; token sources and completion
// callbacks run on worker pools so the loop never waits on user code.
#include <algorithm>
#include <memory>
#include <utility>

#include "net/curl_client_impl.h"
#include "net/easy_setup.h"

namespace agendasync::net::detail {

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

}  // namespace agendasync::net::detail
