#pragma once
/// exsim's admin view of Graph's subscription limits (/exsim/admin/graph/..., admin token):
/// the limits in force and the counts tests check — subscriptions, requests refused by each
/// limit, notification deliveries (delivered, failed, retried, slow, dropped, largest batch).
#include <functional>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace exsim {

class GraphApi;
class GraphSubscriptions;
struct GraphLimits;

/// `authorised` checks the admin token (server/admin.h's check_admin_token).
void install_graph_admin_routes(
    httplib::Server& http,
    std::function<bool(const httplib::Request&, httplib::Response&)> authorised,
    GraphSubscriptions& subscriptions, const GraphLimits& limits, const GraphApi& api);

}  // namespace exsim
