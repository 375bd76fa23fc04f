#pragma once
/// The admin endpoint's calls for streaming notifications at scale: the simulated Mailbox
/// servers (listing, restart), open streaming connections per charged account, and events lost
/// on purpose (ErrorMissedNotificationEvents). Same token as the rest of /exsim/admin.
#include "exsim/server/config.h"

namespace httplib {
class Server;
}

namespace exsim {

class Store;
class Subscriptions;
class MailboxServers;
class HangingConnections;

void install_streaming_admin_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                                    Subscriptions& subscriptions, const MailboxServers& servers,
                                    const HangingConnections& hanging);

}  // namespace exsim
