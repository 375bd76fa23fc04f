// POST /api/v1/notifications/graph: Microsoft Graph change and lifecycle notifications (R23).
// https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
#include "service/api_context.h"
#include "service/log.h"

namespace agendasync::service {

using nlohmann::json;

namespace {

/// A string member, or "" when it is missing or not a string (a forged body may hold
/// anything: null clientStates, numbers).
std::string text_member(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// A verified lifecycle notification (same endpoint: each carries "lifecycleEvent").
/// https://learn.microsoft.com/graph/change-notifications-lifecycle-events
void handle_lifecycle(ApiContext& api, const json& notification, const std::string& id,
                      const std::string& user) {
  const std::string text = text_member(notification, "lifecycleEvent");
  auto event = parse_graph_lifecycle(text);
  api.metrics.add(metric::kNotifications, {{"source", "graph-lifecycle"}, {"result", text}});
  if (!event) {
    log_event(spdlog::level::warn, "graph_lifecycle_unknown",
              {{"subscription", id}, {"user", user}, {"event", text}});
    return;
  }
  if (*event == GraphLifecycle::kMissed) {
    // Some notifications were not delivered; one run reads whatever changed from the delta
    // feed, so nothing is lost.
    log_event(spdlog::level::info, "graph_lifecycle",
              {{"event", text}, {"subscription", id}, {"user", user}});
    api.scheduler.trigger(user, Trigger::kNotification);
    return;
  }
  // Renewing or subscribing again calls Graph, which may call back here: the keeper does it
  // on its own thread so this answer goes out at once.
  if (!api.graph.lifecycle(*event, GraphSubscription{id, user, 0})) {
    log_event(spdlog::level::warn, "graph_lifecycle_ignored",
              {{"subscription", id},
               {"user", user},
               {"event", text},
               {"detail", "no subscription keeper runs in this process"}});
  }
}

}  // namespace

void add_notification_routes(Router& router) {
  // Public: Graph cannot send our tokens. Each notification proves itself by its
  // subscription's clientState instead.
  router.add_scoped(
      "POST", "/api/v1/notifications/graph",
      [](Call& call) -> Reply {
        ApiContext& api = *call.api;
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
          if (!notification.is_object()) {
            ++rejected;
            api.metrics.add(metric::kNotifications, {{"source", "graph"}, {"result", "rejected"}});
            continue;
          }
          const std::string id = text_member(notification, "subscriptionId");
          auto user = api.graph.verify(id, text_member(notification, "clientState"));
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
          if (notification.contains("lifecycleEvent")) {
            handle_lifecycle(api, notification, id, **user);
            continue;
          }
          api.metrics.add(metric::kNotifications, {{"source", "graph"}, {"result", "accepted"}});
          log_event(spdlog::level::info, "graph_notification",
                    {{"user", **user},
                     {"subscription", id},
                     {"change", text_member(notification, "changeType")}});
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
