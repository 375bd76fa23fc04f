#pragma once
/// The route table: every API route with its method, path template and whether it needs a
/// token. The table is the single source the HTTP server, the OpenAPI coverage test and the
/// metrics labels read, so an undocumented route cannot exist unnoticed.
#include <functional>
#include <string>
#include <vector>

#include "service/http_types.h"
#include "service/metrics.h"
#include "service/tokens.h"

namespace httplib {
class Server;
}

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
  void add(std::string method, std::string path, Handler handler, bool authenticated = true);
  const std::vector<Route>& routes() const { return routes_; }

  /// Registers every route on `server`: bearer-token authentication (401 problem without a
  /// valid token), problem+json for unknown routes and handler exceptions, one JSON log line
  /// and one latency observation per request (labelled by route template, never by raw path).
  void install(httplib::Server& server, TokenStore& tokens, Metrics& metrics) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace agendasync::service
