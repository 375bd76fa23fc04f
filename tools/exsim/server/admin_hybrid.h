#pragma once
/// The admin call that places a mailbox in a hybrid organisation: moved to Exchange Online,
/// back on premises, or reachable everywhere (README "Hybrid mailboxes"). Same token as the
/// rest of /exsim/admin.
#include "exsim/server/config.h"

namespace httplib {
class Server;
}

namespace exsim {

class Store;
class Subscriptions;

void install_hybrid_admin_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                                 Subscriptions& subscriptions);

}  // namespace exsim
