#include "exsim/graph/graph_admin.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "exsim/graph/graph_api.h"
#include "exsim/graph/graph_limits.h"
#include "exsim/graph/graph_subscriptions.h"

namespace exsim {

void install_graph_admin_routes(
    httplib::Server& http,
    std::function<bool(const httplib::Request&, httplib::Response&)> authorised,
    GraphSubscriptions& subscriptions, const GraphLimits& limits, const GraphApi& api) {
  // GET limits: what this exsim enforces (after "relax" switches and test overrides).
  http.Get("/exsim/admin/graph/limits",
           [authorised, &limits](const httplib::Request& req, httplib::Response& res) {
             if (!authorised(req, res)) return;
             res.set_content(limits.to_json().dump(), "application/json");
           });
  // GET stats: subscriptions, refusals and notification deliveries since start, and the
  // requests refused by the rate per app and mailbox.
  http.Get("/exsim/admin/graph/stats",
           [authorised, &subscriptions, &api](const httplib::Request& req, httplib::Response& res) {
             if (!authorised(req, res)) return;
             nlohmann::json stats = subscriptions.stats();
             stats["refused_mailbox_rate"] = api.refused_mailbox_rate();
             stats["refused_upload_volume"] = api.refused_upload_volume();
             res.set_content(stats.dump(), "application/json");
           });
}

}  // namespace exsim
