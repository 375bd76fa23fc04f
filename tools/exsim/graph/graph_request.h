#pragma once
/// One Graph v1.0 request and its answer as exsim's Graph handlers see them, independent of
/// HTTP (the same handlers serve plain requests and $batch members), plus the OData query and
/// Prefer helpers they share.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "exsim/graph/graph_errors.h"
#include "exsim/graph/graph_time.h"

namespace exsim {

/// A request below /v1.0.
struct GraphRequest {
  std::string method;                          // GET, POST, PATCH, DELETE
  std::string path;                            // decoded, e.g. "/users/a@b.c/events/AAMk..."
  std::map<std::string, std::string> query;    // decoded OData and function parameters
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  nlohmann::json claims;  // the verified access token's claims
  int latency_ms = 0;     // injected latency, spent inside the mailbox's concurrency slot
  std::string header(const std::string& lower_name) const;
  std::string param(const std::string& name) const;
};

/// The answer: status, headers and a JSON body (null = no body).
struct GraphReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  nlohmann::json body;
  static GraphReply error(const GraphError& error);
  static GraphReply json(int status, nlohmann::json body);
};

/// odata.maxpagesize from Prefer, else $top, else `fallback`; at most `max`.
size_t page_size(const GraphRequest& request, size_t fallback, size_t max);
/// The zone of Prefer: outlook.timezone="..." (UTC when absent); nullopt when unknown.
std::optional<GraphZone> preferred_zone(const GraphRequest& request);
/// Splits "path?query" into a decoded path and decoded parameters with the daemon's decoder
/// (web/query.h): a value keeps every `=` after the first. A repeated name keeps its last value.
void split_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string>& query);

}  // namespace exsim
