// /api/v1/appointments: CRUD with ETag / If-Match (R29), range queries, audit (R32).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "core/validate.h"
#include "service/api_context.h"
#include "service/json_codec.h"

namespace agendasync::service {

namespace {

using nlohmann::json;

std::string etag_of(store::Revision revision) { return "\"" + std::to_string(revision) + "\""; }

/// If-Match: "N", W/"N" or N. nullopt when absent, -1 when unreadable.
std::optional<store::Revision> if_match(const Call& call) {
  auto header = call.header("If-Match");
  if (!header) return std::nullopt;
  std::string_view text = *header;
  if (text.starts_with("W/")) text.remove_prefix(2);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  store::Revision revision = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), revision);
  if (error != std::errc() || end != text.data() + text.size()) return -1;
  return revision;
}

Reply precondition_required(const Call& call) {
  return problem(428, "precondition-required", "Precondition required",
                 "send If-Match with the appointment's ETag (from GET); writes without it "
                 "could overwrite a change made meanwhile by Outlook or another client",
                 call.path);
}

Reply stale(const Call& call, store::Revision current) {
  Reply reply = problem(412, "stale-etag", "Precondition failed",
                        "the appointment changed since you read it (current ETag " +
                            etag_of(current) + "); GET it again, reapply your change, retry",
                        call.path);
  reply.headers.emplace_back("ETag", etag_of(current));
  return reply;
}

Reply with_etag(int status, const store::StoredAppointment& stored) {
  Reply reply = json_reply(status, to_json(stored));
  reply.headers.emplace_back("ETag", etag_of(stored.revision));
  return reply;
}

std::set<std::string> users_of(const Appointment& item) {
  std::set<std::string> users(item.participants.begin(), item.participants.end());
  if (!item.owner.empty()) users.insert(item.owner);
  return users;
}

bool may_see(const Call& call, const Appointment& item) {
  if (is_staff(call)) return true;
  for (const auto& user : users_of(item)) {
    if (call.principal->is_user(user)) return true;
  }
  return false;
}

/// R23: a host change wakes every pair whose agenda it touches (before and after).
void trigger_pairs(ApiContext& api, const std::set<std::string>& users) {
  for (const auto& user : users) api.scheduler.trigger(user, Trigger::kHostChange);
}

std::optional<store::AppointmentId> parse_id(const std::string& text) {
  store::AppointmentId id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

/// Loads the appointment of the `{id}` path parameter, or the reply to send instead.
std::variant<store::StoredAppointment, Reply> load(ApiContext& api, const Call& call) {
  auto id = parse_id(call.params.at("id"));
  if (!id) {
    return problem(404, "not-found", "Not found", "appointment ids are positive integers",
                   call.path);
  }
  auto found = api.store.appointment(*id);
  if (!found) return problem_from(found.error(), call.path);
  if (!*found || !may_see(call, (*found)->item)) {
    // A user token must not learn that someone else's appointment exists.
    return problem(404, "not-found", "Not found",
                   "no appointment " + std::to_string(*id) + " in your agenda", call.path);
  }
  return **found;
}

Result<void> check_item(const Appointment& item) {
  if (item.owner.empty()) {
    return fail(ErrorKind::kInvalidData, "owner: every appointment needs an owner (a user name)");
  }
  return validate(item);
}

Reply write_denied(const Call& call) {
  return forbidden(call, "role admin or integration, or a user token of the appointment's owner");
}

bool may_write(const Call& call, const Appointment& item) {
  return is_staff(call) || call.principal->is_user(item.owner);
}

bool contains_folded(std::string_view text, std::string_view needle) {
  auto fold = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return fold(a) == fold(b); }) != text.end();
}

}  // namespace

void add_appointment_routes(Router& router) {
  router.add_scoped("GET", "/api/v1/appointments", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    store::AppointmentQuery query;
    query.user = call.query_value("user");
    if (!is_staff(call)) {
      if (query.user && !call.principal->is_user(*query.user)) {
        return forbidden(call, "role admin or integration to list another user's agenda");
      }
      query.user = call.principal->user_name;
    }
    for (auto [name, target] : {std::pair{"from", &query.from}, std::pair{"to", &query.to}}) {
      if (auto text = call.query_value(name)) {
        auto parsed = parse_instant(*text);
        if (!parsed) {
          return problem(400, "bad-query", "Bad query parameter",
                         std::string(name) + ": " + parsed.error().message, call.path);
        }
        *target = *parsed;
      }
    }
    auto items = api.store.appointments(query);
    if (!items) return problem_from(items.error(), call.path);
    // ?subject=: the console's item audit finds an appointment by words of its subject
    // (case-insensitive), the first kSubjectMatches of them.
    const auto subject = call.query_value("subject");
    constexpr std::size_t kSubjectMatches = 50;
    json list = json::array();
    for (const auto& stored : *items) {
      if (subject && !contains_folded(stored.item.subject, *subject)) continue;
      list.push_back(to_json(stored));
      if (subject && list.size() == kSubjectMatches) break;
    }
    return json_reply(200, {{"appointments", list}});
  });

  router.add_scoped("POST", "/api/v1/appointments", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    auto body = parse_body(call);
    if (auto* reply = std::get_if<Reply>(&body)) return *reply;
    auto item = appointment_from_json(std::get<json>(body));
    if (!item) return problem_from(item.error(), call.path);
    if (item->owner.empty() && call.principal->kind == RoleKind::kUser) {
      item->owner = call.principal->user_name;
    }
    if (!may_write(call, *item)) return write_denied(call);
    if (auto valid = check_item(*item); !valid) return problem_from(valid.error(), call.path);
    auto created = api.store.create_appointment(*item);
    if (!created) return problem_from(created.error(), call.path);
    trigger_pairs(api, users_of(created->item));
    Reply reply = with_etag(201, *created);
    reply.headers.emplace_back("Location", "/api/v1/appointments/" + std::to_string(created->id));
    return reply;
  });

  router.add_scoped("GET", "/api/v1/appointments/{id}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    auto loaded = load(api, call);
    if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
    return with_etag(200, std::get<store::StoredAppointment>(loaded));
  });

  // PUT replaces, PATCH merges (RFC 7396); both need If-Match.
  for (const char* method : {"PUT", "PATCH"}) {
    const bool patch = std::string_view(method) == "PATCH";
    router.add_scoped(method, "/api/v1/appointments/{id}", [patch](Call& call) -> Reply {
      ApiContext& api = *call.api;
      auto expected = if_match(call);
      if (!expected) return precondition_required(call);
      auto loaded = load(api, call);
      if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
      const auto& current = std::get<store::StoredAppointment>(loaded);
      if (*expected != current.revision) return stale(call, current.revision);
      if (!may_write(call, current.item)) return write_denied(call);
      auto body = parse_body(call);
      if (auto* reply = std::get_if<Reply>(&body)) return *reply;
      auto item = patch ? merge_patch(current.item, std::get<json>(body))
                        : appointment_from_json(std::get<json>(body));
      if (!item) return problem_from(item.error(), call.path);
      if (!may_write(call, *item)) return write_denied(call);
      if (auto valid = check_item(*item); !valid) return problem_from(valid.error(), call.path);
      auto updated = api.store.update_appointment(current.id, *item, *expected);
      if (!updated) {
        if (updated.error().kind == ErrorKind::kConflict) {
          auto now = api.store.appointment(current.id);
          return stale(call, now && *now ? (*now)->revision : current.revision);
        }
        return problem_from(updated.error(), call.path);
      }
      auto touched = users_of(current.item);
      touched.merge(users_of(updated->item));
      trigger_pairs(api, touched);
      return with_etag(200, *updated);
    });
  }

  router.add_scoped("DELETE", "/api/v1/appointments/{id}", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    auto expected = if_match(call);
    if (!expected) return precondition_required(call);
    auto loaded = load(api, call);
    if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
    const auto& current = std::get<store::StoredAppointment>(loaded);
    if (*expected != current.revision) return stale(call, current.revision);
    if (!may_write(call, current.item)) return write_denied(call);
    auto deleted = api.store.delete_appointment(current.id, *expected);
    if (!deleted) {
      if (deleted.error().kind == ErrorKind::kConflict) return stale(call, current.revision);
      return problem_from(deleted.error(), call.path);
    }
    trigger_pairs(api, users_of(current.item));
    return Reply{204, "application/json", "", {}};
  });

  router.add_scoped("GET", "/api/v1/appointments/{id}/audit", [](Call& call) -> Reply {
    ApiContext& api = *call.api;
    auto loaded = load(api, call);
    if (auto* reply = std::get_if<Reply>(&loaded)) return *reply;
    if (!api.audit) {
      return problem(501, "unsupported", "Not supported",
                     "no audit trail is configured for this server (the sync state file)",
                     call.path);
    }
    auto records = api.audit(std::get<store::StoredAppointment>(loaded).id);
    if (!records) return problem_from(records.error(), call.path);
    json list = json::array();
    for (const auto& record : *records) {
      json changes = json::array();
      for (const auto& change : record.changes) {
        changes.push_back(
            {{"field", change.field}, {"before", change.before}, {"after", change.after}});
      }
      list.push_back({{"run_id", record.run_id},
                      {"at", format_instant(record.at)},
                      {"pair", record.pair_id},
                      {"side", sync::to_string(record.side)},
                      {"item", record.item},
                      {"link", record.link},
                      {"operation", record.operation},
                      {"rule", record.rule},
                      {"changes", changes}});
    }
    return json_reply(200, {{"audit", list}});
  });
}

}  // namespace agendasync::service
