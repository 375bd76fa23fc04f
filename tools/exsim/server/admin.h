#pragma once
/// The admin endpoint (/exsim/admin/..., JSON, protected by the configured admin token): inspect
/// mailboxes and the outbox, seed items, change items "as Outlook would", switch faults.
#include "exsim/server/config.h"

namespace httplib {
class Server;
}

namespace exsim {

class Store;
class FaultInjector;

void install_admin_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                          FaultInjector& faults);

}  // namespace exsim
