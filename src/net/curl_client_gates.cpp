// What a request of the curl client passes before an attempt, whichever thread sends it: its
// server and slot key, its Bearer token, a shared hold (BudgetHolds), pacing
// (Request::budget_rate), and the concurrency slots of its key, one line for callers' threads
// and the loop.
#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include "net/curl_client_impl.h"
#include "net/server_address.h"

namespace agendasync::net::detail {

Result<void> CurlClient::address(Transfer& transfer) const {
  auto server = parse_server_address(transfer.request().url);
  if (!server) return std::unexpected(server.error());
  transfer.server = std::move(*server);
  if (transfer.request().budget_key.empty()) {
    transfer.slot_key = transfer.server.key();
  } else {
    transfer.slot_key = budget_slot_key(transfer.request().budget_key);
    transfer.slot_limit = transfer.request().budget_limit;
  }
  transfer.fresh_connection = transfer.request().fresh_connection;
  transfer.decoders = &decoders_;
  transfer.max_body_bytes = limits_.max_response_bytes;
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
  if (!options_.budget_holds || transfer.request().budget_key.empty()) return {};
  const auto until = options_.budget_holds->held_until(transfer.request().budget_key);
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
                    transfer.request().budget_key,
                    std::chrono::ceil<std::chrono::seconds>(wait).count()));
    error.retry_after = wait;
    return {std::move(error), std::nullopt};
  }
  transfer.waited += wait;
  counters_.retry_wait_ms += static_cast<std::uint64_t>(wait.count());
  return {std::nullopt, *until};
}

Gate CurlClient::paced(Transfer& transfer) {
  const RequestRate rate = transfer.request().budget_rate;
  if (!rate.limited()) return {};
  const int cost = std::max(1, transfer.request().budget_cost);
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
                                    transfer.request().method, transfer.server.host_port(), cost,
                                    rate.per.count(), rate.requests)),
            std::nullopt};
  }
  if (*wait > options_.max_pacing_wait) {
    ++counters_.paced_refused;
    Error error = Error::make(
        ErrorKind::kThrottled,
        fmt::format("held back, not sent: {} requests in {} s is the budget for {} and it is "
                    "spent; it frees up in {} s",
                    rate.requests, rate.per.count() / 1000, transfer.request().budget_key,
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

}  // namespace agendasync::net::detail
