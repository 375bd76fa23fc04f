// /api/v1/users/{name}/direction: a user's own sync direction (R12, R19) as My profile shows
// and changes it — the override, what applies without it and where that comes from, and
// whether the organisation lets users choose (the users_choose_direction setting).
#include "platform/platform.h"
#include "service/api_context.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

constexpr SyncDirection kChoices[] = {SyncDirection::kTwoWay, SyncDirection::kToExchange,
                                      SyncDirection::kFromExchange};

/// The organisation's layers (configuration file, agenda) and the user's override, as the
/// sync applies them.
struct Layers {
  SyncSettings without_user;  ///< what applies when the user sets nothing
  SyncSettings with_user;     ///< what applies now
};

Result<Layers> layers(ApiContext& api, PlatformContext& platform, const std::string& org,
                      const User& user) {
  auto settings = api.store.settings();
  if (!settings) return std::unexpected(settings.error());
  auto config = platform.platform.organisation_config(org);
  if (!config) return std::unexpected(config.error());
  return Layers{layer_sync_settings(config->sync, settings->sync),
                layer_sync_settings(config->sync, settings->sync, user.overrides)};
}

json direction_json(const User& user, const Layers& in_effect) {
  json choices = json::array();
  for (auto choice : kChoices) choices.push_back(to_string(choice));
  return {{"user_name", user.user_name},
          {"direction",
           user.overrides.direction ? json(to_string(*user.overrides.direction)) : json(nullptr)},
          {"effective", to_string(in_effect.with_user.direction.value)},
          {"source", to_string(in_effect.with_user.direction.source)},
          {"organisation_default", to_string(in_effect.without_user.direction.value)},
          {"organisation_default_source", to_string(in_effect.without_user.direction.source)},
          {"user_may_choose", in_effect.without_user.users_choose_direction.value},
          {"choices", choices}};
}

/// The `{name}` user when the caller may see it (staff, or the user's own token), else the
/// reply to send.
std::variant<User, Reply> visible_user(const Call& call) {
  const std::string& name = call.params.at("name");
  if (!is_staff(call) && !call.principal->is_user(name)) {
    return forbidden(call, "role admin or integration, or that user's own token");
  }
  auto found = call.api->store.user(name);
  if (!found) return problem_from(found.error(), call.path);
  if (!*found) {
    return problem(404, "not-found", "Not found",
                   "no user \"" + name + "\"; list users with GET /api/v1/users", call.path);
  }
  return **found;
}

}  // namespace

void add_user_direction_routes(Router& router, PlatformContext& platform) {
  router.add_scoped("GET", "/api/v1/users/{name}/direction", [&platform](Call& call) -> Reply {
    auto visible = visible_user(call);
    if (auto* reply = std::get_if<Reply>(&visible)) return *reply;
    const User& user = std::get<User>(visible);
    auto in_effect = layers(*call.api, platform, call.org, user);
    if (!in_effect) return problem_from(in_effect.error(), call.path);
    return json_reply(200, direction_json(user, *in_effect));
  });

  router.add_scoped("PUT", "/api/v1/users/{name}/direction", [&platform](Call& call) -> Reply {
    ApiContext& api = *call.api;
    auto visible = visible_user(call);
    if (auto* reply = std::get_if<Reply>(&visible)) return *reply;
    User user = std::get<User>(visible);
    auto before = layers(api, platform, call.org, user);
    if (!before) return problem_from(before.error(), call.path);
    // Staff set any user's override (as PATCH does); a user sets their own only where the
    // organisation lets users choose.
    if (!is_staff(call) && !before->without_user.users_choose_direction.value) {
      return problem(403, "forbidden", "Forbidden",
                     "your organisation does not let users choose their own sync direction; "
                     "ask an administrator (the organisation setting users_choose_direction "
                     "turns it on)",
                     call.path);
    }
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    auto value = document.is_object() ? document.find("direction") : document.end();
    const char* expected =
        "direction: expected \"two-way\", \"to-exchange\", \"from-exchange\", or null for the "
        "organisation's default";
    if (value == document.end()) {
      return problem(422, "invalid-data", "Invalid data", expected, call.path);
    }
    if (value->is_null()) {
      user.overrides.direction.reset();
    } else {
      auto parsed = value->is_string() ? std::optional<Result<SyncDirection>>(
                                             parse_sync_direction(value->get<std::string>()))
                                       : std::optional<Result<SyncDirection>>();
      if (!parsed || !*parsed)
        return problem(422, "invalid-data", "Invalid data", expected, call.path);
      user.overrides.direction = **parsed;
    }
    if (auto updated = api.store.update_user(user); !updated) {
      return problem_from(updated.error(), call.path);
    }
    // The next run applies the new direction; run it now rather than at the safety net.
    if (user.sync_enabled && !user.blocked)
      api.scheduler.trigger(user.user_name, Trigger::kHostChange);
    auto after = layers(api, platform, call.org, user);
    if (!after) return problem_from(after.error(), call.path);
    return json_reply(200, direction_json(user, *after));
  });
}

}  // namespace agendasync::service
