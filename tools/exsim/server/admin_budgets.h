#pragma once
/// The admin endpoint's view of the EWS request budgets: requests in flight per charged
/// account (EWSMaxConcurrency) and FindItem/FindFolder rows held (EWSFindCountLimit), with the
/// limits in force and how often each refused. Same token as the rest of /exsim/admin.
#include "exsim/server/config.h"

namespace httplib {
class Server;
}

namespace exsim {

class RequestConcurrency;
class FindCountBudget;

/// GET /exsim/admin/ews/budgets.
void install_budget_admin_routes(httplib::Server& http, const ServerConfig& config,
                                 const RequestConcurrency& concurrency,
                                 const FindCountBudget& find_count);

}  // namespace exsim
