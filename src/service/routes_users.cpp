// /api/v1/users: the directory (R10), per-user sync enablement (R11), sync-now and status
// (R23, R32).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "service/api_context.h"
#include "service/json_codec.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

Result<json> user_json(ApiContext& api, const User& user) {
  auto settings = api.store.settings();
  if (!settings) return std::unexpected(settings.error());
  auto mailbox = mailbox_address(user, settings->mail_domain);
  auto managed = api.status.admin_managed(user.user_name);
  if (!managed) return std::unexpected(managed.error());
  return to_json(user, *managed, mailbox ? *mailbox : std::nullopt);
}

/// The `{name}` user, or the reply to send instead.
std::variant<User, Reply> load_user(ApiContext& api, const Call& call) {
  const std::string& name = call.params.at("name");
  auto found = api.store.user(name);
  if (!found) return problem_from(found.error(), call.path);
  if (!*found) {
    return problem(404, "not-found", "Not found",
                   "no user \"" + name + "\"; list users with GET /api/v1/users", call.path);
  }
  return **found;
}

Reply user_reply(ApiContext& api, const Call& call, int status, const User& user) {
  auto body = user_json(api, user);
  if (!body) return problem_from(body.error(), call.path);
  return json_reply(status, *body);
}

bool contains_folded(std::string_view text, std::string_view needle) {
  auto fold = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return fold(a) == fold(b); }) != text.end();
}

/// Reads a whole number query parameter within [low, high]; `fallback` when absent.
std::variant<long, Reply> bounded(const Call& call, const std::string& name, long fallback,
                                  long low, long high) {
  auto text = call.query_value(name);
  if (!text) return fallback;
  long value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < low || value > high) {
    return problem(400, "invalid-query", "Invalid query parameter",
                   name + ": expected a whole number from " + std::to_string(low) + " to " +
                       std::to_string(high),
                   call.path);
  }
  return value;
}

/// One page of the directory, filtered and searched on the server (issue 18: a table that
/// works for 5,000 users). Filtering reads only the users table and one status query; the
/// JSON, mailbox and status of a row are made for the page's rows only.
Reply users_page(const Call& call) {
  ApiContext& api = *call.api;
  auto limit = bounded(call, "limit", 50, 1, 500);
  if (auto* reply = std::get_if<Reply>(&limit)) return *reply;
  auto offset = bounded(call, "offset", 0, 0, 100000000);
  if (auto* reply = std::get_if<Reply>(&offset)) return *reply;
  const std::string q = call.query_value("q").value_or("");
  const std::string state = call.query_value("state").value_or("all");
  if (state != "all" && state != "enabled" && state != "disabled" && state != "blocked" &&
      state != "failing") {
    return problem(400, "invalid-query", "Invalid query parameter",
                   "state: expected all, enabled, disabled, blocked or failing", call.path);
  }
  auto users = api.store.users();
  if (!users) return problem_from(users.error(), call.path);
  std::set<std::string> failing;
  if (state == "failing") {
    auto listed = api.status.failing_users();
    if (!listed) return problem_from(listed.error(), call.path);
    failing = std::move(*listed);
  }
  std::vector<const User*> matching;
  for (const auto& user : *users) {
    if (state == "enabled" && !(user.sync_enabled && !user.blocked)) continue;
    if (state == "disabled" && (user.sync_enabled || user.blocked)) continue;
    if (state == "blocked" && !user.blocked) continue;
    if (state == "failing" && !failing.contains(user.user_name)) continue;
    if (!q.empty() && !contains_folded(user.user_name, q) &&
        !contains_folded(user.display_name, q) && !contains_folded(user.exchange_address, q)) {
      continue;
    }
    matching.push_back(&user);
  }
  auto settings = api.store.settings();
  if (!settings) return problem_from(settings.error(), call.path);
  const auto first = static_cast<std::size_t>(std::get<long>(offset));
  const auto count = static_cast<std::size_t>(std::get<long>(limit));
  std::vector<std::string> names;
  for (std::size_t i = first; i < matching.size() && i < first + count; ++i) {
    names.push_back(matching[i]->user_name);
  }
  auto briefs = api.status.briefs(names);
  if (!briefs) return problem_from(briefs.error(), call.path);
  json list = json::array();
  for (std::size_t i = first; i < matching.size() && i < first + count; ++i) {
    const User& user = *matching[i];
    const auto& brief = (*briefs)[user.user_name];
    auto mailbox = mailbox_address(user, settings->mail_domain);
    json row = to_json(user, brief.admin_managed, mailbox ? *mailbox : std::nullopt);
    row["last_success"] = brief.last_success ? json(*brief.last_success) : json(nullptr);
    row["last_outcome"] = brief.last_outcome.empty() ? json(nullptr) : json(brief.last_outcome);
    row["last_error"] = brief.last_error.empty() ? json(nullptr) : json(brief.last_error);
    list.push_back(std::move(row));
  }
  return json_reply(
      200, {{"users", list}, {"total", matching.size()}, {"offset", first}, {"limit", count}});
}

}  // namespace

void add_user_routes(Router& router) {
  router.add_scoped("GET", "/api/v1/users", [](Call& call) -> Reply {
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    // Any of the paging parameters asks for one page (the console's 5,000-user table);
    // without them the whole directory, as integrations written before paging expect.
    if (call.query_value("limit") || call.query_value("offset") || call.query_value("q") ||
        call.query_value("state")) {
      return users_page(call);
    }
    ApiContext& api = *call.api;
    auto users = api.store.users();
    if (!users) return problem_from(users.error(), call.path);
    json list = json::array();
    for (const auto& user : *users) {
      auto body = user_json(api, user);
      if (!body) return problem_from(body.error(), call.path);
      list.push_back(*body);
    }
    return json_reply(200, {{"users", list}});
  });

  router.add_scoped("POST", "/api/v1/users", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    User user;
    if (!document.contains("user_name") || !document["user_name"].is_string() ||
        document["user_name"].get<std::string>().empty()) {
      return problem(422, "invalid-data", "Invalid data",
                     "user_name: every user needs a user name (a string)", call.path);
    }
    user.user_name = document["user_name"].get<std::string>();
    if (auto applied = apply_user_json(user, document); !applied) {
      return problem_from(applied.error(), call.path);
    }
    // Sync is turned on by the user (R11), never by whoever creates the record.
    if (auto added = api.store.add_user(user); !added)
      return problem_from(added.error(), call.path);
    if (document.value("admin_managed", false)) {
      if (!call.principal->is_admin()) return forbidden(call, "role admin to set admin_managed");
      if (auto set = api.status.set_admin_managed(user.user_name, true); !set) {
        return problem_from(set.error(), call.path);
      }
    }
    Reply reply = user_reply(api, call, 201, user);
    reply.headers.emplace_back("Location", "/api/v1/users/" + user.user_name);
    return reply;
  });

  router.add_scoped("GET", "/api/v1/users/{name}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call) && !call.principal->is_user(call.params.at("name"))) {
      return forbidden(call, "role admin or integration, or that user's own token");
    }
    auto loaded = load_user(api, call);
    if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
    return user_reply(api, call, 200, std::get<User>(loaded));
  });

  router.add_scoped("PATCH", "/api/v1/users/{name}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call)) return forbidden(call, "role admin or integration");
    auto loaded = load_user(api, call);
    if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
    User user = std::get<User>(loaded);
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    if (document.contains("sync_enabled")) {
      return problem(422, "invalid-data", "Invalid data",
                     "sync_enabled is changed with PUT /api/v1/users/{name}/sync by the user "
                     "(or an admin for an admin-managed user, R11)",
                     call.path);
    }
    if (auto applied = apply_user_json(user, document); !applied) {
      return problem_from(applied.error(), call.path);
    }
    if (auto managed = document.find("admin_managed"); managed != document.end()) {
      if (!call.principal->is_admin()) return forbidden(call, "role admin to set admin_managed");
      if (!managed->is_boolean()) {
        return problem(422, "invalid-data", "Invalid data", "admin_managed: expected true or false",
                       call.path);
      }
      if (auto set = api.status.set_admin_managed(user.user_name, managed->get<bool>()); !set) {
        return problem_from(set.error(), call.path);
      }
    }
    if (auto updated = api.store.update_user(user); !updated) {
      return problem_from(updated.error(), call.path);
    }
    // Blocking or a new address changes what the pair must do (R10, R40).
    api.scheduler.trigger(user.user_name, Trigger::kHostChange);
    return user_reply(api, call, 200, user);
  });

  router.add_scoped("PUT", "/api/v1/users/{name}/sync", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    auto loaded = load_user(api, call);
    if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
    User user = std::get<User>(loaded);
    auto managed = api.status.admin_managed(user.user_name);
    if (!managed) return problem_from(managed.error(), call.path);
    // R11: only the user turns their own sync on or off; for an admin-managed user
    // (resource mode) the admin does.
    bool allowed =
        call.principal->is_user(user.user_name) || (*managed && call.principal->is_admin());
    if (!allowed) {
      return forbidden(call, *managed ? "role admin (this user is admin-managed) or the user's "
                                        "own token"
                                      : "the user's own token (R11: only the user turns their "
                                        "sync on or off, unless an admin manages it)");
    }
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    if (!document.contains("enabled") || !document["enabled"].is_boolean()) {
      return problem(422, "invalid-data", "Invalid data", "enabled: expected true or false",
                     call.path);
    }
    user.sync_enabled = document["enabled"].get<bool>();
    if (auto updated = api.store.update_user(user); !updated) {
      return problem_from(updated.error(), call.path);
    }
    if (user.sync_enabled) api.scheduler.trigger(user.user_name, Trigger::kSyncNow);
    return user_reply(api, call, 200, user);
  });

  router.add_scoped("POST", "/api/v1/users/{name}/sync-now", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call) && !call.principal->is_user(call.params.at("name"))) {
      return forbidden(call, "role admin or integration, or that user's own token");
    }
    auto loaded = load_user(api, call);
    if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
    const User& user = std::get<User>(loaded);
    if (user.blocked || !user.sync_enabled) {
      return problem(409, "sync-off", "Sync is off for this user",
                     user.blocked ? "the user is blocked (R10); unblock with PATCH "
                                    "/api/v1/users/" +
                                        user.user_name
                                  : "the user has not turned sync on (PUT /api/v1/users/" +
                                        user.user_name + "/sync)",
                     call.path);
    }
    if (!api.scheduler.trigger(user.user_name, Trigger::kSyncNow)) {
      return problem(503, "shutting-down", "Shutting down",
                     "the server is stopping; the sync runs after the restart", call.path);
    }
    Reply reply = json_reply(202, {{"queued", true}, {"user_name", user.user_name}});
    reply.headers.emplace_back("Location", "/api/v1/users/" + user.user_name + "/status");
    return reply;
  });

  router.add_scoped("GET", "/api/v1/users/{name}/status", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!is_staff(call) && !call.principal->is_user(call.params.at("name"))) {
      return forbidden(call, "role admin or integration, or that user's own token");
    }
    auto loaded = load_user(api, call);
    if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
    const User& user = std::get<User>(loaded);
    auto status = api.status.status(user.user_name);
    if (!status) return problem_from(status.error(), call.path);
    (*status)["sync_enabled"] = user.sync_enabled;
    // R31: a running sync's progress, for the console's progress bar.
    if (auto progress = api.scheduler.progress(user.user_name)) {
      (*status)["progress"] = {
          {"phase", progress->phase}, {"done", progress->done}, {"total", progress->total}};
    } else {
      (*status)["progress"] = nullptr;
    }
    (*status)["blocked"] = user.blocked;
    return json_reply(200, *status);
  });

  // Registered from here so the server's wiring stays as it is (routes_activity_types.cpp).
  add_activity_type_routes(router);
}

}  // namespace agendasync::service
