#include "service/tenant.h"

#include "service/json_codec.h"
#include "service/log.h"
#include "service/pooled_agenda_store.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::service {

namespace {

constexpr const char* kFeedPositionKey = "webhook_feed_revision";

}  // namespace

Result<std::unique_ptr<Tenant>> Tenant::open(std::string org, const std::filesystem::path& database,
                                             const TenantOptions& options, TenantShared shared) {
  std::unique_ptr<Tenant> tenant(new Tenant(std::move(org)));
  Tenant& t = *tenant;
  store::SqliteOptions store_options;
  store_options.create = options.create_database;
  store_options.fsync_every_commit = options.fsync_every_write;
  auto opened = store::open_sqlite_agenda_store(database, store_options);
  if (!opened) return std::unexpected(opened.error());
  if (options.database_readers == 0) {
    t.store_ = std::move(*opened);
  } else {
    auto pooled = PooledAgendaStore::open(std::move(*opened), database, options.database_readers);
    if (!pooled) return std::unexpected(pooled.error());
    t.store_ = std::move(*pooled);
  }
  auto db = ServiceDb::open(database, options.database_readers, options.fsync_every_write);
  if (!db) return std::unexpected(db.error());
  t.db_ = std::move(*db);
  t.tokens_ = std::make_unique<TokenStore>(shared.node_db, t.org_);
  t.secrets_ = std::make_unique<SecretStore>(*t.db_, shared.ring);
  t.status_ = std::make_unique<SyncStatusStore>(*t.db_);
  t.graph_ = std::make_unique<GraphSubscriptions>(*t.db_, *t.secrets_);
  t.webhooks_ = std::make_unique<Webhooks>(*t.db_, *t.secrets_, shared.http, shared.metrics,
                                           options.webhooks);
  t.api_ = std::unique_ptr<ApiContext>(
      new ApiContext{t.org_, *t.store_, *t.tokens_, *t.secrets_, *t.status_,
                     OrgScheduler(shared.scheduler, t.org_), *t.webhooks_, *t.graph_,
                     shared.metrics, options.audit, {}});
  OrgScheduler* scheduler = &t.api_->scheduler;
  t.follower_ = std::make_unique<ChangeFollower>(*t.store_, [scheduler](const std::string& user) {
    scheduler->trigger(user, Trigger::kHostChange);
  });

  // The feed position starts at the head: webhooks report changes from now on, not history.
  auto saved = t.db_->with([](store::sqlite::Connection& c) {
    return c.query_int("SELECT CAST(value AS INTEGER) FROM service_state WHERE key = ?1",
                       {std::string(kFeedPositionKey)});
  });
  if (saved && !*saved) {
    if (auto head = t.store_->head_revision()) {
      (void)t.db_->with([&](store::sqlite::Connection& c) {
        return c.run("INSERT OR REPLACE INTO service_state(key, value) VALUES (?1, ?2)",
                     {std::string(kFeedPositionKey), std::to_string(*head)});
      });
    }
  }
  return tenant;
}

Tenant::~Tenant() { stop(); }

void Tenant::start() {
  follower_->begin();
  webhooks_->start();
}

void Tenant::stop() {
  if (webhooks_) webhooks_->stop();
}

void Tenant::poll_feed() {
  // Writes of other processes on this agenda (the CLI, another node) wake their pairs too.
  follower_->poll();
  publish_feed();
}

void Tenant::publish_feed() {
  auto position = db_->with([](store::sqlite::Connection& c) {
    return c.query_int("SELECT CAST(value AS INTEGER) FROM service_state WHERE key = ?1",
                       {std::string(kFeedPositionKey)});
  });
  if (!position) return;
  store::ChangeQuery query;
  query.after = position->value_or(0);
  query.limit = 500;
  auto changes = store_->changes_since(query);
  if (!changes || changes->empty()) return;
  for (const auto& change : *changes) {
    nlohmann::json event = {
        {"id", "rev-" + std::to_string(change.revision)},
        {"type", std::string(store::to_string(change.entity)) + "." + store::to_string(change.op)},
        {"created_at", unix_now()},
        {"data", to_json(change)}};
    webhooks_->publish(event);
  }
  (void)db_->with([&](store::sqlite::Connection& c) {
    return c.run("INSERT OR REPLACE INTO service_state(key, value) VALUES (?1, ?2)",
                 {std::string(kFeedPositionKey), std::to_string(changes->back().revision)});
  });
}

}  // namespace agendasync::service
