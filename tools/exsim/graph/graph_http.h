#pragma once
/// Serves exsim's Graph API over HTTP: /v1.0/... and /v1.0/$batch. Checks the Bearer token
/// (signature, expiry, audience) before anything else, applies the fault injector (503/500,
/// and 429 with Retry-After for "server busy"), and writes Graph's JSON answers.
#include "exsim/faults/faults.h"
#include "exsim/graph/graph_api.h"
#include "exsim/identity/token_service.h"

namespace httplib {
class Server;
}

namespace exsim {

/// Registers the /v1.0 routes on `http`. The objects must outlive the server.
void install_graph_routes(httplib::Server& http, GraphApi& api, const TokenService& tokens,
                          FaultInjector& faults);

}  // namespace exsim
