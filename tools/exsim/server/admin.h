#pragma once
/// The admin endpoint (/exsim/admin/..., JSON, protected by the configured admin token): inspect
/// mailboxes and the outbox, seed items, change items "as Outlook would", switch faults.
#include <nlohmann/json_fwd.hpp>

#include "exsim/server/config.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace exsim {

class Store;
class FaultInjector;

/// Whether `req` carries the admin token; when not, answers 404 (endpoint off) or 401 itself.
bool admin_authorised(const ServerConfig& config, const httplib::Request& req,
                      httplib::Response& res);
/// Answers with a JSON body.
void admin_reply(httplib::Response& res, int status, const nlohmann::json& body);

void install_admin_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                          FaultInjector& faults);
/// Whether `req` carries the admin token; otherwise answers 401/404 in `res` and returns false
/// (for admin routes installed by a protocol folder, e.g. graph/graph_admin.cpp).
bool check_admin_token(const ServerConfig& config, const httplib::Request& req,
                       httplib::Response& res);

}  // namespace exsim
