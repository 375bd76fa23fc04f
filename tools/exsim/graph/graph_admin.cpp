#include "exsim/graph/graph_admin.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "exsim/graph/graph_limits.h"
#include "exsim/graph/graph_subscriptions.h"

namespace exsim {

void install_graph_admin_routes(
    httplib::Server& http,
    std::function<bool(const httplib::Request&, httplib::Response&)> authorised,
    GraphSubscriptions& subscriptions, const GraphLimits& limits) {
  // GET limits: what this exsim enforces (after "relax" switches and test overrides).
  http.Get("/exsim/admin/graph/limits",
           [authorised, &limits](const httplib::Request& req, httplib::Response& res) {
             if (!authorised(req, res)) return;
             res.set_content(limits.to_json().dump(), "application/json");
           });
  // GET stats: subscriptions, refusals and notification deliveries since start.
  http.Get("/exsim/admin/graph/stats",
           [authorised, &subscriptions](const httplib::Request& req, httplib::Response& res) {
             if (!authorised(req, res)) return;
             res.set_content(subscriptions.stats().dump(), "application/json");
           });
}

}  // namespace exsim
