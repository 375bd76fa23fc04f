// Operations: /healthz, /readyz, /metrics (R32), the OpenAPI document, API tokens.
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

/// Pull-time gauges: queue depth, running syncs and per-mailbox lag (R32).
void refresh_gauges(ApiContext& api) {
  api.metrics.set(metric::kQueueDepth, {}, static_cast<double>(api.scheduler.queue_depth()));
  api.metrics.set(metric::kRunning, {}, static_cast<double>(api.scheduler.running()));
  auto users = api.store.users();
  if (!users) return;
  auto now = unix_now();
  for (const auto& user : *users) {
    if (!user.sync_enabled || user.blocked) continue;
    auto last = api.status.last_success(user.user_name);
    if (last && *last) {
      api.metrics.set(metric::kSyncLag, {{"user", user.user_name}},
                      static_cast<double>(now - **last));
    }
  }
}

}  // namespace

void add_ops_routes(Router& router, ApiContext& api) {
  // Probes are public: orchestrators call them without credentials, and they reveal nothing.
  router.add(
      "GET", "/healthz",
      [](Call&) -> Reply {
        return json_reply(200, {{"status", "ok"}});
      },
      false);

  router.add(
      "GET", "/readyz",
      [&api](Call& call) -> Reply {
        auto head = api.store.head_revision();
        bool workers = api.workers_running && api.workers_running();
        json body = {{"database", head.has_value()}, {"workers", workers}};
        if (!head) body["detail"] = head.error().message;
        if (head && workers) {
          body["status"] = "ready";
          return json_reply(200, body);
        }
        Reply reply = problem(503, "not-ready", "Not ready",
                              !head ? "the database is not reachable: " + head.error().message
                                    : "the sync workers are not running (starting or stopping)",
                              call.path);
        return reply;
      },
      false);

  router.add("GET", "/metrics", [&api](Call& call) -> Reply {
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    refresh_gauges(api);
    return Reply{200, "text/plain; version=0.0.4; charset=utf-8", api.metrics.render(), {}};
  });

  router.add(
      "GET", "/api/v1/openapi.json",
      [](Call&) -> Reply {
        return Reply{200, "application/json", std::string(openapi_document()), {}};
      },
      false);

  router.add("GET", "/api/v1/tokens", [&api](Call& call) -> Reply {
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto tokens = api.tokens.list();
    if (!tokens) return problem_from(tokens.error(), call.path);
    json list = json::array();
    for (const auto& token : *tokens) list.push_back(token_json(token));
    return json_reply(200, {{"tokens", list}});
  });

  router.add("POST", "/api/v1/tokens", [&api](Call& call) -> Reply {
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
    log_event(
        spdlog::level::info, "token_created",
        {{"id", created->info.id}, {"role", created->info.role}, {"by", call.principal->token_id}});
    json reply = token_json(created->info);
    // The one response that carries a token: it is shown once and stored only as a hash.
    reply["token"] = created->value.reveal();
    return json_reply(201, reply);
  });

  router.add("DELETE", "/api/v1/tokens/{id}", [&api](Call& call) -> Reply {
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    if (auto revoked = api.tokens.revoke(call.params.at("id")); !revoked) {
      return problem_from(revoked.error(), call.path);
    }
    return Reply{204, "application/json", "", {}};
  });
}

}  // namespace agendasync::service
