#pragma once
/// JSON $batch: up to 20 requests per POST {base}/$batch, each answered on its own, so one
/// failure does not fail the others.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "connectors/graph/mailbox_gate.h"
#include "core/error.h"
#include "net/http.h"

namespace agendasync::graph {

/// Graph's limit of requests in one $batch.
inline constexpr std::size_t kMaxBatch = 20;

struct BatchRequest {
  std::string method;  ///< GET, POST, PATCH, DELETE
  std::string url;     ///< relative to the version root: "/users/x/events/y"
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<nlohmann::json> body;
};

struct BatchResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lowercased
  nlohmann::json body;                                       ///< null when none
  /// The $batch answer was not valid UTF-8 and was repaired before parsing (text_repair.h).
  bool text_repaired = false;
  /// Retry-After of a 429/503 answer.
  std::optional<std::chrono::milliseconds> retry_after() const;
};

/// The $batch request body for `requests` (ids "0".."n-1").
nlohmann::json batch_body(std::span<const BatchRequest> requests);

/// Reads a $batch answer: one response per id "0".."expected-1" in request order (Graph
/// answers in any order). An id without an answer is kTransient for that request.
Result<std::vector<Result<BatchResponse>>> parse_batch_response(std::string_view body,
                                                                std::size_t expected);

/// How send_batch behaves.
struct BatchOptions {
  /// Rounds in which requests answered 429/503 are sent again (after their Retry-After).
  int throttled_rounds = 3;
  /// Longest Retry-After waited for within a call; longer waits are returned as kThrottled.
  std::chrono::milliseconds max_wait{30'000};
  /// The net budget each POST spends (net::Request::budget_key and budget_limit); GraphSide
  /// sets its mailbox's. Empty: the host's.
  std::string budget_key;
  int budget_limit = 0;
  /// The rate the budget key keeps to (net::Request::budget_rate); each POST counts one
  /// request per member, as Graph counts them.
  net::RequestRate budget_rate;
};

/// Sends `requests` in chunks of kMaxBatch through `http` (entering `gate` per POST), with
/// bounded re-sends of throttled members. One result per request, same order. A failed
/// $batch POST fails each request of its chunk with that error.
std::vector<Result<BatchResponse>> send_batch(net::HttpClient& http,
                                              const net::Credentials& credentials,
                                              const std::string& base_url,
                                              std::span<const BatchRequest> requests,
                                              MailboxGate& gate, const BatchOptions& options = {});

}  // namespace agendasync::graph
