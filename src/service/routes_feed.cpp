// /api/v1/changes (the host change feed, paged) and /api/v1/webhooks (R29).
#include <charconv>

#include "service/api_context.h"
#include "service/json_codec.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

std::optional<std::int64_t> number(const std::optional<std::string>& text, std::int64_t fallback) {
  if (!text) return fallback;
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

json webhook_json(const WebhookInfo& hook) {
  return {{"id", hook.id}, {"url", hook.url}, {"created_at", hook.created_at}};
}

}  // namespace

void add_feed_routes(Router& router) {
  router.add_scoped("GET", "/api/v1/changes", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    auto since = number(call.query_value("since"), 0);
    auto limit = number(call.query_value("limit"), 100);
    if (!since || !limit || *limit < 1 || *limit > 1000) {
      return problem(400, "bad-query", "Bad query parameter",
                     "since must be a revision >= 0 and limit 1..1000", call.path);
    }
    store::ChangeQuery query;
    query.after = *since;
    // One more than asked tells whether another page follows.
    query.limit = static_cast<std::size_t>(*limit) + 1;
    query.user = call.query_value("user");
    auto changes = api.store.changes_since(query);
    if (!changes) return problem_from(changes.error(), call.path);
    bool more = changes->size() > static_cast<std::size_t>(*limit);
    if (more) changes->resize(static_cast<std::size_t>(*limit));
    json list = json::array();
    for (const auto& change : *changes) list.push_back(to_json(change));
    std::int64_t next = changes->empty() ? *since : changes->back().revision;
    return json_reply(200, {{"changes", list}, {"next", next}, {"more", more}});
  });

  router.add_scoped("GET", "/api/v1/webhooks", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    auto hooks = api.webhooks.list();
    if (!hooks) return problem_from(hooks.error(), call.path);
    json list = json::array();
    for (const auto& hook : *hooks) list.push_back(webhook_json(hook));
    return json_reply(200, {{"webhooks", list}});
  });

  router.add_scoped("POST", "/api/v1/webhooks", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    if (!document.contains("url") || !document["url"].is_string() || !document.contains("secret") ||
        !document["secret"].is_string()) {
      return problem(422, "invalid-data", "Invalid data",
                     "send {\"url\": \"https://...\", \"secret\": \"at least 16 characters\"}",
                     call.path);
    }
    auto added = api.webhooks.add(document["url"].get<std::string>(),
                                  Secret(document["secret"].get<std::string>()));
    if (!added) return problem_from(added.error(), call.path);
    Reply reply = json_reply(201, webhook_json(*added));
    reply.headers.emplace_back("Location", "/api/v1/webhooks/" + std::to_string(added->id));
    return reply;
  });

  router.add_scoped("DELETE", "/api/v1/webhooks/{id}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    auto id = number(call.params.at("id"), 0);
    if (!id) return problem(404, "not-found", "Not found", "webhook ids are numbers", call.path);
    if (auto removed = api.webhooks.remove(*id); !removed) {
      return problem_from(removed.error(), call.path);
    }
    return Reply{204, "application/json", "", {}};
  });

  router.add_scoped("GET", "/api/v1/webhooks/dead-letters", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    auto letters = api.webhooks.dead_letters();
    if (!letters) return problem_from(letters.error(), call.path);
    json list = json::array();
    for (const auto& letter : *letters) {
      list.push_back({{"id", letter.id},
                      {"webhook_id", letter.webhook_id},
                      {"url", letter.url},
                      {"event_id", letter.event_id},
                      {"event", json::parse(letter.body, nullptr, false)},
                      {"attempts", letter.attempts},
                      {"last_error", letter.last_error},
                      {"failed_at", letter.failed_at}});
    }
    return json_reply(200, {{"dead_letters", list}});
  });

  router.add_scoped(
      "POST", "/api/v1/webhooks/dead-letters/{id}/redeliver", [](Call& call) -> Reply {
        ApiContext& api = *call.api;
        if (!is_staff(call)) return forbidden(call, "role admin or integration");
        auto id = number(call.params.at("id"), 0);
        if (!id)
          return problem(404, "not-found", "Not found", "dead letter ids are numbers", call.path);
        if (auto queued = api.webhooks.redeliver(*id); !queued) {
          return problem_from(queued.error(), call.path);
        }
        return json_reply(202, {{"queued", true}});
      });
}

}  // namespace agendasync::service
