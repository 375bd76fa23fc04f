#pragma once
/// `agendasync serve` (R29): the REST API, the scheduler (R23), webhooks, Graph notification
/// intake and metrics in one process over the agenda database.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/node_registry.h"
#include "config/config.h"
#include "core/error.h"
#include "net/http.h"
#include "service/audit_lookup.h"
#include "service/change_follower.h"
#include "service/console_operations.h"
#include "service/graph_subscriptions.h"
#include "service/http_server.h"
#include "service/metrics.h"
#include "service/router.h"
#include "service/scheduler.h"
#include "service/secret_store.h"
#include "service/sessions.h"
#include "service/sync_status.h"
#include "service/tokens.h"
#include "service/webhooks.h"
#include "store/agenda_store.h"

namespace agendasync::platform {
class Platform;
struct Organisation;
}  // namespace agendasync::platform

namespace agendasync::service {

class Server;
class Tenant;

/// Starts an organisation's real-time watchers (and whatever else runs per organisation) on
/// the organisation's configuration; returns the function that stops them. Called for every
/// active organisation once the server listens, and again after its connection or state
/// changes (the previous stop function first).
using OrganisationStarter = std::function<Result<std::function<void()>>(
    Server&, const std::string& org, const config::Config& org_config)>;

struct ServerOptions {
  std::string listen = "127.0.0.1";
  int port = 0;  ///< 0 = any free port (tests)
  /// The node's database: organisation default's agenda and the platform's tables.
  std::filesystem::path database;
  bool create_database = false;
  /// The node's configuration (the platform's Graph app in [graph], organisation default's
  /// connection in [exchange]); empty = defaults with `database` above.
  std::optional<config::Config> node;
  /// Key ring file for secrets at rest; empty = $AGENDASYNC_SECRET_KEY.
  std::filesystem::path secret_key_file;
  /// Runs one sync of a pair (organisation, user). Empty: runs fail with a message saying
  /// sync is not wired (the API still works).
  PairSyncFn sync;
  SchedulerOptions scheduler;
  WebhookOptions webhooks;
  /// For webhook deliveries; empty = a libcurl client.
  std::shared_ptr<net::HttpClient> http;
  /// The audit trail reader of an organisation (its agenda file, or the PostgreSQL server
  /// and its id); empty = the audit endpoint answers 501.
  std::function<AuditLookup(const std::filesystem::path& database, const std::string& org)> audit;
  /// How often every organisation's change feed is read (other processes' writes, webhooks).
  std::chrono::milliseconds feed_poll{100};
  /// Run by the feed loop after each round (the daemon writes run statuses that waited a
  /// second: StatusBatch::flush_due).
  std::function<void()> on_feed_poll;
  /// How often the organisation list is read for what other processes changed (another
  /// node's or the CLI's new organisations, connections and states).
  std::chrono::milliseconds platform_follow{std::chrono::seconds(2)};
  /// Worker threads that run route handlers. Connections do not hold one (http_server.h).
  std::size_t http_threads = 16;
  /// Connection cap, size limits and deadlines of the HTTP server.
  HttpLimits http_limits;
  /// Reader connections on each organisation's database, for the agenda and for the
  /// service's own tables each (requests read in parallel under WAL; writes share one
  /// connection). 0 = every call on the one connection (kept for the load benchmark).
  std::size_t database_readers = 4;
  /// A reader connection unused this long is closed, so an idle organisation holds few
  /// connections however busy it once was.
  std::chrono::milliseconds reader_idle_limit{std::chrono::seconds(30)};
  /// true: every API write waits for its fsync (`synchronous = FULL`), which caps writes at
  /// one per disk flush (~7 ms here, ~140 writes/s). false (default): `synchronous = NORMAL`
  /// on the API's connections; a power loss may drop the last acknowledged writes, the file
  /// never corrupts, a process crash loses nothing. docs/DECISIONS.md, "API write durability".
  bool fsync_every_write = false;
  /// Offboards every synced user of an organisation (R40) before an operator deletes it with
  /// ?offboard=true; returns how many. Empty: such a delete is refused.
  std::function<Result<std::size_t>(const std::string& org)> offboard;
  /// The admin console's session and login-link lifetimes.
  SessionOptions sessions;
  /// What the console asks of the sync engine; empty functions answer 501.
  ConsoleOperations operations;
  /// Per organisation: see OrganisationStarter. Empty = nothing per organisation.
  OrganisationStarter start_organisation;
  /// Started once the server listens, for the whole node; the function it returns is called
  /// first on shutdown, before the server stops. Empty = nothing to start.
  std::function<Result<std::function<void()>>(Server&)> start_companions;
  /// run_server on SIGHUP: applies what can change without a restart and logs what cannot.
  /// Empty = SIGHUP logs that nothing reloads.
  std::function<void()> reload;
  /// Many nodes on PostgreSQL: the nodes with their heartbeats and leases (GET
  /// /api/v1/nodes). Empty: a single node (SQLite), the listing is empty.
  std::function<Result<std::vector<cluster::NodeStatus>>()> nodes;
};

class Server {
 public:
  /// Opens the node's database and every organisation's, starts the workers and listens.
  /// Fails naming what to fix (database path, key ring, port in use).
  static Result<std::unique_ptr<Server>> start(ServerOptions options);
  ~Server();

  int port() const { return port_; }
  /// The address it listens on (ServerOptions::listen).
  const std::string& listen_address() const { return options_.listen; }
  /// Graceful: stops accepting requests, stops every organisation's watchers, lets running
  /// syncs finish, stops webhooks.
  void stop();

  const Router& router() const { return router_; }
  platform::Platform& platform() { return *platform_; }
  /// The organisation's open tenant; null when there is none with `org`.
  std::shared_ptr<Tenant> tenant(std::string_view org);
  /// Every open tenant.
  std::vector<std::shared_ptr<Tenant>> tenants();
  /// Opens the organisation's tenant if needed and (re)starts its watchers when it is active,
  /// stops them when it is suspended, whatever was served before: what a node gaining or
  /// losing the organisation's ownership needs (same connection, other watchers).
  Result<void> refresh_organisation(const std::string& org);
  /// Serves the organisation as the platform stores it now: opens, restarts or stops it only
  /// when its connection revision or state differs from what this node serves, closes it when
  /// it is gone. The API after a change and the platform follower both call it; whichever
  /// comes second finds it served and leaves it running. Does nothing to a withheld one.
  Result<void> serve_organisation(const std::string& org);
  /// Stops the organisation's watchers, drops its queued runs and closes its tenant.
  void close_organisation(const std::string& org);
  /// close_organisation, and nothing serves it again (the platform follower would, seeing it
  /// still listed) until release_organisation or until it is gone: an organisation being
  /// deleted, whose offboarding must not race a sync writing its items again.
  void withhold_organisation(const std::string& org);
  /// Ends withhold_organisation (its deletion failed) and serves the organisation again.
  Result<void> release_organisation(const std::string& org);

  /// Organisation default's stores: what a single-organisation node (and its tests) use.
  store::AgendaStore& store();
  TokenStore& tokens();
  SecretStore& secrets();
  Webhooks& webhooks();
  GraphSubscriptions& graph();
  /// Operators' tokens (no organisation).
  TokenStore& operator_tokens() { return *operator_tokens_; }
  Scheduler& scheduler() { return *scheduler_; }
  Metrics& metrics() { return metrics_; }
  /// When the change-feed loop last finished a round (every feed_poll while it is alive):
  /// run_server pings systemd's watchdog only while this is recent.
  std::chrono::steady_clock::time_point feed_heartbeat() const;

 private:
  struct Impl;
  Server();
  void feed_loop();
  /// PostgreSQL: opens the organisations another node added, follows their states and closes
  /// the ones it removed.
  void follow_platform();
  /// With companions_mutex held.
  Result<void> refresh_locked(const platform::Organisation& organisation);
  void close_locked(const std::string& org);
  /// Its tenant is open with this connection revision and this state.
  bool served_as_stored(const platform::Organisation& organisation);
  Result<SyncResult> run_pair(const PairRef& pair);
  /// One finished run's status for an organisation's SyncStatusStore.
  struct StatusRun;
  /// Writes runs' statuses in order, each organisation's consecutive ones together.
  Result<void> write_statuses(std::vector<StatusRun>& runs);
  std::vector<PairRef> due_pairs();
  void refresh_gauges();
  Tenant& default_tenant();

  ServerOptions options_;
  std::unique_ptr<ServiceDb> node_db_;
  std::unique_ptr<platform::Platform> platform_;
  std::unique_ptr<TokenStore> operator_tokens_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<Scheduler> scheduler_;
  std::shared_ptr<net::HttpClient> http_;
  Metrics metrics_;
  Router router_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

/// Blocks serving until SIGTERM or SIGINT, then stops gracefully. Under systemd: READY=1 once
/// it listens, WATCHDOG=1 while the feed loop is alive, SIGHUP calls options.reload. `options` are
/// final (the caller applies the configuration's [server] and --listen); an empty database is the
/// configuration's. Prints "listening on http://HOST:PORT" to stdout once ready (scripts and
/// tests read the port from it when it was 0). Returns the process exit code (0 after a clean
/// stop, 1 when the server could not start; the reason goes to stderr).
int run_server(const config::Config& config, ServerOptions options);

}  // namespace agendasync::service
