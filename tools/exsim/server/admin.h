#pragma once
/// The admin endpoint (/exsim/admin/..., JSON, protected by the configured admin token): inspect
/// mailboxes and the outbox, seed items, change items "as Outlook would", switch faults.
#include "exsim/server/config.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace exsim {

class Store;
class FaultInjector;

void install_admin_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                          FaultInjector& faults);
/// Whether `req` carries the admin token; otherwise answers 401/404 in `res` and returns false
/// (for admin routes installed by a protocol folder, e.g. graph/graph_admin.cpp).
bool check_admin_token(const ServerConfig& config, const httplib::Request& req,
                       httplib::Response& res);

}  // namespace exsim
