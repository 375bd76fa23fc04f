#include "service/tenant.h"

#include "service/json_codec.h"
#include "service/log.h"
#include "service/pooled_agenda_store.h"
#include "store/database_locator.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::service {

namespace {

constexpr const char* kFeedPositionKey = "webhook_feed_revision";

}  // namespace

Result<std::unique_ptr<Tenant>> Tenant::open(std::string org, const std::filesystem::path& database,
                                             const TenantOptions& options, TenantShared shared) {
  std::unique_ptr<Tenant> tenant(new Tenant(std::move(org)));
  Tenant& t = *tenant;
  const std::string where = database.string();
  if (store::is_postgres_locator(where)) {
    // The organisation's schema, through the store's own pool: PostgreSQL serves readers
    // and writers at once, so no reader pool is wrapped around it.
    store::OpenOptions store_options;
    store_options.create = options.create_database;
    store_options.fsync_every_commit = options.fsync_every_write;
    auto opened = store::open_agenda_store(where, t.org_, store_options);
    if (!opened) return std::unexpected(opened.error());
    t.store_ = std::move(*opened);
  } else {
    store::SqliteOptions store_options;
    store_options.create = options.create_database;
    store_options.fsync_every_commit = options.fsync_every_write;
    auto opened = store::open_sqlite_agenda_store(database, store_options);
    if (!opened) return std::unexpected(opened.error());
    if (options.database_readers == 0) {
      t.store_ = std::move(*opened);
    } else {
      auto pooled = PooledAgendaStore::open(std::move(*opened), database, options.database_readers,
                                            options.reader_idle_limit);
      if (!pooled) return std::unexpected(pooled.error());
      t.pooled_ = pooled->get();
      t.store_ = std::move(*pooled);
    }
  }
  auto db = ServiceDb::open_organisation(where, t.org_, options.database_readers,
                                         options.fsync_every_write, options.reader_idle_limit);
  if (!db) return std::unexpected(db.error());
  t.db_ = std::move(*db);
  t.tokens_ = std::make_unique<TokenStore>(shared.node_db, t.org_);
  t.secrets_ = std::make_unique<SecretStore>(*t.db_, shared.ring);
  t.status_ = std::make_unique<SyncStatusStore>(*t.db_);
  t.graph_ = std::make_unique<GraphSubscriptions>(*t.db_, *t.secrets_);
  t.webhooks_ = std::make_unique<Webhooks>(*t.db_, *t.secrets_, shared.http, shared.metrics,
                                           options.webhooks);
  t.api_ = std::unique_ptr<ApiContext>(new ApiContext{t.org_,
                                                      *t.store_,
                                                      *t.tokens_,
                                                      *t.secrets_,
                                                      *t.status_,
                                                      OrgScheduler(shared.scheduler, t.org_),
                                                      *t.webhooks_,
                                                      *t.graph_,
                                                      shared.metrics,
                                                      options.audit,
                                                      {}});
  OrgScheduler* scheduler = &t.api_->scheduler;
  t.follower_ = std::make_unique<ChangeFollower>(*t.store_, [scheduler](const std::string& user) {
    scheduler->trigger(user, Trigger::kHostChange);
  });

  // The feed position starts at the head: webhooks report changes from now on, not history.
  // Several nodes may open the organisation at once: the first position stays.
  auto saved = t.feed_position();
  if (saved && !*saved) {
    if (auto head = t.store_->head_revision()) {
      (void)t.db_->sql().run(
          "INSERT INTO service_state(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
          {std::string(kFeedPositionKey), std::to_string(*head)});
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
  close_idle_readers();
  // One query when nothing changed: a node serving hundreds of organisations runs this for
  // each of them ten times a second.
  auto head = store_->head_revision();
  if (!head) return;  // the next turn tries again
  // Writes of other processes on this agenda (the CLI, another node) wake their pairs too.
  if (*head > follower_->position()) follower_->poll_to(*head);
  if (*head > published_) publish_feed(*head);
}

std::size_t Tenant::open_readers() {
  return (pooled_ != nullptr ? pooled_->open_readers() : 0) + db_->sql().open_readers();
}

void Tenant::close_idle_readers() {
  const auto now = std::chrono::steady_clock::now();
  if (now - readers_trimmed_ < std::chrono::seconds(1)) return;
  readers_trimmed_ = now;
  if (pooled_ != nullptr) pooled_->close_idle_readers();
  db_->sql().close_idle_readers();
}

Result<std::optional<std::int64_t>> Tenant::feed_position() {
  return db_->sql().query_int("SELECT CAST(value AS BIGINT) FROM service_state WHERE key = ?1",
                              {std::string(kFeedPositionKey)});
}

void Tenant::publish_feed(store::Revision head) {
  auto position = feed_position();
  if (!position) return;
  published_ = std::max(published_, position->value_or(0));
  store::ChangeQuery query;
  query.after = position->value_or(0);
  query.limit = 500;
  auto changes = store_->changes_since(query);
  if (!changes) return;
  if (changes->empty()) {
    // Published up to the head (by this node or another): the next idle turn reads the head
    // only.
    published_ = std::max(published_, head);
    return;
  }
  // Claim the changes before publishing them: on PostgreSQL every node serving the
  // organisation runs this loop, and only the one whose position update still finds the old
  // position publishes (a compare-and-set), so a receiver gets each event from one node.
  auto claimed =
      position->has_value()
          ? db_->sql().run("UPDATE service_state SET value = ?3 WHERE key = ?1 AND value = ?2",
                           {std::string(kFeedPositionKey), std::to_string(**position),
                            std::to_string(changes->back().revision)})
          : db_->sql().run(
                "INSERT INTO service_state(key, value) VALUES (?1, ?2) "
                "ON CONFLICT(key) DO NOTHING",
                {std::string(kFeedPositionKey), std::to_string(changes->back().revision)});
  if (!claimed || *claimed == 0) return;  // another node did: its position is read next turn
  published_ = changes->back().revision;
  for (const auto& change : *changes) {
    nlohmann::json event = {
        {"id", "rev-" + std::to_string(change.revision)},
        {"type", std::string(store::to_string(change.entity)) + "." + store::to_string(change.op)},
        {"created_at", unix_now()},
        {"data", to_json(change)}};
    webhooks_->publish(event);
  }
}

}  // namespace agendasync::service
