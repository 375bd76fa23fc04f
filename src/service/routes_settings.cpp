// /api/v1/settings: organisation settings (R12) with write-only secrets (R9).
#include <algorithm>

#include "platform/platform.h"
#include "service/api_context.h"
#include "service/json_codec.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

/// The API's name of a sync setting (json_codec.cpp spells the direction so too).
std::string api_key(const std::string& key) {
  return key == "direction" ? "default_direction" : key;
}

Reply settings_reply(ApiContext& api, const Call& call, PlatformContext& platform) {
  auto settings = api.store.settings();
  if (!settings) return problem_from(settings.error(), call.path);
  auto set_names = api.secrets.names();
  if (!set_names) return problem_from(set_names.error(), call.path);
  json body = to_json(*settings);
  // Secrets are write-only: the API tells whether one is set, never what it is.
  json secrets = json::object();
  for (const auto& name : known_secret_names()) {
    bool set = std::find(set_names->begin(), set_names->end(), name) != set_names->end();
    secrets[name] = {{"set", set}};
  }
  body["secrets"] = secrets;
  // R12: each value in effect and the layer it comes from (built-in, config file,
  // organisation), as `agendasync settings show` prints them.
  if (auto config = platform.platform.organisation_config(call.org)) {
    json effective = json::object();
    json sources = json::object();
    for (const auto& line : setting_lines(layer_sync_settings(config->sync, settings->sync))) {
      effective[api_key(line.key)] = line.value;
      sources[api_key(line.key)] = to_string(line.source);
    }
    body["effective"] = effective;
    body["sources"] = sources;
  }
  return json_reply(200, body);
}

}  // namespace

void add_settings_routes(Router& router, PlatformContext& platform) {
  router.add_scoped("GET", "/api/v1/settings", [&platform](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    return settings_reply(api, call, platform);
  });

  router.add_scoped("PUT", "/api/v1/settings", [&platform](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    auto settings = api.store.settings();
    if (!settings) return problem_from(settings.error(), call.path);
    if (auto applied = apply_settings_json(*settings, document); !applied) {
      return problem_from(applied.error(), call.path);
    }
    // Check every secret before writing anything, so a bad request changes nothing.
    std::vector<std::pair<std::string, Secret>> secrets;
    if (auto given = document.find("secrets"); given != document.end()) {
      if (!given->is_object()) {
        return problem(422, "invalid-data", "Invalid data",
                       "secrets: expected an object such as {\"exchange_password\": \"...\"}",
                       call.path);
      }
      for (const auto& [name, value] : given->items()) {
        const auto& known = known_secret_names();
        if (std::find(known.begin(), known.end(), name) == known.end() ||
            !(value.is_string() || value.is_null())) {
          std::string list;
          for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
          return problem(422, "invalid-data", "Invalid data",
                         "secrets." + name + ": unknown secret or not a string (known: " + list +
                             "; null removes one)",
                         call.path);
        }
        secrets.emplace_back(name, Secret(value.is_string() ? value.get<std::string>() : ""));
      }
    }
    if (auto stored = api.store.set_settings(*settings); !stored) {
      return problem_from(stored.error(), call.path);
    }
    for (const auto& [name, value] : secrets) {
      if (auto put = api.secrets.put(name, value); !put) {
        return problem_from(put.error(), call.path);
      }
    }
    return settings_reply(api, call, platform);
  });

  router.add_scoped("POST", "/api/v1/settings/secrets/rotate", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto resealed = api.secrets.rotate();
    if (!resealed) return problem_from(resealed.error(), call.path);
    std::size_t connection = 0;
    if (api.reseal_connection) {
      auto done = api.reseal_connection();
      if (!done) return problem_from(done.error(), call.path);
      connection = *done;
    }
    return json_reply(200, {{"resealed", *resealed + connection}});
  });
}

}  // namespace agendasync::service
