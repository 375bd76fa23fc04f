#include "exsim/server/admin_budgets.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "exsim/ews/find_count_budget.h"
#include "exsim/ews/request_concurrency.h"
#include "exsim/server/admin.h"

namespace exsim {

void install_budget_admin_routes(httplib::Server& http, const ServerConfig& config,
                                 const RequestConcurrency& concurrency,
                                 const FindCountBudget& find_count) {
  const ServerConfig* cfg = &config;
  http.Get("/exsim/admin/ews/budgets",
           [cfg, &concurrency, &find_count](const httplib::Request& req, httplib::Response& res) {
             if (!admin_authorised(*cfg, req, res)) return;
             admin_reply(res, 200,
                         {{"max_concurrency", concurrency.limit()},
                          {"in_flight", concurrency.in_flight()},
                          {"refused_concurrency", concurrency.refused()},
                          {"find_count_limit", find_count.limit()},
                          {"find_count_limit_restricted", find_count.restricted_limit()},
                          {"find_count_held", find_count.held()},
                          {"find_count_refused", find_count.refused()},
                          {"find_count_truncated", find_count.truncated()}});
           });
}

}  // namespace exsim
