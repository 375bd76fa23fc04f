#include "service/server.h"

#include <csignal>
#include <ctime>
#include <iostream>
#include <thread>

#include <cctype>
#include <map>
#include <set>
#include <shared_mutex>

#include "core/fencing.h"
#include "platform/platform.h"
#include "service/api_context.h"
#include "service/json_codec.h"
#include "service/log.h"
#include "service/pooled_agenda_store.h"
#include "service/secrets/key_ring.h"
#include "service/status_batch.h"
#include "service/sync_progress.h"
#include "service/systemd_notify.h"
#include "service/tenant.h"
#include "store/database_locator.h"
#include "store/migrate_database.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::service {

namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/// Counts and logs a finished run; false when its status is not the pair's to record.
bool record_run(Metrics& metrics, const std::string& org, const std::string& user, Trigger trigger,
                const Result<SyncResult>& result, std::chrono::system_clock::time_point started,
                std::chrono::system_clock::time_point finished) {
  double ms = std::chrono::duration<double, std::milli>(finished - started).count();
  if (!result && is_lease_lost(result.error())) {
    // Fencing (issue 17): this run stalled past its pair's lease and its batch was refused.
    // Not the pair's failure — the node holding the lease now syncs it and records its
    // status — so it is counted and logged on its own, and the status is left alone.
    metrics.add(metric::kSyncFenced, {{"org", org}});
    log_event(spdlog::level::warn, "sync_fenced",
              {{"org", org},
               {"user", user},
               {"trigger", to_string(trigger)},
               {"error", result.error().message},
               {"ms", ms}});
    return false;
  }
  if (!result) {
    metrics.add(metric::kSyncs, {{"org", org}, {"result", "error"}});
    metrics.add(metric::kErrors, {{"org", org}, {"kind", to_string(result.error().kind)}});
    log_event(spdlog::level::warn, "sync_run",
              {{"org", org},
               {"user", user},
               {"trigger", to_string(trigger)},
               {"result", "error"},
               {"kind", to_string(result.error().kind)},
               {"error", result.error().message},
               {"ms", ms}});
    return true;
  }
  metrics.add(metric::kSyncs, {{"org", org}, {"result", result->outcome}});
  for (auto side : sync::kBothSides) {
    const auto& counts = result->summary.sides[side];
    for (auto [op, count] :
         {std::pair{"create", counts.created}, std::pair{"update", counts.updated},
          std::pair{"delete", counts.deleted}}) {
      if (count > 0) {
        metrics.add(metric::kItemsWritten,
                    {{"org", org}, {"side", sync::to_string(side)}, {"op", op}},
                    static_cast<double>(count));
      }
    }
    if (counts.failed > 0) {
      metrics.add(metric::kErrors, {{"org", org}, {"kind", "write-failed"}},
                  static_cast<double>(counts.failed));
    }
  }
  if (result->throttle_wait.count() > 0) {
    metrics.add(metric::kThrottleWait, {{"org", org}},
                static_cast<double>(result->throttle_wait.count()) / 1000);
  }
  log_event(spdlog::level::info, "sync_run",
            {{"org", org},
             {"user", user},
             {"trigger", to_string(trigger)},
             {"result", result->outcome},
             {"summary", sync::format_summary(result->summary)},
             {"errors", result->errors.size()},
             {"ms", ms}});
  return true;
}

PairSyncFn unwired_sync() {
  return [](const PairRef&) -> Result<SyncResult> {
    return fail(ErrorKind::kUnsupported,
                "this server was started without a sync engine (library use without the app "
                "layer); run `agendasync serve`, which wires the configured Exchange backend");
  };
}

/// The OpenAPI file with each scoped route's organisation form added: the same operation, one
/// more path parameter.
std::string served_openapi(const Router& router) {
  auto document = nlohmann::json::parse(openapi_document(), nullptr, false);
  if (document.is_discarded()) return std::string(openapi_document());
  auto& paths = document["paths"];
  const nlohmann::json org_parameter = {
      {"name", "org"},
      {"in", "path"},
      {"required", true},
      {"description", "The organisation's id (GET /api/v1/organisations lists them)."},
      {"schema", {{"type", "string"}}}};
  for (const auto& route : router.routes()) {
    if (!route.scoped || route.alias) continue;
    const std::string alias = "/api/v1" + route.path.substr(kOrganisationPrefix.size());
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!paths.contains(alias) || !paths[alias].contains(method)) continue;
    auto operation = paths[alias][method];
    auto& parameters = operation["parameters"];
    if (!parameters.is_array()) parameters = nlohmann::json::array();
    parameters.insert(parameters.begin(), org_parameter);
    if (operation.contains("operationId")) {
      operation["operationId"] = operation["operationId"].get<std::string>() + "InOrganisation";
    }
    paths[route.path][method] = std::move(operation);
  }
  return document.dump(2);
}

}  // namespace

struct Server::StatusRun {
  std::string org;
  SyncStatusStore::Run run;
};

struct Server::Impl {
  std::unique_ptr<HttpServer> http;
  std::thread feed;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::unique_ptr<PlatformContext> platform;
  secrets::KeyRing ring;
  std::shared_mutex tenants_mutex;
  std::map<std::string, std::shared_ptr<Tenant>, std::less<>> tenants;
  /// Organisations whose pairs may run now (active ones).
  std::set<std::string, std::less<>> active;
  /// Serialises refresh/close of organisations (companions start and stop in order).
  std::mutex companions_mutex;
  std::map<std::string, std::function<void()>> companions;
  std::atomic<bool> listening{false};
  /// steady_clock nanoseconds at the end of the feed loop's last round.
  std::atomic<std::int64_t> feed_heartbeat{0};
  /// Other processes add, suspend and remove organisations and change their connections too
  /// (other nodes on PostgreSQL, the CLI beside the daemon on either engine): the feed loop
  /// reads the platform's list every ServerOptions::platform_follow and follows it.
  bool follow_platform = true;
  /// The connection revision each served organisation was started with (tenants_mutex).
  std::map<std::string, std::int64_t, std::less<>> served_revision;
  /// Organisations being deleted: not served again until released or gone (companions_mutex).
  std::set<std::string, std::less<>> withheld;
  std::chrono::steady_clock::time_point platform_read{};
  /// Every run's status (the API's status, /metrics' lag): the safety net's quiet runs are
  /// written together (issue 14 §4, status_batch.h).
  std::unique_ptr<StatusBatch<StatusRun>> statuses;
};

Server::Server() : impl_(std::make_unique<Impl>()) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  std::unique_ptr<Server> server(new Server());
  Server& s = *server;
  s.options_ = std::move(options);
  config::Config node = s.options_.node.value_or(config::Config{});
  if (!s.options_.database.empty()) node.database = s.options_.database;
  s.options_.database = node.database;
  const bool postgres = store::is_postgres_locator(node.database.string());
  if (postgres) {
    // Nodes never migrate a shared database as they start (issue 17 §2); tests ask for it.
    if (s.options_.create_database) {
      if (auto migrated = store::migrate_platform(node.database.string()); !migrated) {
        return std::unexpected(migrated.error());
      }
    }
  } else {
    // Creates (and migrates) organisation default's agenda, which holds the platform tables.
    store::SqliteOptions store_options;
    store_options.create = s.options_.create_database;
    auto created = store::open_sqlite_agenda_store(node.database, store_options);
    if (!created) return std::unexpected(created.error());
  }
  // Every request's token is checked here: as many readers as an organisation's tables get.
  // On PostgreSQL the tokens and sessions are the platform schema's, which every node shares.
  auto node_db = ServiceDb::open_node(node.database.string(), s.options_.database_readers,
                                      s.options_.fsync_every_write);
  if (!node_db) return std::unexpected(node_db.error());
  s.node_db_ = std::move(*node_db);
  auto ring = secrets::load_key_ring(s.options_.secret_key_file);
  if (!ring) return std::unexpected(ring.error());
  if (ring->empty()) {
    log_event(spdlog::level::warn, "no_secret_key",
              {{"detail",
                "AGENDASYNC_SECRET_KEY is not set: secrets, connections and webhooks cannot be "
                "stored until a key is configured"}});
  }
  s.impl_->ring = *ring;
  auto platform = platform::Platform::open(node, std::move(*ring));
  if (!platform) return std::unexpected(platform.error());
  s.platform_ = std::move(*platform);
  if (postgres && s.options_.create_database) {
    if (auto made = s.platform_->ensure_default(); !made) return std::unexpected(made.error());
  }
  s.operator_tokens_ = std::make_unique<TokenStore>(*s.node_db_, kPlatformScope);
  s.sessions_ = std::make_unique<SessionStore>(*s.node_db_, s.options_.sessions);

  SchedulerOptions scheduler_options = s.options_.scheduler;
  if (!scheduler_options.progress) scheduler_options.progress = std::make_shared<ProgressBoard>();
  if (!scheduler_options.all_pairs && !scheduler_options.all_users) {
    scheduler_options.all_pairs = [&s] { return s.due_pairs(); };
  }
  Metrics* metrics = &s.metrics_;
  if (!s.options_.sync) s.options_.sync = unwired_sync();
  s.impl_->statuses = std::make_unique<StatusBatch<StatusRun>>(
      [&s](std::vector<StatusRun>& runs) { return s.write_statuses(runs); });
  s.scheduler_ = std::make_unique<Scheduler>(
      PairSyncFn([&s](const PairRef& pair) { return s.run_pair(pair); }), scheduler_options,
      PairRunObserver([&s, metrics](const PairRef& pair, Trigger trigger,
                                    const Result<SyncResult>& result, auto started, auto finished) {
        std::vector<StatusRun> runs;
        if (s.tenant(pair.org) &&
            record_run(*metrics, pair.org, pair.user, trigger, result, started, finished)) {
          runs.push_back(
              {pair.org, {pair.user, result, unix_seconds(started), unix_seconds(finished)}});
        }
        // A safety-net run that changed nothing may wait; a run someone may be waiting to
        // see (sync-now, a change, a notification) is written at once.
        const bool quiet = trigger == Trigger::kSafetyNet && result && quiet_result(*result);
        (void)s.impl_->statuses->end(std::move(runs), quiet);
      }));

  s.http_ = s.options_.http;
  if (!s.http_) {
    net::ClientOptions client;
    client.max_attempts = 1;  // the webhook queue retries with its own back-off
    client.request_timeout = s.options_.webhooks.request_timeout;
    s.http_ = std::shared_ptr<net::HttpClient>(net::make_curl_client(client));
  }

  auto organisations = s.platform_->organisations();
  if (!organisations) return std::unexpected(organisations.error());
  for (const auto& organisation : *organisations) {
    if (auto opened = s.refresh_organisation(organisation.id); !opened) {
      if (organisation.id == platform::kDefaultOrg) return std::unexpected(opened.error());
      // One organisation's broken database must not keep the others from being served.
      log_event(spdlog::level::err, "organisation_not_served",
                {{"org", organisation.id}, {"error", opened.error().message}});
    }
  }

  s.impl_->platform = std::unique_ptr<PlatformContext>(new PlatformContext{
      *s.platform_, s.metrics_, [&s](const std::string& org) { return s.serve_organisation(org); },
      [&s](const std::string& org) { s.withhold_organisation(org); },
      [&s](const std::string& org) { return s.release_organisation(org); },
      [&s](const std::string& org) { return TokenStore(*s.node_db_, org).revoke_all(); },
      [&s](const std::string& org) -> Result<std::size_t> {
        if (!s.options_.offboard) {
          return fail(ErrorKind::kUnsupported,
                      "offboarding needs the sync engine (agendasync serve)");
        }
        return s.options_.offboard(org);
      },
      [&s]() -> Result<void> {
        auto listed = s.platform_->organisations();
        if (!listed) return std::unexpected(listed.error());
        return {};
      },
      [&s] { return s.scheduler_->workers_alive(); }, [&s] { s.refresh_gauges(); },
      [&s] {
        std::shared_lock lock(s.impl_->tenants_mutex);
        return s.impl_->tenants.size();
      },
      std::string(), node.server.public_url, s.options_.operations, s.options_.nodes});
  PlatformContext& platform_context = *s.impl_->platform;
  s.router_.set_resolver([&s](
                             const Call& call) -> std::variant<std::shared_ptr<ApiContext>, Reply> {
    auto tenant = s.tenant(call.org);
    if (!tenant) {
      return problem(404, "not-found", "Not found",
                     "no organisation \"" + call.org + "\" is visible to this token", call.path);
    }
    if (call.principal && !call.principal->is_operator()) {
      std::shared_lock lock(s.impl_->tenants_mutex);
      if (!s.impl_->active.contains(call.org)) {
        return problem(403, "organisation-suspended", "Organisation suspended",
                       "organisation " + call.org +
                           " is suspended: its syncs are stopped and its tokens refused "
                           "until the platform operator resumes it",
                       call.path);
      }
    }
    return std::shared_ptr<ApiContext>(tenant, &tenant->api());
  });
  add_ops_routes(s.router_, platform_context);
  add_organisation_routes(s.router_, platform_context);
  add_node_routes(s.router_, platform_context);
  add_token_routes(s.router_);
  add_appointment_routes(s.router_);
  add_user_routes(s.router_);
  add_settings_routes(s.router_, platform_context);
  add_user_direction_routes(s.router_, platform_context);
  add_feed_routes(s.router_);
  add_notification_routes(s.router_);
  add_operation_routes(s.router_, platform_context);
  add_console_routes(s.router_, platform_context, *s.sessions_, *s.operator_tokens_);
  s.router_.set_sessions(s.sessions_.get());
  platform_context.openapi = served_openapi(s.router_);

  const Router* router = &s.router_;
  TokenStore* tokens = s.operator_tokens_.get();
  auto http = HttpServer::listen(
      s.options_.listen, s.options_.port, std::max<std::size_t>(2, s.options_.http_threads),
      s.options_.http_limits, [router, tokens, metrics](const HttpRequest& request) {
        return router->dispatch(request, *tokens, *metrics);
      });
  if (!http) return std::unexpected(http.error());
  s.impl_->http = std::move(*http);
  s.port_ = s.impl_->http->port();

  s.scheduler_->start();
  s.impl_->feed = std::thread([&s] { s.feed_loop(); });
  s.impl_->http->serve();
  s.impl_->listening = true;
  for (const auto& organisation : *organisations) (void)s.refresh_organisation(organisation.id);
  log_event(
      spdlog::level::info, "server_started",
      {{"listen", s.options_.listen},
       {"port", s.port_},
       // The file, or the server and schema: a PostgreSQL URI may carry a password.
       {"database", s.node_db_->sql().where()},
       {"organisations", organisations->size()},
       // Operators check here whether API writes survive a power loss (DECISIONS.md).
       {"api_commits", s.options_.fsync_every_write ? "synchronous=FULL" : "synchronous=NORMAL"},
       {"routes", s.router_.routes().size()}});
  return server;
}

std::shared_ptr<Tenant> Server::tenant(std::string_view org) {
  std::shared_lock lock(impl_->tenants_mutex);
  auto found = impl_->tenants.find(org);
  return found == impl_->tenants.end() ? nullptr : found->second;
}

std::vector<std::shared_ptr<Tenant>> Server::tenants() {
  std::shared_lock lock(impl_->tenants_mutex);
  std::vector<std::shared_ptr<Tenant>> list;
  for (const auto& [org, tenant] : impl_->tenants) list.push_back(tenant);
  return list;
}

Tenant& Server::default_tenant() { return *tenant(platform::kDefaultOrg); }
store::AgendaStore& Server::store() { return default_tenant().store(); }
TokenStore& Server::tokens() { return default_tenant().tokens(); }
SecretStore& Server::secrets() { return default_tenant().secrets(); }
Webhooks& Server::webhooks() { return default_tenant().webhooks(); }
GraphSubscriptions& Server::graph() { return default_tenant().graph(); }

Result<void> Server::refresh_organisation(const std::string& org) {
  std::lock_guard serial(impl_->companions_mutex);
  auto found = platform_->organisation(org);
  if (!found) return std::unexpected(found.error());
  impl_->withheld.erase(org);
  return refresh_locked(*found);
}

Result<void> Server::serve_organisation(const std::string& org) {
  std::lock_guard serial(impl_->companions_mutex);
  // Read under the lock: a listing taken before another caller's refresh is stale by now.
  auto found = platform_->organisation(org);
  if (!found) {
    if (found.error().kind != ErrorKind::kNotFound) return std::unexpected(found.error());
    close_locked(org);
    impl_->withheld.erase(org);
    return {};
  }
  if (impl_->withheld.contains(org) || served_as_stored(*found)) return {};
  return refresh_locked(*found);
}

bool Server::served_as_stored(const platform::Organisation& organisation) {
  std::shared_lock lock(impl_->tenants_mutex);
  const auto revision = impl_->served_revision.find(organisation.id);
  return impl_->tenants.contains(organisation.id) &&
         impl_->active.contains(organisation.id) ==
             (organisation.state == platform::OrgState::kActive) &&
         revision != impl_->served_revision.end() &&
         revision->second == organisation.connection_revision;
}

Result<void> Server::refresh_locked(const platform::Organisation& organisation) {
  const std::string& org = organisation.id;
  auto tenant = this->tenant(org);
  if (!tenant) {
    TenantOptions options;
    options.database_readers = options_.database_readers;
    options.reader_idle_limit = options_.reader_idle_limit;
    options.fsync_every_write = options_.fsync_every_write;
    options.webhooks = options_.webhooks;
    if (options_.audit) options.audit = options_.audit(organisation.database, org);
    auto opened = Tenant::open(org, organisation.database, options,
                               TenantShared{*scheduler_, metrics_, *http_, *node_db_, impl_->ring});
    if (!opened) return std::unexpected(opened.error());
    tenant = std::shared_ptr<Tenant>(std::move(*opened));
    platform::Platform* platform = platform_.get();
    tenant->api().reseal_connection = [platform, org] { return platform->reseal_connection(org); };
    tenant->start();
    std::unique_lock lock(impl_->tenants_mutex);
    impl_->tenants[org] = tenant;
  }
  // Whatever ran for the organisation stops first: a new connection or state starts over.
  if (auto running = impl_->companions.find(org); running != impl_->companions.end()) {
    auto stop = std::move(running->second);
    impl_->companions.erase(running);
    if (stop) stop();
  }
  const bool active = organisation.state == platform::OrgState::kActive;
  {
    std::unique_lock lock(impl_->tenants_mutex);
    impl_->served_revision[org] = organisation.connection_revision;
    if (active) {
      impl_->active.insert(org);
    } else {
      impl_->active.erase(org);
    }
  }
  // A suspended organisation's queued runs go now (its runs in flight finish).
  if (!active) scheduler_->forget_org(org);
  // Watchers start once the server listens (Graph validates the notification URL first).
  if (!active || !impl_->listening) return {};
  if (options_.start_organisation) {
    auto config = platform_->organisation_config(org);
    if (!config) {
      // A connection that cannot be read (a key missing from the ring) stops this
      // organisation only; its status says why at the next run.
      log_event(spdlog::level::err, "organisation_not_started",
                {{"org", org}, {"error", config.error().message}});
      return {};
    }
    auto started = options_.start_organisation(*this, org, *config);
    if (!started) {
      log_event(spdlog::level::err, "organisation_not_started",
                {{"org", org}, {"error", started.error().message}});
      return {};
    }
    impl_->companions[org] = std::move(*started);
  }
  // Catch up once: whatever changed while the organisation was not served.
  if (auto users = tenant->store().users()) {
    for (const auto& user : *users) {
      if (user.sync_enabled && !user.blocked) {
        scheduler_->trigger(PairRef{org, user.user_name}, Trigger::kSafetyNet);
      }
    }
  }
  return {};
}

void Server::close_organisation(const std::string& org) {
  std::lock_guard serial(impl_->companions_mutex);
  close_locked(org);
}

void Server::withhold_organisation(const std::string& org) {
  std::lock_guard serial(impl_->companions_mutex);
  impl_->withheld.insert(org);
  close_locked(org);
}

Result<void> Server::release_organisation(const std::string& org) {
  {
    std::lock_guard serial(impl_->companions_mutex);
    impl_->withheld.erase(org);
  }
  return serve_organisation(org);
}

void Server::close_locked(const std::string& org) {
  if (auto running = impl_->companions.find(org); running != impl_->companions.end()) {
    auto stop = std::move(running->second);
    impl_->companions.erase(running);
    if (stop) stop();
  }
  std::shared_ptr<Tenant> closing;
  {
    std::unique_lock lock(impl_->tenants_mutex);
    impl_->active.erase(org);
    impl_->served_revision.erase(org);
    if (auto found = impl_->tenants.find(org); found != impl_->tenants.end()) {
      closing = std::move(found->second);
      impl_->tenants.erase(found);
    }
  }
  scheduler_->forget_org(org);
  if (closing) closing->stop();
  // The tenant closes its databases when the last call in flight lets go of it.
}

Result<void> Server::write_statuses(std::vector<StatusRun>& runs) {
  Result<void> outcome;
  // In order, an organisation's consecutive runs in one transaction.
  for (std::size_t first = 0; first < runs.size();) {
    std::size_t last = first;
    std::vector<SyncStatusStore::Run> same;
    while (last < runs.size() && runs[last].org == runs[first].org) {
      same.push_back(std::move(runs[last].run));
      ++last;
    }
    if (auto tenant = this->tenant(runs[first].org)) {  // gone: its status went with it
      if (auto written = tenant->status().record_all(same); !written) {
        log_event(
            spdlog::level::err, "status_record_failed",
            {{"org", runs[first].org}, {"runs", same.size()}, {"error", written.error().message}});
        outcome = std::unexpected(written.error());
      }
    }
    first = last;
  }
  return outcome;
}

Result<SyncResult> Server::run_pair(const PairRef& pair) {
  // Ended by the scheduler's observer, which every run reaches.
  impl_->statuses->begin();
  {
    std::shared_lock lock(impl_->tenants_mutex);
    if (!impl_->active.contains(pair.org)) {
      // Suspended or removed after the run was queued: nothing runs for it.
      SyncResult skipped;
      skipped.outcome = "skipped";
      return skipped;
    }
  }
  return options_.sync(pair);
}

std::vector<PairRef> Server::due_pairs() {
  std::vector<PairRef> keys;
  for (const auto& tenant : tenants()) {
    {
      std::shared_lock lock(impl_->tenants_mutex);
      if (!impl_->active.contains(tenant->org())) continue;
    }
    if (auto users = tenant->store().users()) {
      for (const auto& user : *users) {
        if (user.sync_enabled && !user.blocked) {
          keys.push_back(PairRef{tenant->org(), user.user_name});
        }
      }
    }
  }
  return keys;
}

void Server::refresh_gauges() {
  metrics_.set(metric::kQueueDepth, {}, static_cast<double>(scheduler_->queue_depth()));
  metrics_.set(metric::kRunning, {}, static_cast<double>(scheduler_->running()));
  // Every open organisation gets a value: one with nothing queued is absent from the
  // scheduler's map, and its gauge must fall to 0 rather than keep its last value.
  const auto load = scheduler_->load_by_org();
  for (const auto& tenant : tenants()) {
    auto found = load.find(tenant->org());
    const OrgLoad now = found == load.end() ? OrgLoad{} : found->second;
    metrics_.set(metric::kOrgQueueDepth, {{"org", tenant->org()}}, static_cast<double>(now.queued));
    metrics_.set(metric::kOrgRunning, {{"org", tenant->org()}}, static_cast<double>(now.running));
  }
  auto now = unix_now();
  for (const auto& tenant : tenants()) {
    auto users = tenant->store().users();
    if (!users) continue;
    // One query per organisation, not one per user: every scrape runs this.
    auto last = tenant->status().last_successes();
    if (!last) continue;
    for (const auto& user : *users) {
      if (!user.sync_enabled || user.blocked) continue;
      std::string key = user.user_name;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto found = last->find(key); found != last->end()) {
        metrics_.set(metric::kSyncLag, {{"org", tenant->org()}, {"user", user.user_name}},
                     static_cast<double>(now - found->second));
      }
    }
  }
}

void Server::feed_loop() {
  std::unique_lock lock(impl_->mutex);
  while (!impl_->stopping) {
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    if (impl_->follow_platform && impl_->listening &&
        now - impl_->platform_read >= options_.platform_follow) {
      impl_->platform_read = now;
      follow_platform();
    }
    for (const auto& tenant : tenants()) tenant->poll_feed();
    (void)impl_->statuses->flush_due();
    if (options_.on_feed_poll) options_.on_feed_poll();
    impl_->feed_heartbeat = std::chrono::steady_clock::now().time_since_epoch().count();
    lock.lock();
    impl_->wake.wait_for(lock, options_.feed_poll, [this] { return impl_->stopping; });
  }
}

void Server::follow_platform() {
  auto listed = platform_->organisations();
  if (!listed) return;
  std::set<std::string, std::less<>> seen;
  // The listing is only a hint (cheap to compare): serve_organisation reads each
  // organisation again under the lock the API's changes take, so a change the API has just
  // served is not served twice, and an organisation created since is not closed.
  for (const auto& organisation : *listed) {
    seen.insert(organisation.id);
    if (served_as_stored(organisation)) continue;
    if (auto served = serve_organisation(organisation.id); !served) {
      log_event(spdlog::level::err, "organisation_not_served",
                {{"org", organisation.id}, {"error", served.error().message}});
    }
  }
  for (const auto& tenant : tenants()) {
    if (seen.contains(tenant->org())) continue;
    if (auto served = serve_organisation(tenant->org()); !served) {
      log_event(spdlog::level::err, "organisation_not_served",
                {{"org", tenant->org()}, {"error", served.error().message}});
    }
  }
}

std::chrono::steady_clock::time_point Server::feed_heartbeat() const {
  return std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(impl_->feed_heartbeat.load()));
}

void Server::stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->stopping = true;
    impl_->wake.notify_all();
  }
  // Order: no new requests, then no watchers, then no new syncs (running ones finish: the
  // engine commits its journal and cursors per batch), then the background loops.
  if (impl_->http) impl_->http->stop();
  {
    std::lock_guard serial(impl_->companions_mutex);
    for (auto& [org, stop] : impl_->companions) {
      if (stop) stop();
    }
    impl_->companions.clear();
  }
  if (scheduler_) scheduler_->stop();
  if (impl_->feed.joinable()) impl_->feed.join();
  if (impl_->statuses) (void)impl_->statuses->flush();
  for (const auto& tenant : tenants()) tenant->stop();
  log_event(spdlog::level::info, "server_stopped", {{"port", port_}});
}

namespace {

/// Waits for SIGTERM or SIGINT. Meanwhile: SIGHUP runs `reload`; with systemd's watchdog on,
/// WATCHDOG=1 every half period while the feed loop (which reads every organisation's
/// database every feed_poll) has finished a round within the period. A hung database or a
/// dead loop stops the pings and systemd restarts the service.
int wait_for_stop(const sigset_t& signals, Server& server, const std::function<void()>& reload) {
  const auto period = systemd::watchdog_period();
  while (true) {
    int received = 0;
    if (period) {
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*period);
      timespec wait{static_cast<time_t>(seconds.count()),
                    static_cast<long>(std::chrono::nanoseconds(*period - seconds).count())};
      received = sigtimedwait(&signals, nullptr, &wait);
      if (received < 0) {
        if (std::chrono::steady_clock::now() - server.feed_heartbeat() < 2 * *period) {
          systemd::notify_watchdog();
        } else {
          log_event(spdlog::level::err, "watchdog_withheld",
                    {{"detail", "the change-feed loop has not finished a round in time"}});
        }
        continue;
      }
    } else if (sigwait(&signals, &received) != 0) {
      continue;
    }
    if (received != SIGHUP) return received;
    systemd::notify_reloading();
    if (reload) {
      reload();
    } else {
      log_event(spdlog::level::warn, "reload_unsupported",
                {{"detail", "nothing reloads on SIGHUP here; restart to apply changes"}});
    }
    systemd::notify_ready("reloaded");
  }
}

}  // namespace

int run_server(const config::Config& config, ServerOptions options) {
  if (options.database.empty()) options.database = config.database;
  if (!options.node) options.node = config;
  // Block the stop and reload signals in every thread (the mask is inherited), then wait for
  // them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto start_companions = std::move(options.start_companions);
  auto reload = std::move(options.reload);
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
  const std::string address =
      "http://" + (*server)->listen_address() + ":" + std::to_string((*server)->port());
  std::cout << "listening on " << address << std::endl;
  // READY only now: the listener accepts and the watchers run (systemctl start returns here,
  // so what follows it can use the API).
  systemd::notify_ready("listening on " + address);
  std::cerr << "agendasync: SIGTERM or Ctrl-C stops gracefully (running syncs finish)\n";
  int received = wait_for_stop(signals, **server, reload);
  systemd::notify_stopping();
  log_event(spdlog::level::info, "shutdown_requested", {{"signal", received}});
  // Watchers first, so nothing new is queued while the scheduler drains.
  if (stop_companions) stop_companions();
  (*server)->stop();
  return 0;
}

}  // namespace agendasync::service
