// GET /api/v1/nodes (issue 17 §6): the platform operator sees the nodes sharing the
// PostgreSQL database — which are alive, since when they beat, and what they hold.
#include "service/api_context.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

json lease_json(const cluster::HeldLease& lease) {
  json out = {
      {"org", lease.org}, {"epoch", lease.epoch}, {"expires_in_seconds", lease.expires_in_seconds}};
  if (!lease.pair.empty()) out["pair"] = lease.pair;
  return out;
}

}  // namespace

void add_node_routes(Router& router, PlatformContext& platform) {
  router.add("GET", "/api/v1/nodes", [&platform](Call& call) -> Reply {
    if (!call.principal->is_operator()) return forbidden(call, "role operator");
    // One node on SQLite: nothing to coordinate, nothing to list.
    if (!platform.nodes) return json_reply(200, {{"clustered", false}, {"nodes", json::array()}});
    auto nodes = platform.nodes();
    if (!nodes) return problem_from(nodes.error(), call.path);
    json items = json::array();
    for (const auto& node : *nodes) {
      json organisations = json::array(), pairs = json::array();
      for (const auto& lease : node.organisations) organisations.push_back(lease_json(lease));
      for (const auto& lease : node.pairs) pairs.push_back(lease_json(lease));
      items.push_back({{"name", node.name},
                       {"version", node.version},
                       {"started_at", node.started_at},
                       {"heartbeat_at", node.heartbeat_at},
                       {"heartbeat_age_seconds", node.heartbeat_age_seconds},
                       {"alive", node.alive},
                       {"stopped", node.stopped},
                       {"organisations", std::move(organisations)},
                       {"pairs", std::move(pairs)}});
    }
    return json_reply(200, {{"clustered", true}, {"nodes", std::move(items)}});
  });
}

}  // namespace agendasync::service
