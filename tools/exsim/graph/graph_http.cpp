#include "exsim/graph/graph_http.h"

#include <fmt/format.h>
#include <httplib.h>

#include "exsim/graph/graph_batch.h"
#include "web/query.h"

namespace exsim {
namespace {

using nlohmann::json;

constexpr const char* kJsonType =
    "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; "
    "charset=utf-8";

void write(httplib::Response& res, const GraphReply& reply) {
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  if (!reply.body.is_null()) res.set_content(reply.body.dump(), kJsonType);
}

// Graph's 401: the token is missing, forged, expired or for another audience.
std::optional<GraphReply> check_token(const std::string& authorization, const TokenService& tokens,
                                      json& claims) {
  auto unauthorized = [](const char* message) {
    GraphReply reply = GraphReply::error({401, "InvalidAuthenticationToken", message});
    reply.headers.emplace_back(
        "WWW-Authenticate",
        "Bearer realm=\"\", "
        "authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", "
        "client_id=\"00000003-0000-0000-c000-000000000000\"");
    return reply;
  };
  if (!authorization.starts_with("Bearer ") || authorization.size() <= 7) {
    return unauthorized("Access token is empty.");
  }
  auto verified = tokens.verify(authorization.substr(7));
  if (!verified) {
    return unauthorized(
        "Access token validation failure: the signature is invalid or the token has expired.");
  }
  if (verified->value("aud", "") != "https://graph.microsoft.com" &&
      verified->value("aud", "") != "00000003-0000-0000-c000-000000000000") {
    return unauthorized("Access token validation failure. Invalid audience.");
  }
  claims = std::move(*verified);
  return std::nullopt;
}

// Faults as Graph shows them: a 5xx, or 429 with Retry-After for "busy".
std::optional<GraphReply> injected_fault(FaultInjector& faults, int& latency_ms) {
  FaultDecision fault = faults.decide();
  latency_ms = fault.latency_ms;
  if (fault.http_error) {
    GraphReply reply = GraphReply::error(
        {fault.http_error, fault.http_error == 503 ? "ServiceNotAvailable" : "InternalServerError",
         fault.http_error == 503 ? "The service is temporarily unavailable. Try again later."
                                 : "An internal server error occurred."});
    if (fault.http_error == 503) reply.headers.emplace_back("Retry-After", "1");
    return reply;
  }
  if (fault.server_busy) {
    GraphReply reply =
        GraphReply::error({429, "ApplicationThrottled", "Application is over its resource limit."});
    reply.headers.emplace_back("Retry-After",
                               std::to_string(std::max(1, (fault.back_off_ms + 999) / 1000)));
    return reply;
  }
  return std::nullopt;
}

GraphReply run_one(GraphApi& api, FaultInjector& faults, GraphRequest request) {
  if (auto fault = injected_fault(faults, request.latency_ms)) return *fault;
  return api.handle(request);
}

}  // namespace

void install_graph_routes(httplib::Server& http, GraphApi& api, const TokenService& tokens,
                          FaultInjector& faults) {
  auto handler = [&api, &tokens, &faults](const httplib::Request& req, httplib::Response& res) {
    GraphRequest request;
    request.method = req.method;
    // From the target as sent, not req.path/req.params: cpp-httplib splits a query value at
    // every `=`, which cut `$expand=...($filter=id eq '...')`.
    split_target(req.target, request.path, request.query);
    request.path.erase(0, 5);  // after "/v1.0"
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[lower] = value;
    }
    request.body = req.body;
    if (auto denied = check_token(req.get_header_value("Authorization"), tokens, request.claims)) {
      write(res, *denied);
      return;
    }
    if (request.path == "/$batch") {
      if (request.method != "POST") {
        write(res, GraphReply::error({405, "BadRequest", "$batch takes POST."}));
        return;
      }
      write(res, handle_batch(request, [&](const GraphRequest& inner) {
              return run_one(api, faults, inner);
            }));
      return;
    }
    write(res, run_one(api, faults, std::move(request)));
  };
  const char* pattern = R"(/v1\.0/.*)";
  http.Get(pattern, handler);
  http.Post(pattern, handler);
  http.Patch(pattern, handler);
  http.Delete(pattern, handler);
}

}  // namespace exsim
