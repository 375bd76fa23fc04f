#pragma once
/// `agendasync serve` (R29): the REST API, the scheduler (R23), webhooks, Graph notification
/// intake and metrics in one process over the agenda database.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "net/http.h"
#include "service/audit_lookup.h"
#include "service/change_follower.h"
#include "service/graph_subscriptions.h"
#include "service/http_server.h"
#include "service/metrics.h"
#include "service/router.h"
#include "service/scheduler.h"
#include "service/secret_store.h"
#include "service/sync_status.h"
#include "service/tokens.h"
#include "service/webhooks.h"
#include "store/agenda_store.h"

namespace agendasync::service {

class Server;

struct ServerOptions {
  std::string listen = "127.0.0.1";
  int port = 0;  ///< 0 = any free port (tests)
  std::filesystem::path database;
  bool create_database = false;
  /// Key ring file for secrets at rest; empty = $AGENDASYNC_SECRET_KEY.
  std::filesystem::path secret_key_file;
  /// Runs one sync of a user's pair. Empty: runs fail with a message saying sync is not
  /// wired (the API still works).
  SyncFn sync;
  SchedulerOptions scheduler;
  WebhookOptions webhooks;
  /// For webhook deliveries; empty = a libcurl client.
  std::shared_ptr<net::HttpClient> http;
  AuditLookup audit;
  /// Renews Graph subscriptions; empty = no renewal loop.
  GraphRenewFn graph_renew;
  std::chrono::seconds graph_renew_margin{std::chrono::minutes(30)};
  std::chrono::milliseconds graph_renew_interval{std::chrono::minutes(5)};
  /// How often the change feed is read for webhook events.
  std::chrono::milliseconds feed_poll{100};
  /// Worker threads that run route handlers. Connections do not hold one (http_server.h).
  std::size_t http_threads = 16;
  /// Connection cap, size limits and deadlines of the HTTP server.
  HttpLimits http_limits;
  /// Reader connections on the database, for the agenda and for the service's own tables
  /// each (requests read in parallel under WAL; writes share one connection). 0 = every call
  /// on the one connection (the layout before the pool; kept for the load benchmark).
  std::size_t database_readers = 4;
  /// true: every API write waits for its fsync (`synchronous = FULL`), which caps writes at
  /// one per disk flush (~7 ms here, ~140 writes/s). false (default): `synchronous = NORMAL`
  /// on the API's connections; a power loss may drop the last acknowledged writes, the file
  /// never corrupts, a process crash loses nothing. docs/DECISIONS.md, "API write durability".
  bool fsync_every_write = false;
  /// Started once the server listens (e.g. the mailbox watchers, which trigger the
  /// scheduler); the function it returns is called first on shutdown, before the server
  /// stops. Empty = nothing to start.
  std::function<Result<std::function<void()>>(Server&)> start_companions;
};

class Server {
 public:
  /// Opens the database, starts the workers and listens. Fails naming what to fix (database
  /// path, key ring, port in use).
  static Result<std::unique_ptr<Server>> start(ServerOptions options);
  ~Server();

  int port() const { return port_; }
  /// The address it listens on (ServerOptions::listen).
  const std::string& listen_address() const { return options_.listen; }
  /// Graceful: stops accepting requests, lets running syncs finish, stops webhooks.
  void stop();

  const Router& router() const { return router_; }
  store::AgendaStore& store() { return *store_; }
  TokenStore& tokens() { return *tokens_; }
  SecretStore& secrets() { return *secrets_; }
  Scheduler& scheduler() { return *scheduler_; }
  Webhooks& webhooks() { return *webhooks_; }
  GraphSubscriptions& graph() { return *graph_; }
  Metrics& metrics() { return metrics_; }

 private:
  struct Impl;
  Server();
  void feed_loop();
  void graph_renew_loop();

  ServerOptions options_;
  std::unique_ptr<store::AgendaStore> store_;
  std::unique_ptr<ServiceDb> db_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<SyncStatusStore> status_;
  std::unique_ptr<Scheduler> scheduler_;
  std::shared_ptr<net::HttpClient> http_;
  std::unique_ptr<Webhooks> webhooks_;
  std::unique_ptr<GraphSubscriptions> graph_;
  std::unique_ptr<ChangeFollower> follower_;
  Metrics metrics_;
  Router router_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

/// Blocks serving until SIGTERM or SIGINT, then stops gracefully. `options` are final (the
/// caller applies the configuration's [server] and --listen); an empty database is the
/// configuration's. Prints "listening on http://HOST:PORT" to stdout once ready (scripts and
/// tests read the port from it when it was 0). Returns the process exit code (0 after a clean
/// stop, 1 when the server could not start; the reason goes to stderr).
int run_server(const config::Config& config, ServerOptions options);

}  // namespace agendasync::service
