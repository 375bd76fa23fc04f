#pragma once
/// Everything the route handlers use, owned by the Server and handed to each routes_*.cpp.
#include <functional>

#include "service/audit_lookup.h"
#include "service/graph_subscriptions.h"
#include "service/metrics.h"
#include "service/router.h"
#include "service/scheduler.h"
#include "service/secret_store.h"
#include "service/sync_status.h"
#include "service/tokens.h"
#include "service/webhooks.h"
#include "store/agenda_store.h"

namespace agendasync::service {

struct ApiContext {
  store::AgendaStore& store;
  TokenStore& tokens;
  SecretStore& secrets;
  SyncStatusStore& status;
  Scheduler& scheduler;
  Webhooks& webhooks;
  GraphSubscriptions& graph;
  Metrics& metrics;
  AuditLookup audit;  ///< empty: the audit endpoint answers 501
  /// /readyz: database reachable and workers running.
  std::function<bool()> workers_running;
};

void add_appointment_routes(Router& router, ApiContext& api);
void add_user_routes(Router& router, ApiContext& api);  // also registers the activity types
void add_activity_type_routes(Router& router, ApiContext& api);
void add_settings_routes(Router& router, ApiContext& api);
void add_feed_routes(Router& router, ApiContext& api);  // changes, webhooks, dead letters
void add_ops_routes(Router& router, ApiContext& api);   // health, metrics, openapi, tokens
void add_notification_routes(Router& router, ApiContext& api);

/// The OpenAPI document (embedded at build time from openapi.json).
std::string_view openapi_document();

/// Role helpers: true when the caller may proceed.
inline bool is_staff(const Call& call) {
  return call.principal && (call.principal->is_admin() || call.principal->is_integration());
}

}  // namespace agendasync::service
