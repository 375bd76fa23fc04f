// POST /api/v1/notifications/graph: Microsoft Graph change notifications (R23).
// https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
#include "service/api_context.h"
#include "service/log.h"

namespace agendasync::service {

using nlohmann::json;

void add_notification_routes(Router& router, ApiContext& api) {
  // Public: Graph cannot send our tokens. Each notification proves itself by its
  // subscription's clientState instead.
  router.add(
      "POST", "/api/v1/notifications/graph",
      [&api](Call& call) -> Reply {
        // Validation handshake: echo the token as text/plain within 10 seconds.
        if (auto token = call.query_value("validationToken")) {
          api.metrics.add(metric::kNotifications, {{"source", "graph"}, {"result", "validation"}});
          return Reply{200, "text/plain", *token, {}};
        }
        auto body = parse_body(call);
        if (auto* reply = std::get_if<Reply>(&body)) return *reply;
        const json& document = std::get<json>(body);
        if (!document.contains("value") || !document["value"].is_array()) {
          return problem(400, "malformed-notification", "Malformed notification",
                         "expected {\"value\": [ ...change notifications... ]}", call.path);
        }
        std::size_t accepted = 0, rejected = 0;
        for (const auto& notification : document["value"]) {
          std::string id = notification.value("subscriptionId", "");
          std::string state = notification.value("clientState", "");
          auto user = api.graph.verify(id, state);
          if (!user || !*user) {
            // Not from our subscription (or a forged clientState): never wake anything.
            ++rejected;
            api.metrics.add(metric::kNotifications, {{"source", "graph"}, {"result", "rejected"}});
            log_event(spdlog::level::warn, "graph_notification_rejected",
                      {{"subscription", id},
                       {"reason", !user ? user.error().message
                                        : std::string("unknown subscription or wrong "
                                                      "clientState")}});
            continue;
          }
          ++accepted;
          api.metrics.add(metric::kNotifications, {{"source", "graph"}, {"result", "accepted"}});
          // Only wakes the pair: the change itself is read through the delta feed.
          api.scheduler.trigger(**user, Trigger::kNotification);
        }
        // 202 either way: Graph retries non-2xx answers, which would not make a forged
        // notification valid.
        return json_reply(202, {{"accepted", accepted}, {"rejected", rejected}});
      },
      false);
}

}  // namespace agendasync::service
