// What an ended attempt of the curl client means, the same on the caller's thread and on the
// loop: finish with a response or an error, send again after a wait (transport errors, 5xx,
// Retry-After, a stray answer), or fetch a fresh Bearer token after a 401.
#include <algorithm>
#include <cctype>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/curl_client_impl.h"
#include "net/easy_setup.h"
#include "net/server_address.h"
#include "net/stray_answer.h"

namespace agendasync::net::detail {

namespace {

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

}  // namespace

AttemptFacts CurlClient::read_facts(Transfer& transfer) const {
  note_unfinished_body(transfer);
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
  // Our body callback stopped the transfer, or a compressed body ended early: the server did
  // answer, so these are not transport failures to retry.
  if (code == CURLE_WRITE_ERROR && transfer.body_too_large) {
    return done(
        std::unexpected(answer_too_large(transfer.server.host_port(), transfer.max_body_bytes)));
  }
  if ((code == CURLE_OK || code == CURLE_WRITE_ERROR) && !transfer.undecodable.empty()) {
    return done(
        std::unexpected(undecodable_answer(transfer.server.host_port(), transfer.undecodable)));
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
    const auto decision = decide_retry(policy_, transfer.attempts, transfer.request().retry_allowed,
                                       outcome, random());
    if (decision.retry) return again(decision.wait, error.message);
    if (transfer.attempts > 1 && is_retryable(error)) {
      error.message += fmt::format(" (gave up after {} attempts)", transfer.attempts);
    }
    return done(std::unexpected(std::move(error)));
  }

  if (looks_stray(transfer.request(), response)) {
    if (transfer.stray_retried) {
      return done(std::unexpected(stray_answer_error(response, transfer.server.host_port(),
                                                     StrayEnding::kAgainOnNewConnection)));
    }
    // On a new connection the first answer can only be the server's answer to this request.
    if (facts.new_connections == 0) {
      spdlog::warn(
          "net: {} {}: HTTP {} and Connection: close on a kept-alive connection, "
          "not an answer to the request (a stray answer){}",
          transfer.request().method, transfer.server.host_port(), status,
          transfer.request().retry_allowed ? "; sending it again on a new connection" : "");
      if (!transfer.request().retry_allowed) {
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
      !transfer.request().budget_key.empty()) {
    options_.budget_holds->hold(transfer.request().budget_key, *outcome.retry_after);
  }
  if (status >= 500 && transfer.request().retry_response) {
    try {
      outcome.response_retryable = transfer.request().retry_response(response);
    } catch (...) {
      outcome.response_retryable = false;  // the connector reads the answer itself
    }
  }
  const auto decision =
      decide_retry(policy_, transfer.attempts, transfer.request().retry_allowed, outcome, random());
  if (decision.retry) return again(decision.wait, fmt::format("HTTP {}", status));
  return done(std::move(response));
}

void CurlClient::count_retry_wait(Transfer& transfer, milliseconds wait, std::string_view why) {
  spdlog::debug("net: {} {} failed ({}); attempt {} of {} in {} ms", transfer.request().method,
                transfer.server.host_port(), why, transfer.attempts + 1, policy_.max_attempts,
                wait.count());
  transfer.waited += wait;
  counters_.retry_wait_ms += static_cast<std::uint64_t>(wait.count());
}

TransferContext CurlClient::context_of(const Transfer& transfer) const {
  TransferContext where;
  where.host_port = transfer.server.host_port();
  where.proxy = options_.proxy.empty() ? std::string() : redact_url(options_.proxy);
  where.timeout = transfer.request().timeout.value_or(options_.request_timeout);
  where.connect_timeout = options_.connect_timeout;
  return where;
}

}  // namespace agendasync::net::detail
