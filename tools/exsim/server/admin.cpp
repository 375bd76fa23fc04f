#include "exsim/server/admin.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <nlohmann/json.hpp>

#include "exsim/faults/faults.h"
#include "exsim/store/calendar_fields.h"
#include "exsim/store/store.h"
#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

using json = nlohmann::json;

void reply(httplib::Response& res, int status, const json& body) { admin_reply(res, status, body); }

bool authorised(const ServerConfig& config, const httplib::Request& req, httplib::Response& res) {
  return admin_authorised(config, req, res);
}

json item_json(const Mailbox& mb, const StoredItem& item) {
  pugi::xml_node root = bag_root(item.props);
  json ext = json::object();
  for (pugi::xml_node p : children(root, "ExtendedProperty")) {
    ext[extended_key(child(p, "ExtendedFieldURI"))] = child_text(p, "Value");
  }
  json deleted = json::array();
  for (Seconds s : item.deleted_occurrences) deleted.push_back(format_utc(s));
  json modified = json::array();
  for (const auto& [s, o] : item.overrides) modified.push_back(format_utc(s));
  return {{"id", item.id},
          {"item_id", encode_item_id({mb.index, item.id, std::nullopt})},
          {"change_key", encode_change_key(item.id, item.version)},
          {"folder", item.folder == FolderKind::kCalendar ? "calendar" : "deleteditems"},
          {"subject", child_text(root, "Subject")},
          {"location", child_text(root, "Location")},
          {"start", format_utc(item.start)},
          {"end", format_utc(item.end)},
          {"recurring", item.rule.has_value()},
          {"modified_occurrences", modified},
          {"deleted_occurrences", deleted},
          {"attendees", attendee_addresses(item)},
          {"extended_properties", ext},
          {"uid", child_text(root, "UID")}};
}

// Applies simple JSON fields the way Outlook would write them.
std::optional<FieldError> apply_json(StoredItem& item, const json& body) {
  pugi::xml_document doc;
  pugi::xml_node holder = doc.append_child("t:CalendarItem");
  for (const char* key : {"subject", "location", "start", "end", "body"}) {
    if (!body.contains(key)) continue;
    std::string element = key == std::string("subject")    ? "t:Subject"
                          : key == std::string("location") ? "t:Location"
                          : key == std::string("start")    ? "t:Start"
                          : key == std::string("end")      ? "t:End"
                                                           : "t:Body";
    pugi::xml_node n = add_text(holder, element.c_str(), body[key].get<std::string>());
    if (element == "t:Body") n.append_attribute("BodyType") = "Text";
  }
  for (pugi::xml_node prop : element_children(holder)) {
    if (auto e = set_field(item, nullptr, nullptr, prop, false, TimeContext{})) return e;
  }
  return finish_item(item);
}

}  // namespace

void admin_reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

bool admin_authorised(const ServerConfig& config, const httplib::Request& req,
                      httplib::Response& res) {
  if (config.admin_token.empty()) {
    admin_reply(res, 404, {{"error", "the admin endpoint is off: start exsim with --admin-token"}});
    return false;
  }
  std::string given = req.get_header_value("X-Exsim-Admin-Token");
  std::string auth = req.get_header_value("Authorization");
  if (given.empty() && auth.starts_with("Bearer ")) given = auth.substr(7);
  if (given.size() != config.admin_token.size() ||
      CRYPTO_memcmp(given.data(), config.admin_token.data(), given.size()) != 0) {
    admin_reply(res, 401, {{"error", "missing or wrong admin token (header X-Exsim-Admin-Token)"}});
    return false;
  }
  return true;
}

void install_admin_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                          FaultInjector& faults) {
  const ServerConfig* cfg = &config;
  http.Get("/exsim/admin/mailboxes",
           [cfg, &store](const httplib::Request& req, httplib::Response& res) {
             if (!authorised(*cfg, req, res)) return;
             std::lock_guard lock(store.mutex());
             json out = json::array();
             for (const auto& mb : store.mailboxes()) {
               out.push_back({{"address", mb->address},
                              {"name", mb->display_name},
                              {"items", mb->items.size()},
                              {"change_sequence", mb->seq},
                              {"location", location_name(mb->location)}});
             }
             reply(res, 200, out);
           });
  http.Get(R"(/exsim/admin/mailboxes/([^/]+)/items)",
           [cfg, &store](const httplib::Request& req, httplib::Response& res) {
             if (!authorised(*cfg, req, res)) return;
             std::lock_guard lock(store.mutex());
             Mailbox* mb = store.find_mailbox(req.matches[1].str());
             if (!mb) return reply(res, 404, {{"error", "no such mailbox"}});
             json out = json::array();
             for (const auto& [id, item] : mb->items) out.push_back(item_json(*mb, item));
             reply(res, 200, out);
           });
  http.Post(R"(/exsim/admin/mailboxes/([^/]+)/items)",
            [cfg, &store](const httplib::Request& req, httplib::Response& res) {
              if (!authorised(*cfg, req, res)) return;
              json body = json::parse(req.body, nullptr, false);
              if (body.is_discarded()) return reply(res, 400, {{"error", "body must be JSON"}});
              std::lock_guard lock(store.mutex());
              Mailbox* mb = store.find_mailbox(req.matches[1].str());
              if (!mb) return reply(res, 404, {{"error", "no such mailbox"}});
              StoredItem& item = store.new_item(*mb, FolderKind::kCalendar);
              if (auto e = apply_json(item, body)) {
                mb->items.erase(item.id);
                return reply(res, 400, {{"error", e->message}});
              }
              item.field_versions.clear();
              store.record_create(*mb, item);
              reply(res, 201, item_json(*mb, item));
            });
  http.Post(R"(/exsim/admin/mailboxes/([^/]+)/items/(\d+)/(update|delete))",
            [cfg, &store](const httplib::Request& req, httplib::Response& res) {
              if (!authorised(*cfg, req, res)) return;
              std::lock_guard lock(store.mutex());
              Mailbox* mb = store.find_mailbox(req.matches[1].str());
              if (!mb) return reply(res, 404, {{"error", "no such mailbox"}});
              auto it = mb->items.find(std::stoull(req.matches[2].str()));
              if (it == mb->items.end()) return reply(res, 404, {{"error", "no such item"}});
              if (req.matches[3].str() == "delete") {
                store.remove_item(*mb, it->first);
                return reply(res, 200, {{"deleted", true}});
              }
              json body = json::parse(req.body, nullptr, false);
              if (body.is_discarded()) return reply(res, 400, {{"error", "body must be JSON"}});
              if (auto e = apply_json(it->second, body))
                return reply(res, 400, {{"error", e->message}});
              store.record_update(*mb, it->second);
              reply(res, 200, item_json(*mb, it->second));
            });
  http.Post(R"(/exsim/admin/mailboxes/([^/]+)/seed)", [cfg, &store](const httplib::Request& req,
                                                                    httplib::Response& res) {
    if (!authorised(*cfg, req, res)) return;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return reply(res, 400, {{"error", "body must be JSON"}});
    size_t count = body.value("count", 100);
    std::string prefix = body.value("subject_prefix", "Seeded item");
    auto first = parse_date_time(body.value("start", "2030-01-07T09:00:00Z"));
    if (!first || count > 1000000) {
      return reply(res, 400, {{"error", "start must be an xs:dateTime and count <= 1000000"}});
    }
    std::lock_guard lock(store.mutex());
    Mailbox* mb = store.find_mailbox(req.matches[1].str());
    if (!mb) return reply(res, 404, {{"error", "no such mailbox"}});
    for (size_t i = 0; i < count; ++i) {
      StoredItem& item = store.new_item(*mb, FolderKind::kCalendar);
      Seconds start =
          first->utc() + std::chrono::hours(24 * static_cast<int>(i / 8) + static_cast<int>(i % 8));
      json fields = {{"subject", fmt::format("{} {}", prefix, i + 1)},
                     {"start", format_utc(start)},
                     {"end", format_utc(start + std::chrono::minutes(30))}};
      apply_json(item, fields);
      item.field_versions.clear();
      store.record_create(*mb, item);
    }
    reply(res, 200, {{"seeded", count}, {"items", mb->items.size()}});
  });
  http.Get("/exsim/admin/outbox",
           [cfg, &store](const httplib::Request& req, httplib::Response& res) {
             if (!authorised(*cfg, req, res)) return;
             std::lock_guard lock(store.mutex());
             json out = json::array();
             for (const OutboxMessage& m : store.outbox()) {
               out.push_back({{"kind", m.kind},
                              {"from", m.from},
                              {"to", m.to},
                              {"subject", m.subject},
                              {"uid", m.uid},
                              {"when", format_utc(m.when)}});
             }
             reply(res, 200, out);
           });
  http.Post("/exsim/admin/outbox/clear",
            [cfg, &store](const httplib::Request& req, httplib::Response& res) {
              if (!authorised(*cfg, req, res)) return;
              std::lock_guard lock(store.mutex());
              store.outbox().clear();
              reply(res, 200, {{"cleared", true}});
            });
  http.Get("/exsim/admin/faults",
           [cfg, &faults](const httplib::Request& req, httplib::Response& res) {
             if (!authorised(*cfg, req, res)) return;
             reply(res, 200, to_json(faults.get()));
           });
  http.Post("/exsim/admin/faults",
            [cfg, &faults](const httplib::Request& req, httplib::Response& res) {
              if (!authorised(*cfg, req, res)) return;
              json body = json::parse(req.body, nullptr, false);
              if (body.is_discarded() || !body.is_object())
                return reply(res, 400, {{"error", "body must be a JSON object"}});
              std::string error = faults.update(body);
              if (!error.empty()) return reply(res, 400, {{"error", error}});
              reply(res, 200, to_json(faults.get()));
            });
}

bool check_admin_token(const ServerConfig& config, const httplib::Request& req,
                       httplib::Response& res) {
  return authorised(config, req, res);
}

}  // namespace exsim
