// What the console asks of the sync engine (console_operations.h): the connectivity test of an
// organisation's connection (R8), a user's plan as a dry run (R37), approving a quarantined
// pair (R38) and offboarding one user (R40). Admins only: each reaches Exchange with the
// organisation's service account or app.
#include "service/api_context.h"
#include "service/log.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

Reply not_wired(const Call& call) {
  return problem(501, "unsupported", "Not supported",
                 "this server runs without the sync engine; `agendasync serve` provides it",
                 call.path);
}

/// The `{name}` user exists in the call's organisation, or the 404 to send.
std::optional<Reply> require_user(const Call& call) {
  const std::string& name = call.params.at("name");
  auto found = call.api->store.user(name);
  if (!found) return problem_from(found.error(), call.path);
  if (!*found) {
    return problem(404, "not-found", "Not found",
                   "no user \"" + name + "\"; list users with GET /api/v1/users", call.path);
  }
  return std::nullopt;
}

}  // namespace

void add_operation_routes(Router& router, PlatformContext& platform) {
  router.add_scoped("POST", "/api/v1/connection/test", [&platform](Call& call) -> Reply {
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    if (!platform.operations.test_connection) return not_wired(call);
    auto checks = platform.operations.test_connection(call.org);
    if (!checks) return problem_from(checks.error(), call.path);
    json list = json::array();
    bool passed = !checks->empty();
    for (const auto& check : *checks) {
      list.push_back({{"check", check.check},
                      {"pass", check.pass},
                      {"warning", check.warning},
                      {"detail", check.detail},
                      {"remedy", check.remedy}});
      passed = passed && check.pass;
    }
    log_event(spdlog::level::info, "connection_tested",
              {{"org", call.org}, {"passed", passed}, {"by", call.principal->token_id}});
    return json_reply(200, {{"passed", passed}, {"checks", list}});
  });

  router.add_scoped("GET", "/api/v1/users/{name}/plan", [&platform](Call& call) -> Reply {
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    if (auto missing = require_user(call)) return std::move(*missing);
    if (!platform.operations.plan) return not_wired(call);
    auto plan = platform.operations.plan(call.org, call.params.at("name"));
    if (!plan) return problem_from(plan.error(), call.path);
    return json_reply(200, {{"user_name", call.params.at("name")},
                            {"outcome", plan->outcome},
                            {"summary", plan->summary},
                            {"operations", plan->operations},
                            {"quarantine_reason", plan->quarantine_reason},
                            {"reason", plan->reason}});
  });

  router.add_scoped("POST", "/api/v1/users/{name}/approve", [&platform](Call& call) -> Reply {
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    if (auto missing = require_user(call)) return std::move(*missing);
    if (!platform.operations.approve) return not_wired(call);
    const std::string& name = call.params.at("name");
    if (auto approved = platform.operations.approve(call.org, name); !approved) {
      return problem_from(approved.error(), call.path);
    }
    log_event(spdlog::level::info, "pair_approved",
              {{"org", call.org}, {"user", name}, {"by", call.principal->token_id}});
    // The approved run goes now rather than at the next trigger.
    call.api->scheduler.trigger(name, Trigger::kSyncNow);
    return json_reply(200, {{"user_name", name}, {"approved", true}});
  });

  router.add_scoped("POST", "/api/v1/users/{name}/offboard", [&platform](Call& call) -> Reply {
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    if (auto missing = require_user(call)) return std::move(*missing);
    if (!platform.operations.offboard) return not_wired(call);
    const std::string& name = call.params.at("name");
    // Blocked first (R10), so no sync queued meanwhile writes the items back.
    if (auto user = call.api->store.user(name); user && *user && !(*user)->blocked) {
      User blocked = **user;
      blocked.blocked = true;
      if (auto updated = call.api->store.update_user(blocked); !updated) {
        return problem_from(updated.error(), call.path);
      }
    }
    auto removed = platform.operations.offboard(call.org, name);
    if (!removed) return problem_from(removed.error(), call.path);
    log_event(spdlog::level::info, "user_offboarded",
              {{"org", call.org}, {"user", name}, {"by", call.principal->token_id}});
    return json_reply(200, {{"user_name", name}, {"removed", *removed}});
  });
}

}  // namespace agendasync::service
