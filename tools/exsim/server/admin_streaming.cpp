#include "exsim/server/admin_streaming.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "exsim/ews/hanging_connections.h"
#include "exsim/ews/mailbox_servers.h"
#include "exsim/ews/subscriptions.h"
#include "exsim/server/admin.h"
#include "exsim/store/store.h"

namespace exsim {

using json = nlohmann::json;

void install_streaming_admin_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                                    Subscriptions& subscriptions, const MailboxServers& servers,
                                    const HangingConnections& hanging) {
  const ServerConfig* cfg = &config;
  // The servers, their mailboxes, subscriptions and open streams.
  http.Get("/exsim/admin/mailbox-servers",
           [cfg, &store, &subscriptions, &servers, &hanging](const httplib::Request& req,
                                                             httplib::Response& res) {
             if (!admin_authorised(*cfg, req, res)) return;
             std::map<int, int> mailboxes;
             for (size_t i = 0; i < cfg->mailboxes.size(); ++i) {
               ++mailboxes[servers.server_of(static_cast<uint32_t>(i))];
             }
             std::map<int, int> subs;
             std::map<int, uint64_t> restarts;
             {
               std::lock_guard lock(store.mutex());
               for (const auto& [id, s] : subscriptions.all()) ++subs[s.server];
               for (size_t i = 0; i < servers.all().size(); ++i) {
                 restarts[static_cast<int>(i)] = subscriptions.restarts(static_cast<int>(i));
               }
             }
             std::map<int, int> streams = hanging.by_server();
             json out = json::array();
             for (size_t i = 0; i < servers.all().size(); ++i) {
               const MailboxServer& s = servers.all()[i];
               int k = static_cast<int>(i);
               out.push_back({{"number", s.number},
                              {"fqdn", s.fqdn},
                              {"grouping_information", s.grouping_information},
                              {"cookie", "X-BackEndOverrideCookie=" + s.cookie},
                              {"mailboxes", mailboxes[k]},
                              {"subscriptions", subs[k]},
                              {"open_streams", streams[k]},
                              {"restarts", restarts[k]}});
             }
             admin_reply(res, 200, out);
           });
  // A restart of server K (1-based): its subscriptions vanish and its open streams break, as
  // when Exchange's process restarts ("Handling notification-related errors in EWS":
  // ErrorSubscriptionNotFound, "the EWS process might have restarted").
  http.Post(
      R"(/exsim/admin/mailbox-servers/(\d+)/restart)",
      [cfg, &store, &subscriptions, &servers](const httplib::Request& req, httplib::Response& res) {
        if (!admin_authorised(*cfg, req, res)) return;
        int number = std::stoi(req.matches[1].str());
        if (number < 1 || number > static_cast<int>(servers.all().size())) {
          return admin_reply(res, 404, {{"error", "no such mailbox server"}});
        }
        size_t removed = 0;
        {
          std::lock_guard lock(store.mutex());
          removed = subscriptions.restart(number - 1);
        }
        store.changed().notify_all();  // open streams look at their server and end
        admin_reply(res, 200,
                    {{"restarted", number},
                     {"fqdn", servers.all()[static_cast<size_t>(number - 1)].fqdn},
                     {"subscriptions_removed", removed}});
      });
  // Open streaming connections, per charged account (HangingConnectionLimit) and in total.
  http.Get("/exsim/admin/streaming", [cfg, &store, &subscriptions, &hanging](
                                         const httplib::Request& req, httplib::Response& res) {
    if (!admin_authorised(*cfg, req, res)) return;
    size_t count = 0;
    {
      std::lock_guard lock(store.mutex());
      count = subscriptions.all().size();
    }
    admin_reply(res, 200,
                {{"open_streams", hanging.total()},
                 {"hanging_connection_limit", hanging.limit()},
                 {"hanging_connections", hanging.by_account()},
                 {"subscriptions", count}});
  });
  // Lose the next N changes of a mailbox (default 1): its subscriptions do not report them and
  // their GetStreamingEvents answer ErrorMissedNotificationEvents instead, as Exchange does
  // "when some previous events were missed" ("Handling notification-related errors in EWS").
  http.Post(R"(/exsim/admin/mailboxes/([^/]+)/drop-events)",
            [cfg, &store, &subscriptions](const httplib::Request& req, httplib::Response& res) {
              if (!admin_authorised(*cfg, req, res)) return;
              json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
              if (body.is_discarded() || !body.is_object())
                return admin_reply(res, 400, {{"error", "body must be a JSON object"}});
              int64_t next = body.value("next", int64_t{1});
              if (next < 1 || next > 1000000)
                return admin_reply(res, 400, {{"error", "next must be 1 to 1000000"}});
              std::lock_guard lock(store.mutex());
              Mailbox* mb = store.find_mailbox(req.matches[1].str());
              if (!mb) return admin_reply(res, 404, {{"error", "no such mailbox"}});
              subscriptions.lose_events(mb->index, mb->seq, static_cast<uint64_t>(next));
              size_t affected = 0;
              for (const auto& [id, s] : subscriptions.all()) affected += s.mailbox == mb->index;
              admin_reply(res, 200,
                          {{"mailbox", mb->address},
                           {"lost_changes", next},
                           {"after_change_sequence", mb->seq},
                           {"subscriptions", affected}});
            });
}

}  // namespace exsim
