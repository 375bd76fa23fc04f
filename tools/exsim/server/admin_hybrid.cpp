#include "exsim/server/admin_hybrid.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "exsim/ews/subscriptions.h"
#include "exsim/server/admin.h"
#include "exsim/store/mailbox_location.h"
#include "exsim/store/store.h"

namespace exsim {
namespace {

using nlohmann::json;

json placement_json(const Mailbox& mb) {
  return {{"address", mb.address},
          {"location", location_name(mb.location)},
          {"target_address", mb.target_address}};
}

// The on-premises Mailbox servers no longer hold a mailbox that moved online, so its EWS
// subscriptions are gone with it (a GetStreamingEvents then gets ErrorSubscriptionNotFound,
// as for any subscription its server lost). Caller holds the store mutex.
size_t forget_ews_subscriptions(Subscriptions& subscriptions, uint32_t mailbox) {
  return std::erase_if(subscriptions.all(),
                       [mailbox](const auto& entry) { return entry.second.mailbox == mailbox; });
}

}  // namespace

void install_hybrid_admin_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                                 Subscriptions& subscriptions) {
  const ServerConfig* cfg = &config;
  // {"to": "online" | "onpremises" | "everywhere", "target_address": "..." (optional)}.
  http.Post(
      R"(/exsim/admin/mailboxes/([^/]+)/move)",
      [cfg, &store, &subscriptions](const httplib::Request& req, httplib::Response& res) {
        if (!admin_authorised(*cfg, req, res)) return;
        json body = json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
          return admin_reply(res, 400, {{"error", "body must be a JSON object"}});
        }
        auto to = parse_location(body.value("to", ""));
        if (!to) {
          return admin_reply(
              res, 400, {{"error", "\"to\" must be \"online\", \"onpremises\" or \"everywhere\""}});
        }
        std::lock_guard lock(store.mutex());
        Mailbox* mb = store.find_mailbox(req.matches[1].str());
        if (!mb) return admin_reply(res, 404, {{"error", "no such mailbox"}});
        mb->location = *to;
        if (body.contains("target_address")) {
          mb->target_address = body.value("target_address", "");
        }
        if (mb->target_address.empty()) {
          mb->target_address = default_target_address(mb->address, cfg->online_routing_domain);
        }
        size_t forgotten = 0;
        if (*to == MailboxLocation::kOnline) {
          forgotten = forget_ews_subscriptions(subscriptions, mb->index);
          // Open streams wake up and see their subscriptions gone.
          store.changed().notify_all();
        }
        json out = placement_json(*mb);
        out["ews_subscriptions_removed"] = forgotten;
        admin_reply(res, 200, out);
      });
}

}  // namespace exsim
