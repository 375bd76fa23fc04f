#pragma once
/// Everything an organisation's route handlers use: that organisation's stores only (its
/// agenda, its service tables, its tokens), the shared scheduler seen through its pairs, and
/// the shared metrics. A handler gets it from Call::api, set by the router once the token's
/// right to the organisation is checked; nothing in it reaches another organisation.
#include <functional>
#include <string>

#include "cluster/node_registry.h"
#include "service/audit_lookup.h"
#include "service/console_operations.h"
#include "service/graph_subscriptions.h"
#include "service/metrics.h"
#include "service/router.h"
#include "service/scheduler.h"
#include "service/secret_store.h"
#include "service/sync_progress.h"
#include "service/sync_status.h"
#include "service/tokens.h"
#include "service/webhooks.h"
#include "store/agenda_store.h"

namespace agendasync::platform {
class Platform;
}

namespace agendasync::service {

/// The shared scheduler as one organisation sees it: pairs named by user name.
class OrgScheduler {
 public:
  OrgScheduler(Scheduler& scheduler, std::string org)
      : scheduler_(scheduler), org_(std::move(org)) {}
  bool trigger(const std::string& user, Trigger why) {
    return scheduler_.trigger(PairRef{org_, user}, why);
  }
  std::size_t queue_depth() const { return scheduler_.queue_depth(); }
  std::size_t running() const { return scheduler_.running(); }
  bool workers_alive() const { return scheduler_.workers_alive(); }
  /// Where the user's running sync is; nullopt when none runs (or nothing reports).
  std::optional<PairProgress> progress(const std::string& user) const {
    auto* board = scheduler_.progress();
    return board ? board->get(org_, user) : std::nullopt;
  }
  /// Drops the organisation's queued runs (suspended, deleted).
  std::size_t forget() { return scheduler_.forget_org(org_); }

 private:
  Scheduler& scheduler_;
  std::string org_;
};

struct ApiContext {
  std::string org;
  store::AgendaStore& store;
  TokenStore& tokens;
  SecretStore& secrets;
  SyncStatusStore& status;
  OrgScheduler scheduler;
  Webhooks& webhooks;
  GraphSubscriptions& graph;
  Metrics& metrics;
  AuditLookup audit;  ///< empty: the audit endpoint answers 501
  /// Re-seals this organisation's connection secrets (platform tables) under the current key.
  std::function<Result<std::size_t>()> reseal_connection;
};

/// What the platform's routes use: organisations and their connections (operator), probes,
/// metrics, the OpenAPI document.
struct PlatformContext {
  platform::Platform& platform;
  Metrics& metrics;
  /// Opens (or reopens) an organisation's stores and starts its syncs and watchers when it is
  /// active; stops them when it is suspended. After create, resume, suspend, a new connection;
  /// once per change even when the platform follower sees the change too.
  std::function<Result<void>(const std::string& org)> refresh_organisation;
  /// Stops and closes everything of the organisation, and keeps it closed while it is being
  /// offboarded and deleted (the platform follower would serve it again).
  std::function<void(const std::string& org)> close_organisation;
  /// Its deletion failed: serves it again.
  std::function<Result<void>(const std::string& org)> reopen_organisation;
  /// Revokes every token of a deleted organisation; how many.
  std::function<Result<std::size_t>(const std::string& org)> revoke_tokens;
  /// Offboards every synced user of the organisation (R40) before it is deleted.
  std::function<Result<std::size_t>(const std::string& org)> offboard_organisation;
  /// /readyz: the node's database answers and the workers run.
  std::function<Result<void>()> database_ready;
  std::function<bool()> workers_running;
  /// Pull-time gauges (queue, running, per-mailbox lag) before /metrics renders.
  std::function<void()> refresh_gauges;
  /// How many organisations the node holds (the /metrics compatibility rule).
  std::function<std::size_t()> organisation_count;
  /// The served OpenAPI document (the file plus each scoped route's organisation form).
  std::string openapi;
  /// [server] public_url, for the admin-consent link's redirect, the console's Secure cookie
  /// and absolute login links.
  std::string public_url;
  /// The engine's operations the console calls (connectivity test, plan, approve, offboard).
  ConsoleOperations operations;
  /// The cluster's nodes (issue 17); empty on a single node.
  std::function<Result<std::vector<cluster::NodeStatus>>()> nodes;
};

void add_appointment_routes(Router& router);
void add_user_routes(Router& router);  // also registers the activity types
void add_activity_type_routes(Router& router);
/// Organisation settings; `platform` gives the configuration file's layer for the sources.
void add_settings_routes(Router& router, PlatformContext& platform);
/// A user's own direction override (My profile); `platform` gives the configuration layer.
void add_user_direction_routes(Router& router, PlatformContext& platform);
void add_feed_routes(Router& router);  // changes, webhooks, dead letters
void add_notification_routes(Router& router);
void add_token_routes(Router& router);
void add_ops_routes(Router& router, PlatformContext& platform);  // health, metrics, openapi
/// Operator: organisations; admin: the organisation's connection.
void add_organisation_routes(Router& router, PlatformContext& platform);
/// Operator: the nodes sharing the database, their heartbeats and leases (issue 17).
void add_node_routes(Router& router, PlatformContext& platform);

/// The admin console: /admin/ (embedded files), /api/v1/session (sign in and out) and
/// login links. `tokens` authenticates any token (the operators' store).
void add_console_routes(Router& router, PlatformContext& platform, SessionStore& sessions,
                        TokenStore& tokens);
/// Admin: test the connection, a user's plan, approve, offboard (console_operations.h).
void add_operation_routes(Router& router, PlatformContext& platform);

/// The OpenAPI document (embedded at build time from openapi.json).
std::string_view openapi_document();

/// Role helpers: true when the caller may proceed. An operator may do in any organisation
/// what its admin may (Principal::is_admin).
inline bool is_staff(const Call& call) {
  return call.principal && (call.principal->is_admin() || call.principal->is_integration());
}

}  // namespace agendasync::service
