#include "service/server.h"

#include <csignal>
#include <iostream>
#include <thread>

#include "service/api_context.h"
#include "service/json_codec.h"
#include "service/log.h"
#include "service/pooled_agenda_store.h"
#include "service/secrets/key_ring.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::service {

struct Server::Impl {
  std::unique_ptr<HttpServer> http;
  std::thread feed;
  std::thread graph;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::unique_ptr<ApiContext> api;
};

Server::Server() : impl_(std::make_unique<Impl>()) {}

Server::~Server() { stop(); }

namespace {

void record_run(Metrics& metrics, SyncStatusStore& status, const std::string& user, Trigger trigger,
                const Result<SyncResult>& result, std::chrono::system_clock::time_point started,
                std::chrono::system_clock::time_point finished) {
  auto seconds = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  };
  if (auto recorded = status.record(user, result, seconds(started), seconds(finished)); !recorded) {
    log_event(spdlog::level::err, "status_record_failed",
              {{"user", user}, {"error", recorded.error().message}});
  }
  double ms = std::chrono::duration<double, std::milli>(finished - started).count();
  if (!result) {
    metrics.add(metric::kSyncs, {{"result", "error"}});
    metrics.add(metric::kErrors, {{"kind", to_string(result.error().kind)}});
    log_event(spdlog::level::warn, "sync_run",
              {{"user", user},
               {"trigger", to_string(trigger)},
               {"result", "error"},
               {"kind", to_string(result.error().kind)},
               {"error", result.error().message},
               {"ms", ms}});
    return;
  }
  metrics.add(metric::kSyncs, {{"result", result->outcome}});
  for (auto side : sync::kBothSides) {
    const auto& counts = result->summary.sides[side];
    for (auto [op, count] :
         {std::pair{"create", counts.created}, std::pair{"update", counts.updated},
          std::pair{"delete", counts.deleted}}) {
      if (count > 0) {
        metrics.add(metric::kItemsWritten, {{"side", sync::to_string(side)}, {"op", op}},
                    static_cast<double>(count));
      }
    }
    if (counts.failed > 0) {
      metrics.add(metric::kErrors, {{"kind", "write-failed"}}, static_cast<double>(counts.failed));
    }
  }
  if (result->throttle_wait.count() > 0) {
    metrics.add(metric::kThrottleWait, {},
                static_cast<double>(result->throttle_wait.count()) / 1000);
  }
  log_event(spdlog::level::info, "sync_run",
            {{"user", user},
             {"trigger", to_string(trigger)},
             {"result", result->outcome},
             {"summary", sync::format_summary(result->summary)},
             {"errors", result->errors.size()},
             {"ms", ms}});
}

SyncFn unwired_sync() {
  return [](const std::string&) -> Result<SyncResult> {
    return fail(ErrorKind::kUnsupported,
                "this server was started without a sync engine (library use without the app "
                "layer); run `agendasync serve`, which wires the configured Exchange backend");
  };
}

constexpr const char* kFeedPositionKey = "webhook_feed_revision";

}  // namespace

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  std::unique_ptr<Server> server(new Server());
  Server& s = *server;
  s.options_ = std::move(options);
  store::SqliteOptions store_options;
  store_options.create = s.options_.create_database;
  store_options.fsync_every_commit = s.options_.fsync_every_write;
  auto opened = store::open_sqlite_agenda_store(s.options_.database, store_options);
  if (!opened) return std::unexpected(opened.error());
  if (s.options_.database_readers == 0) {
    s.store_ = std::move(*opened);
  } else {
    auto pooled = PooledAgendaStore::open(std::move(*opened), s.options_.database,
                                          s.options_.database_readers);
    if (!pooled) return std::unexpected(pooled.error());
    s.store_ = std::move(*pooled);
  }
  auto db = ServiceDb::open(s.options_.database, s.options_.database_readers,
                            s.options_.fsync_every_write);
  if (!db) return std::unexpected(db.error());
  s.db_ = std::move(*db);
  auto ring = secrets::load_key_ring(s.options_.secret_key_file);
  if (!ring) return std::unexpected(ring.error());
  if (ring->empty()) {
    log_event(spdlog::level::warn, "no_secret_key",
              {{"detail",
                "AGENDASYNC_SECRET_KEY is not set: secrets and webhooks cannot be stored until a "
                "key is configured"}});
  }
  s.tokens_ = std::make_unique<TokenStore>(*s.db_);
  s.secrets_ = std::make_unique<SecretStore>(*s.db_, std::move(*ring));
  s.status_ = std::make_unique<SyncStatusStore>(*s.db_);
  s.graph_ = std::make_unique<GraphSubscriptions>(*s.db_, *s.secrets_);

  SchedulerOptions scheduler_options = s.options_.scheduler;
  if (!scheduler_options.all_users) {
    store::AgendaStore* agenda = s.store_.get();
    scheduler_options.all_users = [agenda] {
      std::vector<std::string> names;
      if (auto users = agenda->users()) {
        for (const auto& user : *users) {
          if (user.sync_enabled && !user.blocked) names.push_back(user.user_name);
        }
      }
      return names;
    };
  }
  Metrics* metrics = &s.metrics_;
  SyncStatusStore* status = s.status_.get();
  s.scheduler_ = std::make_unique<Scheduler>(
      s.options_.sync ? s.options_.sync : unwired_sync(), scheduler_options,
      [metrics, status](const std::string& user, Trigger trigger, const Result<SyncResult>& result,
                        auto started, auto finished) {
        record_run(*metrics, *status, user, trigger, result, started, finished);
      });

  s.http_ = s.options_.http;
  if (!s.http_) {
    net::ClientOptions client;
    client.max_attempts = 1;  // the webhook queue retries with its own back-off
    client.request_timeout = s.options_.webhooks.request_timeout;
    s.http_ = std::shared_ptr<net::HttpClient>(net::make_curl_client(client));
  }
  s.webhooks_ =
      std::make_unique<Webhooks>(*s.db_, *s.secrets_, *s.http_, s.metrics_, s.options_.webhooks);

  Scheduler* scheduler = s.scheduler_.get();
  s.impl_->api = std::unique_ptr<ApiContext>(new ApiContext{
      *s.store_, *s.tokens_, *s.secrets_, *s.status_, *s.scheduler_, *s.webhooks_, *s.graph_,
      s.metrics_, s.options_.audit, [scheduler] { return scheduler->workers_alive(); }});
  ApiContext& api = *s.impl_->api;
  add_ops_routes(s.router_, api);
  add_appointment_routes(s.router_, api);
  add_user_routes(s.router_, api);
  add_settings_routes(s.router_, api);
  add_feed_routes(s.router_, api);
  add_notification_routes(s.router_, api);

  const Router* router = &s.router_;
  TokenStore* tokens = s.tokens_.get();
  auto http = HttpServer::listen(
      s.options_.listen, s.options_.port, std::max<std::size_t>(2, s.options_.http_threads),
      s.options_.http_limits, [router, tokens, metrics](const HttpRequest& request) {
        return router->dispatch(request, *tokens, *metrics);
      });
  if (!http) return std::unexpected(http.error());
  s.impl_->http = std::move(*http);
  s.port_ = s.impl_->http->port();

  // The feed position starts at the head: webhooks report changes from now on, not history.
  auto saved = s.db_->with([](store::sqlite::Connection& c) {
    return c.query_int("SELECT CAST(value AS INTEGER) FROM service_state WHERE key = ?1",
                       {std::string(kFeedPositionKey)});
  });
  if (saved && !*saved) {
    auto head = s.store_->head_revision();
    if (head) {
      (void)s.db_->with([&](store::sqlite::Connection& c) {
        return c.run("INSERT OR REPLACE INTO service_state(key, value) VALUES (?1, ?2)",
                     {std::string(kFeedPositionKey), std::to_string(*head)});
      });
    }
  }

  s.scheduler_->start();
  // Writes of other processes on this agenda (the CLI, another node) wake their pairs too.
  s.follower_ = std::make_unique<ChangeFollower>(*s.store_, *s.scheduler_, s.options_.feed_poll);
  s.follower_->start();
  s.webhooks_->start();
  s.impl_->feed = std::thread([&s] { s.feed_loop(); });
  if (s.options_.graph_renew) s.impl_->graph = std::thread([&s] { s.graph_renew_loop(); });
  s.impl_->http->serve();
  log_event(
      spdlog::level::info, "server_started",
      {{"listen", s.options_.listen},
       {"port", s.port_},
       {"database", s.store_->describe()},
       // Operators check here whether API writes survive a power loss (DECISIONS.md).
       {"api_commits", s.options_.fsync_every_write ? "synchronous=FULL" : "synchronous=NORMAL"},
       {"routes", s.router_.routes().size()}});
  return server;
}

void Server::feed_loop() {
  std::unique_lock lock(impl_->mutex);
  while (!impl_->stopping) {
    lock.unlock();
    auto position = db_->with([](store::sqlite::Connection& c) {
      return c.query_int("SELECT CAST(value AS INTEGER) FROM service_state WHERE key = ?1",
                         {std::string(kFeedPositionKey)});
    });
    if (position) {
      store::ChangeQuery query;
      query.after = position->value_or(0);
      query.limit = 500;
      auto changes = store_->changes_since(query);
      if (changes && !changes->empty()) {
        for (const auto& change : *changes) {
          nlohmann::json event = {{"id", "rev-" + std::to_string(change.revision)},
                                  {"type", std::string(store::to_string(change.entity)) + "." +
                                               store::to_string(change.op)},
                                  {"created_at", unix_now()},
                                  {"data", to_json(change)}};
          webhooks_->publish(event);
        }
        (void)db_->with([&](store::sqlite::Connection& c) {
          return c.run("INSERT OR REPLACE INTO service_state(key, value) VALUES (?1, ?2)",
                       {std::string(kFeedPositionKey), std::to_string(changes->back().revision)});
        });
      }
    }
    lock.lock();
    impl_->wake.wait_for(lock, options_.feed_poll, [this] { return impl_->stopping; });
  }
}

void Server::graph_renew_loop() {
  std::unique_lock lock(impl_->mutex);
  while (!impl_->stopping) {
    lock.unlock();
    graph_->renew_due(options_.graph_renew, options_.graph_renew_margin.count());
    lock.lock();
    impl_->wake.wait_for(lock, options_.graph_renew_interval, [this] { return impl_->stopping; });
  }
}

void Server::stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->stopping = true;
    impl_->wake.notify_all();
  }
  // Order: no new requests, then no new syncs (running ones finish: the engine commits its
  // journal and cursors per batch), then the background loops.
  if (impl_->http) impl_->http->stop();
  if (follower_) follower_->stop();
  if (scheduler_) scheduler_->stop();
  if (impl_->feed.joinable()) impl_->feed.join();
  if (impl_->graph.joinable()) impl_->graph.join();
  if (webhooks_) webhooks_->stop();
  log_event(spdlog::level::info, "server_stopped", {{"port", port_}});
}

int run_server(const config::Config& config, ServerOptions options) {
  if (options.database.empty()) options.database = config.database;
  // Block the stop signals in every thread (the mask is inherited), then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto start_companions = std::move(options.start_companions);
  auto server = Server::start(std::move(options));
  if (!server) {
    std::cerr << "agendasync: error: " << server.error().message << "\n";
    return 1;
  }
  std::function<void()> stop_companions;
  if (start_companions) {
    auto started = start_companions(**server);
    if (!started) {
      std::cerr << "agendasync: error: " << started.error().message << "\n";
      (*server)->stop();
      return 1;
    }
    stop_companions = std::move(*started);
  }
  std::cout << "listening on http://" << (*server)->listen_address() << ":" << (*server)->port()
            << std::endl;
  std::cerr << "agendasync: SIGTERM or Ctrl-C stops gracefully (running syncs finish)\n";
  int received = 0;
  sigwait(&signals, &received);
  log_event(spdlog::level::info, "shutdown_requested", {{"signal", received}});
  // Watchers first, so nothing new is queued while the scheduler drains.
  if (stop_companions) stop_companions();
  (*server)->stop();
  return 0;
}

}  // namespace agendasync::service
