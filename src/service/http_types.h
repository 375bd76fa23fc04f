#pragma once
/// What a route handler sees and returns: plain values, no HTTP library types, so handlers are
/// testable without a socket and Boost.Beast stays in http_server.cpp.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "service/tokens.h"

namespace agendasync::service {

struct ApiContext;

/// One complete request as the HTTP server read it (header and body, within the limits and
/// deadlines), before routing. Router::dispatch turns it into a Call.
struct HttpRequest {
  std::string method;
  std::string target;  ///< as sent: path and query, still percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// One request, as a handler sees it.
struct Call {
  std::string method;
  std::string path;
  std::string route;  ///< the template that matched, e.g. "/api/v1/users/{name}"
  std::map<std::string, std::string> params;      ///< path parameters by name
  std::multimap<std::string, std::string> query;  ///< decoded query parameters
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<Principal> principal;  ///< set on authenticated routes
  /// Scoped routes: the organisation the call runs in and its context (router.h).
  std::string org;
  ApiContext* api = nullptr;
  /// Keeps the organisation's stores open while the call runs (an operator may close the
  /// organisation meanwhile).
  std::shared_ptr<ApiContext> tenant;

  /// Header value by case-insensitive name.
  std::optional<std::string> header(std::string_view name) const;
  std::optional<std::string> query_value(const std::string& name) const;
};

/// One response.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// 2xx JSON reply.
Reply json_reply(int status, const nlohmann::json& body);
/// RFC 9457 application/problem+json: type, title, status, detail, instance.
Reply problem(int status, std::string_view slug, std::string_view title, std::string_view detail,
              std::string_view instance);
/// The problem for an Error, its status chosen by kind (kNotFound 404, kConflict 409,
/// kInvalidData 422, kAuth 401, kPermission 403, kTransient 503, kThrottled 429, ...).
Reply problem_from(const Error& error, std::string_view instance);
/// 403 naming what role the route needs.
Reply forbidden(const Call& call, std::string_view needed);
/// The request body as JSON, or a 400 problem.
std::variant<nlohmann::json, Reply> parse_body(const Call& call);

}  // namespace agendasync::service
