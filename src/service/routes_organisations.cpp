// /api/v1/organisations (issue 16 §5): the platform operator creates, lists, suspends, resumes
// and deletes organisations; an organisation's admin (or an operator) reads and sets its
// connection to Exchange, whose secrets are write-only (R9).
#include "platform/platform.h"
#include "service/api_context.h"
#include "service/log.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

json organisation_json(const platform::Organisation& organisation) {
  return {{"id", organisation.id},
          {"name", organisation.name},
          {"state", platform::to_string(organisation.state)},
          {"created_at", organisation.created_at}};
}

Reply operator_only(const Call& call) { return forbidden(call, "role operator"); }

/// Reads the write-only secrets of a connection document: a string sets one, "" removes it.
std::variant<platform::SecretUpdates, Reply> read_secrets(const json& document, const Call& call) {
  platform::SecretUpdates updates;
  auto given = document.find("secrets");
  if (given == document.end()) return updates;
  if (!given->is_object()) {
    return problem(422, "invalid-data", "Invalid data",
                   "secrets: expected an object such as {\"exchange_password\": \"...\"}",
                   call.path);
  }
  for (const auto& [name, value] : given->items()) {
    std::optional<Secret>* slot = name == "exchange_password"     ? &updates.exchange_password
                                  : name == "graph_client_secret" ? &updates.graph_client_secret
                                  : name == "graph_private_key"   ? &updates.graph_private_key
                                                                  : nullptr;
    if (!slot || !value.is_string()) {
      return problem(422, "invalid-data", "Invalid data",
                     "secrets." + name +
                         ": unknown secret or not a string (known: exchange_password, "
                         "graph_client_secret, graph_private_key)",
                     call.path);
    }
    *slot = Secret(value.get<std::string>());
  }
  return updates;
}

json connection_reply(PlatformContext& platform, const platform::Connection& connection) {
  json body = platform::connection_to_json(connection);
  body["admin_consent_url"] = platform.platform.consent_link(
      connection, platform.public_url.empty() ? std::string() : platform.public_url + "/admin/");
  return body;
}

}  // namespace

void add_organisation_routes(Router& router, PlatformContext& platform) {
  router.add("GET", "/api/v1/organisations", [&platform](Call& call) -> Reply {
    if (!call.principal->is_operator()) return operator_only(call);
    auto list = platform.platform.organisations();
    if (!list) return problem_from(list.error(), call.path);
    json items = json::array();
    for (const auto& organisation : *list) items.push_back(organisation_json(organisation));
    return json_reply(200, {{"organisations", items}});
  });

  router.add("POST", "/api/v1/organisations", [&platform](Call& call) -> Reply {
    if (!call.principal->is_operator()) return operator_only(call);
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    if (!document.contains("id") || !document["id"].is_string()) {
      return problem(422, "invalid-data", "Invalid data",
                     "id: expected the organisation's id, e.g. \"contoso\"", call.path);
    }
    auto created = platform.platform.create(document["id"].get<std::string>(),
                                            document.value("name", std::string()));
    if (!created) return problem_from(created.error(), call.path);
    if (auto opened = platform.refresh_organisation(created->id); !opened) {
      return problem_from(opened.error(), call.path);
    }
    log_event(spdlog::level::info, "organisation_created",
              {{"org", created->id}, {"by", call.principal->token_id}});
    return json_reply(201, organisation_json(*created));
  });

  router.add("GET", "/api/v1/organisations/{org}", [&platform](Call& call) -> Reply {
    const std::string& id = call.params.at("org");
    if (!call.principal->is_operator() && call.principal->org != id) {
      return problem(404, "not-found", "Not found",
                     "no organisation \"" + id + "\" is visible to this token", call.path);
    }
    auto found = platform.platform.organisation(id);
    if (!found) return problem_from(found.error(), call.path);
    return json_reply(200, organisation_json(*found));
  });

  router.add("PATCH", "/api/v1/organisations/{org}", [&platform](Call& call) -> Reply {
    if (!call.principal->is_operator()) return operator_only(call);
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    const json& document = std::get<json>(body);
    platform::OrganisationUpdate update;
    if (auto name = document.find("name"); name != document.end()) {
      if (!name->is_string()) {
        return problem(422, "invalid-data", "Invalid data", "name: expected text", call.path);
      }
      update.name = name->get<std::string>();
    }
    if (auto state = document.find("state"); state != document.end()) {
      if (*state == "active") {
        update.state = platform::OrgState::kActive;
      } else if (*state == "suspended") {
        update.state = platform::OrgState::kSuspended;
      } else {
        return problem(422, "invalid-data", "Invalid data",
                       "state: expected \"active\" or \"suspended\"", call.path);
      }
    }
    auto updated = platform.platform.update(call.params.at("org"), update);
    if (!updated) return problem_from(updated.error(), call.path);
    if (update.state) {
      // Suspending stops the organisation's syncs and watchers now; resuming starts them.
      if (auto refreshed = platform.refresh_organisation(updated->id); !refreshed) {
        return problem_from(refreshed.error(), call.path);
      }
      log_event(spdlog::level::info, "organisation_state",
                {{"org", updated->id},
                 {"state", platform::to_string(updated->state)},
                 {"by", call.principal->token_id}});
    }
    return json_reply(200, organisation_json(*updated));
  });

  // ?offboard=true removes from every synced mailbox what the sync created there (R40) first;
  // without it the mailboxes keep their items. ?confirm=<id> is required either way: deleting
  // an organisation deletes its agenda.
  router.add("DELETE", "/api/v1/organisations/{org}", [&platform](Call& call) -> Reply {
    if (!call.principal->is_operator()) return operator_only(call);
    const std::string id = call.params.at("org");
    if (call.query_value("confirm") != id) {
      return problem(422, "confirmation-required", "Confirmation required",
                     "deleting an organisation deletes its agenda, users and tokens: repeat its "
                     "id as ?confirm=" +
                         id +
                         " (add &offboard=true to remove what the sync "
                         "created in its mailboxes first)",
                     call.path);
    }
    auto found = platform.platform.organisation(id);
    if (!found) return problem_from(found.error(), call.path);
    // Its syncs and watchers stop first (queued runs dropped, a run in flight finishes and
    // holds its pair's lock until then): an offboarding with a sync still to come would see
    // that sync write the items again.
    platform.close_organisation(id);
    std::size_t offboarded = 0;
    if (call.query_value("offboard") == "true") {
      auto done = platform.offboard_organisation(id);
      if (!done) {
        (void)platform.reopen_organisation(id);  // not deleted: serve it again
        return problem_from(done.error(), call.path);
      }
      offboarded = *done;
    }
    if (auto removed = platform.platform.remove(id); !removed) {
      (void)platform.reopen_organisation(id);  // still there: serve it again
      return problem_from(removed.error(), call.path);
    }
    // Its tokens go with it (they live in the node's database, not in its files).
    auto revoked = platform.revoke_tokens(id);
    if (!revoked) return problem_from(revoked.error(), call.path);
    log_event(spdlog::level::info, "organisation_deleted",
              {{"org", id},
               {"offboarded", offboarded},
               {"tokens_revoked", *revoked},
               {"by", call.principal->token_id}});
    return Reply{204, "application/json", "", {}};
  });

  router.add_scoped("GET", "/api/v1/connection", [&platform](Call& call) -> Reply {
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto connection = platform.platform.connection(call.org, false);
    if (!connection) return problem_from(connection.error(), call.path);
    return json_reply(200, connection_reply(platform, *connection));
  });

  router.add_scoped("PUT", "/api/v1/connection", [&platform](Call& call) -> Reply {
    if (!call.principal->is_admin()) return forbidden(call, "role admin");
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    json document = std::get<json>(body);
    auto secrets = read_secrets(document, call);
    if (auto* reply = std::get_if<Reply>(&secrets)) return *reply;
    document.erase("secrets");
    document.erase("admin_consent_url");
    auto current = platform.platform.connection(call.org, false);
    if (!current) return problem_from(current.error(), call.path);
    auto fields = platform::connection_from_json(document, *current);
    if (!fields) return problem_from(fields.error(), call.path);
    auto stored = platform.platform.set_connection(call.org, *fields,
                                                   std::get<platform::SecretUpdates>(secrets));
    if (!stored) return problem_from(stored.error(), call.path);
    // The organisation's syncs and watchers start over on the new connection.
    if (auto refreshed = platform.refresh_organisation(call.org); !refreshed) {
      return problem_from(refreshed.error(), call.path);
    }
    log_event(spdlog::level::info, "connection_set",
              {{"org", call.org},
               {"backend", config::to_string(stored->exchange.backend)},
               {"by", call.principal->token_id}});
    auto shown = platform.platform.connection(call.org, false);
    if (!shown) return problem_from(shown.error(), call.path);
    return json_reply(200, connection_reply(platform, *shown));
  });
}

}  // namespace agendasync::service
