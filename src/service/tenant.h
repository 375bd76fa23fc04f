#pragma once
/// One organisation's side of the server (issue 16): its agenda, its service tables (run
/// status, webhooks, Graph subscriptions, secrets), its tokens, the change follower and the
/// webhook feed position, and the ApiContext its routes run on. Built from the organisation's
/// own database, so nothing in it reaches another organisation's rows. The server owns one per
/// organisation it serves; the scheduler, the metrics and the HTTP listener are shared.
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

struct TenantOptions {
  std::size_t database_readers = 4;
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
  void publish_feed();
  /// The last change-feed revision published to the webhooks; nullopt before the first.
  Result<std::optional<std::int64_t>> feed_position();

  std::string org_;
  std::unique_ptr<store::AgendaStore> store_;
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
