// Operations: /healthz, /readyz, /metrics (R32), the OpenAPI document (platform routes), and
// an organisation's API tokens.
#include "service/api_context.h"
#include "service/log.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

json token_json(const TokenInfo& token) {
  return {{"id", token.id},
          {"role", token.role},
          {"label", token.label},
          {"created_at", token.created_at}};
}

}  // namespace

void add_ops_routes(Router& router, PlatformContext& platform) {
  // Probes are public: orchestrators call them without credentials, and they reveal nothing.
  router.add(
      "GET", "/healthz",
      [](Call&) -> Reply {
        return json_reply(200, {{"status", "ok"}});
      },
      false);

  router.add(
      "GET", "/readyz",
      [&platform](Call& call) -> Reply {
        auto database = platform.database_ready();
        bool workers = platform.workers_running && platform.workers_running();
        json body = {{"database", database.has_value()}, {"workers", workers}};
        if (!database) body["detail"] = database.error().message;
        if (database && workers) {
          body["status"] = "ready";
          return json_reply(200, body);
        }
        return problem(503, "not-ready", "Not ready",
                       !database ? "the database is not reachable: " + database.error().message
                                 : "the sync workers are not running (starting or stopping)",
                       call.path);
      },
      false);

  // Metrics carry every organisation's labels: an operator's (a monitoring system's) to read.
  // A node that holds organisation default only keeps answering its admin and integration
  // tokens, as before organisations existed.
  router.add("GET", "/metrics", [&platform](Call& call) -> Reply {
    const bool single = platform.organisation_count() <= 1;
    if (!call.principal->is_operator() &&
        !(single && is_staff(call) && call.principal->org == kDefaultTokenOrg)) {
      return forbidden(call, single ? "role operator, admin or integration"
                                    : "role operator (this node holds several organisations)");
    }
    platform.refresh_gauges();
    return Reply{200, "text/plain; version=0.0.4; charset=utf-8", platform.metrics.render(), {}};
  });

  router.add(
      "GET", "/api/v1/openapi.json",
      [&platform](Call&) -> Reply {
        return Reply{200, "application/json", platform.openapi, {}};
      },
      false);
}

void add_token_routes(Router& router) {
  router.add_scoped("GET", "/api/v1/tokens", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto tokens = api.tokens.list();
    if (!tokens) return problem_from(tokens.error(), call.path);
    json list = json::array();
    for (const auto& token : *tokens) list.push_back(token_json(token));
    return json_reply(200, {{"tokens", list}});
  });

  router.add_scoped("POST", "/api/v1/tokens", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    if (!document.contains("role") || !document["role"].is_string()) {
      return problem(422, "invalid-data", "Invalid data",
                     "role: expected admin, integration or user:<user name>", call.path);
    }
    auto created = api.tokens.create(document["role"].get<std::string>(),
                                     document.value("label", std::string()));
    if (!created) return problem_from(created.error(), call.path);
    log_event(spdlog::level::info, "token_created",
              {{"org", api.org},
               {"id", created->info.id},
               {"role", created->info.role},
               {"by", call.principal->token_id}});
    json reply = token_json(created->info);
    // The one response that carries a token: it is shown once and stored only as a hash.
    reply["token"] = created->value.reveal();
    return json_reply(201, reply);
  });

  router.add_scoped("DELETE", "/api/v1/tokens/{id}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    if (auto revoked = api.tokens.revoke(call.params.at("id")); !revoked) {
      return problem_from(revoked.error(), call.path);
    }
    return Reply{204, "application/json", "", {}};
  });
}

}  // namespace agendasync::service
