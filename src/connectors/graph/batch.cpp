#include "connectors/graph/batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>

#include "connectors/graph/errors.h"
#include "connectors/graph/text_repair.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool throttled(const Result<BatchResponse>& result) {
  return result && (result->status == 429 || result->status == 503);
}

}  // namespace

std::optional<std::chrono::milliseconds> BatchResponse::retry_after() const {
  for (const auto& [name, value] : headers) {
    if (name != "retry-after") continue;
    char* end = nullptr;
    const long seconds = std::strtol(value.c_str(), &end, 10);
    if (end != value.c_str() && seconds >= 0) return std::chrono::seconds(seconds);
  }
  return std::nullopt;
}

json batch_body(std::span<const BatchRequest> requests) {
  json list = json::array();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& request = requests[i];
    json entry = {{"id", std::to_string(i)}, {"method", request.method}, {"url", request.url}};
    json headers = json::object();
    for (const auto& [name, value] : request.headers) headers[name] = value;
    if (request.body) {
      headers["Content-Type"] = "application/json";
      entry["body"] = *request.body;
    }
    if (!headers.empty()) entry["headers"] = headers;
    list.push_back(std::move(entry));
  }
  return json{{"requests", list}};
}

Result<std::vector<Result<BatchResponse>>> parse_batch_response(std::string_view body,
                                                                std::size_t expected) {
  bool repaired = false;
  const auto parsed = parse_repairing(body, repaired);
  if (!parsed.is_object() || !parsed.contains("responses") || !parsed["responses"].is_array()) {
    return fail(ErrorKind::kTransient, "Graph answered $batch without a responses list");
  }
  std::vector<Result<BatchResponse>> out(
      expected, std::unexpected(Error::make(ErrorKind::kTransient,
                                            "Graph's $batch answer had no response for this "
                                            "request; it is retried")));
  for (const auto& entry : parsed["responses"]) {
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string()) continue;
    const std::string id = entry["id"];
    std::size_t index = 0;
    const auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), index);
    if (error != std::errc{} || end != id.data() + id.size() || index >= expected) continue;
    BatchResponse response;
    response.text_repaired = repaired;
    if (const auto status = entry.find("status");
        status != entry.end() && status->is_number_integer())
      response.status = status->get<long>();
    if (const auto headers = entry.find("headers");
        headers != entry.end() && headers->is_object()) {
      for (const auto& [name, value] : headers->items()) {
        response.headers.emplace_back(lower(name),
                                      value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    if (const auto content = entry.find("body"); content != entry.end()) response.body = *content;
    out[index] = std::move(response);
  }
  return out;
}

std::vector<Result<BatchResponse>> send_batch(net::HttpClient& http,
                                              const net::Credentials& credentials,
                                              const std::string& base_url,
                                              std::span<const BatchRequest> requests,
                                              MailboxGate& gate, const BatchOptions& options) {
  std::vector<Result<BatchResponse>> results(
      requests.size(), std::unexpected(Error::make(ErrorKind::kTransient, "not sent")));
  std::vector<std::size_t> pending(requests.size());
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;

  for (int round = 0; !pending.empty() && round <= options.throttled_rounds; ++round) {
    std::chrono::milliseconds wait{0};
    std::vector<std::size_t> again;
    for (std::size_t first = 0; first < pending.size(); first += kMaxBatch) {
      const std::size_t count = std::min(kMaxBatch, pending.size() - first);
      std::vector<BatchRequest> chunk;
      for (std::size_t i = 0; i < count; ++i) chunk.push_back(requests[pending[first + i]]);
      net::Request post;
      post.method = "POST";
      post.url = base_url + "/$batch";
      post.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
      post.body = batch_body(chunk).dump();
      // A $batch of writes is not idempotent as a whole: the transport must not resend it.
      post.retry_allowed = false;
      post.budget_key = options.budget_key;
      post.budget_limit = options.budget_limit;
      post.budget_rate = options.budget_rate;
      post.budget_cost = static_cast<int>(count);
      Result<net::Response> answer = [&] {
        MailboxGate::Slot slot(gate);
        return http.send(post, credentials);
      }();
      std::vector<Result<BatchResponse>> parts;
      if (!answer) {
        parts.assign(count, std::unexpected(answer.error()));
      } else if (answer->status != 200) {
        parts.assign(count, std::unexpected(graph_error(*answer, "$batch")));
      } else if (auto parsed = parse_batch_response(answer->body, count); !parsed) {
        parts.assign(count, std::unexpected(parsed.error()));
      } else {
        parts = std::move(*parsed);
      }
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t index = pending[first + i];
        if (throttled(parts[i])) {
          const auto asked = parts[i]->retry_after().value_or(std::chrono::seconds(1));
          if (round < options.throttled_rounds && asked <= options.max_wait) {
            wait = std::max(wait, asked);
            again.push_back(index);
          }
        }
        results[index] = std::move(parts[i]);
      }
    }
    pending = std::move(again);
    // A 429 inside the $batch answer is the mailbox's (app + mailbox) back-off: every node
    // spending that budget waits too (issue 17 §5; a no-op without shared holds).
    if (wait.count() > 0 && !options.budget_key.empty()) http.hold_budget(options.budget_key, wait);
    if (!pending.empty() && wait.count() > 0) std::this_thread::sleep_for(wait);
  }
  return results;
}

}  // namespace agendasync::graph
