#pragma once
/// The route table: every API route with its method, path template and whether it needs a
/// token. The table is the single source the HTTP server, the OpenAPI coverage test and the
/// metrics labels read, so an undocumented route cannot exist unnoticed.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "service/http_types.h"
#include "service/metrics.h"
#include "service/sessions.h"
#include "service/tokens.h"

namespace agendasync::service {

using Handler = std::function<Reply(Call&)>;

/// The organisation a scoped call runs in (Call::org, set by the router after it checked the
/// token's right to it): its context for Call::api, or the reply to send instead (an unknown
/// organisation: 404; a suspended one, for its own tokens: 403).
using TenantResolver = std::function<std::variant<std::shared_ptr<ApiContext>, Reply>(const Call&)>;

/// The prefix of an organisation's routes (issue 16 §5).
inline constexpr std::string_view kOrganisationPrefix = "/api/v1/organisations/{org}";

struct Route {
  std::string method;  ///< GET, POST, PUT, PATCH, DELETE
  std::string path;    ///< template with {name} parameters, e.g. /api/v1/users/{name}
  bool authenticated = true;
  Handler handler;
  /// An organisation's route: runs with Call::api set to that organisation's context.
  bool scoped = false;
  /// The short form of a scoped route (/api/v1/users for
  /// /api/v1/organisations/{org}/users): the token's own organisation.
  bool alias = false;
};

class Router {
 public:
  Router();
  ~Router();
  /// A platform route (probes, metrics, the OpenAPI document, organisations).
  void add(std::string method, std::string path, Handler handler, bool authenticated = true);
  /// An organisation's route, given in its short form (/api/v1/users/{name}): served at
  /// /api/v1/organisations/{org}/users/{name} and, for the calling token's own organisation,
  /// at the short form (what integrations written before organisations call). An operator's
  /// token on the short form gets a 400 naming the long one; a token of another organisation
  /// gets the 404 an unknown organisation gets.
  void add_scoped(std::string method, std::string path, Handler handler, bool authenticated = true);
  /// Required before a scoped route is dispatched.
  void set_resolver(TenantResolver resolver) { resolver_ = std::move(resolver); }
  /// The console's sessions: without a bearer token, a request may authenticate with the
  /// session cookie; its state changes then need the session's CSRF token (sessions.h).
  void set_sessions(SessionStore* sessions) { sessions_ = sessions; }
  const std::vector<Route>& routes() const { return routes_; }

  /// Answers one complete request (the HTTP server calls this on a worker): decodes the target
  /// (web/query.h: a query value keeps every `=` after the first), refuses text that is not
  /// UTF-8 (400 naming the field) before any handler runs, finds the route (404 problem when
  /// none, 501 for a method the API never uses), authenticates the bearer token (401/403
  /// problem), calls the handler (500 problem when it throws), and writes one JSON log line and
  /// one latency observation (labelled by route template, never by raw path).
  Reply dispatch(const HttpRequest& request, TokenStore& tokens, Metrics& metrics) const;

 private:
  struct Matcher;
  void add_route(Route route);
  std::vector<Route> routes_;
  std::vector<std::unique_ptr<Matcher>> matchers_;  ///< one per route, same order
  TenantResolver resolver_;
  SessionStore* sessions_ = nullptr;
};

}  // namespace agendasync::service
