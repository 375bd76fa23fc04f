// /api/v1/activity-types (R16): list, add or replace, rename or change flags, remove.
#include "service/api_context.h"
#include "service/json_codec.h"

namespace agendasync::service {

using nlohmann::json;

void add_activity_type_routes(Router& router) {
  router.add_scoped("GET", "/api/v1/activity-types", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    auto types = api.store.activity_types();
    if (!types) return problem_from(types.error(), call.path);
    json list = json::array();
    for (const auto& type : *types) list.push_back(to_json(type));
    return json_reply(200, {{"activity_types", list}});
  });

  router.add_scoped("PUT", "/api/v1/activity-types/{name}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    auto type = activity_type_from_json(std::get<json>(body), call.params.at("name"));
    if (!type) return problem_from(type.error(), call.path);
    if (auto put = api.store.put_activity_type(*type); !put) {
      return problem_from(put.error(), call.path);
    }
    return json_reply(200, to_json(*type));
  });

  router.add_scoped("PATCH", "/api/v1/activity-types/{name}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const std::string& name = call.params.at("name");
    auto types = api.store.activity_types();
    if (!types) return problem_from(types.error(), call.path);
    const store::ActivityType* current = store::find_activity_type(*types, name);
    if (!current) {
      return problem(404, "not-found", "Not found",
                     "no activity type \"" + name + "\"; GET /api/v1/activity-types lists them",
                     call.path);
    }
    auto updated = patch_activity_type(*current, std::get<json>(body));
    if (!updated) return problem_from(updated.error(), call.path);
    auto stored = api.store.update_activity_type(current->name, *updated);
    if (!stored) return problem_from(stored.error(), call.path);
    return json_reply(200, to_json(*stored));
  });

  router.add_scoped("DELETE", "/api/v1/activity-types/{name}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    if (auto removed = api.store.remove_activity_type(call.params.at("name")); !removed) {
      return problem_from(removed.error(), call.path);
    }
    return Reply{204, "application/json", "", {}};
  });
}

}  // namespace agendasync::service
