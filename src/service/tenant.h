#pragma once
/// One organisation's side of the server (issue 16): its agenda, its service tables (run
/// status, webhooks, Graph subscriptions, secrets), its tokens, the change follower and the
/// webhook feed position, and the ApiContext its routes run on. Built from the organisation's
/// own database, so nothing in it reaches another organisation's rows. The server owns one per
/// organisation it serves; the scheduler, the metrics and the HTTP listener are shared.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"
#include "net/http.h"
#include "service/api_context.h"
#include "service/audit_lookup.h"
#include "service/change_follower.h"
#include "service/secrets/key_ring.h"
#include "service/service_db.h"

namespace agendasync::service {

class PooledAgendaStore;

struct TenantOptions {
  /// Reader connections at most per database on SQLite, opened when reads run at once and
  /// closed after `reader_idle_limit` unused.
  std::size_t database_readers = 4;
  std::chrono::milliseconds reader_idle_limit{std::chrono::seconds(30)};
  bool fsync_every_write = false;
  bool create_database = false;
  WebhookOptions webhooks;
  AuditLookup audit;
};

/// What every tenant shares with the server.
struct TenantShared {
  Scheduler& scheduler;
  Metrics& metrics;
  net::HttpClient& http;  ///< webhook deliveries
  ServiceDb& node_db;     ///< the node's database: API tokens live there
  const secrets::KeyRing& ring;
};

class Tenant {
 public:
  /// Opens the organisation's agenda and its service tables: the SQLite file `database`
  /// (migrating it), or organisation `org`'s schema on the PostgreSQL server `database`
  /// names (which `agendasync migrate` made).
  static Result<std::unique_ptr<Tenant>> open(std::string org,
                                              const std::filesystem::path& database,
                                              const TenantOptions& options, TenantShared shared);
  ~Tenant();

  /// Starts the webhook deliveries and follows the change feed from its head.
  void start();
  /// Stops the webhook deliveries. Idempotent.
  void stop();
  /// One turn of the feed loop: wakes the pairs of other processes' writes and publishes new
  /// changes to the webhooks.
  void poll_feed();
  /// SQLite reader connections this organisation holds open now (agenda and service tables).
  std::size_t open_readers();

  const std::string& org() const { return org_; }
  ApiContext& api() { return *api_; }
  store::AgendaStore& store() { return *store_; }
  TokenStore& tokens() { return *tokens_; }
  SecretStore& secrets() { return *secrets_; }
  SyncStatusStore& status() { return *status_; }
  Webhooks& webhooks() { return *webhooks_; }
  GraphSubscriptions& graph() { return *graph_; }

 private:
  explicit Tenant(std::string org) : org_(std::move(org)) {}
  /// Publishes the changes after the shared feed position to the webhooks; `head` is the
  /// feed's head read just before.
  void publish_feed(store::Revision head);
  /// Closes idle SQLite readers every few seconds (the feed loop's turns tick it).
  void close_idle_readers();
  /// The last change-feed revision published to the webhooks; nullopt before the first.
  Result<std::optional<std::int64_t>> feed_position();

  std::string org_;
  std::unique_ptr<store::AgendaStore> store_;
  PooledAgendaStore* pooled_ = nullptr;  ///< store_ when it is a reader pool (SQLite)
  /// The highest revision known to be published to the webhooks (here or by another node):
  /// an idle turn of the feed loop reads the head only.
  store::Revision published_ = 0;
  std::chrono::steady_clock::time_point readers_trimmed_{};
  std::unique_ptr<ServiceDb> db_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<SyncStatusStore> status_;
  std::unique_ptr<Webhooks> webhooks_;
  std::unique_ptr<GraphSubscriptions> graph_;
  std::unique_ptr<ChangeFollower> follower_;
  std::unique_ptr<ApiContext> api_;
};

}  // namespace agendasync::service
