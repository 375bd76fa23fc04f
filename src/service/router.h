#pragma once
/// The route table: every API route with its method, path template and whether it needs a
/// token. The table is the single source the HTTP server, the OpenAPI coverage test and the
/// metrics labels read, so an undocumented route cannot exist unnoticed.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "service/http_types.h"
#include "service/metrics.h"
#include "service/tokens.h"

namespace agendasync::service {

using Handler = std::function<Reply(Call&)>;

struct Route {
  std::string method;  ///< GET, POST, PUT, PATCH, DELETE
  std::string path;    ///< template with {name} parameters, e.g. /api/v1/users/{name}
  bool authenticated = true;
  Handler handler;
};

class Router {
 public:
  Router();
  ~Router();
  void add(std::string method, std::string path, Handler handler, bool authenticated = true);
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
  std::vector<Route> routes_;
  std::vector<std::unique_ptr<Matcher>> matchers_;  ///< one per route, same order
};

}  // namespace agendasync::service
