#include "daemon/sync_pool.h"

#include <fmt/format.h>

#include "service/log.h"
#include "store/database_locator.h"
#include "store/sqlite_agenda_store.h"
#include "store/sync_state/sqlite_sync_state.h"
#include "sync/summary.h"

namespace agendasync::daemon {

Result<std::unique_ptr<SyncAppPool>> SyncAppPool::open(config::Config config,
                                                       std::shared_ptr<net::HttpClient> http,
                                                       std::string org,
                                                       store::LeaseOptions leases) {
  if (!http) {
    net::ClientOptions client;
    client.tls.ca_bundle_path = config.tls.ca_bundle.string();
    client.proxy = config.tls.proxy;
    http = std::shared_ptr<net::HttpClient>(net::make_curl_client(std::move(client)));
  }
  if (!store::is_postgres_locator(config.database.string())) {
    // Workers open the sync state file at the same time. SQLite does not wait for a lock
    // while a fresh file switches to WAL, so concurrent first opens fail with "database is
    // locked": create the file (and its schema) here, before any worker runs.
    const auto state_path = app::state_file(config);
    if (auto state = store::SqliteSyncState::open(state_path, "agendasync-serve"); !state) {
      return std::unexpected(state.error());
    }
    if (auto audit = store::SqliteAuditSink::open(state_path); !audit) {
      return std::unexpected(audit.error());
    }
  }
  std::unique_ptr<SyncAppPool> pool(
      new SyncAppPool(std::move(config), std::move(http), std::move(org), std::move(leases)));
  auto first = pool->open_slot();
  if (!first) return std::unexpected(first.error());
  pool->idle_.push_back(std::move(*first));
  return pool;
}

Result<std::unique_ptr<SyncAppPool::Slot>> SyncAppPool::open_slot() {
  auto slot = std::make_unique<Slot>();
  auto store = store::open_agenda_store(config_.database.string(), org_);
  if (!store) return std::unexpected(store.error());
  slot->store = std::move(*store);
  app::AppOptions options;
  options.config = config_;
  options.http = http_;
  options.org = org_;
  options.leases = leases_;
  auto app = app::SyncApp::open(*slot->store, std::move(options));
  if (!app) return std::unexpected(app.error());
  slot->app = std::move(*app);
  return slot;
}

std::unique_ptr<SyncAppPool::Slot> SyncAppPool::borrow() {
  std::lock_guard lock(mutex_);
  if (idle_.empty()) return nullptr;
  auto slot = std::move(idle_.back());
  idle_.pop_back();
  return slot;
}

void SyncAppPool::give_back(std::unique_ptr<Slot> slot) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(slot));
}

namespace {

std::string folded(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const SyncAppPool::Directory>> SyncAppPool::directory(Slot& slot) {
  auto revision = slot.store->directory_revision();
  if (!revision) return std::unexpected(revision.error());
  {
    std::lock_guard lock(mutex_);
    if (directory_ && directory_->revision == *revision) return directory_;
  }
  // Read after the revision: a write committed in between raises the revision past the one
  // kept here, so the next run reads again (what is kept is never older than its number).
  auto users = slot.store->users();
  if (!users) return std::unexpected(users.error());
  auto organisation = slot.app->organisation();
  if (!organisation) return std::unexpected(organisation.error());
  auto read = std::make_shared<Directory>();
  read->revision = *revision;
  read->organisation = std::move(*organisation);
  for (auto& user : *users) read->users.emplace(folded(user.user_name), std::move(user));
  std::lock_guard lock(mutex_);
  if (!directory_ || directory_->revision <= read->revision) directory_ = read;
  return std::shared_ptr<const Directory>(std::move(read));
}

SyncAppPool::SyncAppPool(config::Config config, std::shared_ptr<net::HttpClient> http,
                         std::string org, store::LeaseOptions leases)
    : config_(std::move(config)),
      http_(std::move(http)),
      org_(std::move(org)),
      leases_(std::move(leases)),
      statuses_(
          [this](app::SyncApp::PendingStatuses& statuses) { return write_statuses(statuses); }) {}

SyncAppPool::~SyncAppPool() { (void)statuses_.flush(); }

Result<void> SyncAppPool::write_statuses(const app::SyncApp::PendingStatuses& statuses) {
  auto written = with_app([&](app::SyncApp& app) { return app.record_statuses(statuses); });
  if (!written) {
    service::log_event(
        spdlog::level::err, "status_record_failed",
        {{"org", org_}, {"statuses", statuses.size()}, {"error", written.error().message}});
  }
  return written;
}

Result<void> SyncAppPool::flush_due() { return statuses_.flush_due(); }

bool quiet_run(const app::UserRun& run) {
  if (run.outcome != app::UserRun::Outcome::kSynced || !run.report) return false;
  if (!run.report->errors.empty()) return false;
  for (auto side : sync::kBothSides) {
    const auto& counts = run.report->summary.sides[side];
    if (counts.created + counts.updated + counts.deleted + counts.failed > 0) return false;
  }
  return true;
}

Result<service::SyncResult> SyncAppPool::run(const std::string& user,
                                             const app::ProgressFn& progress) {
  statuses_.begin();
  // The pool grows to the number of workers that run at once (the scheduler bounds it).
  auto slot = borrow();
  if (!slot) {
    auto opened = open_slot();
    if (!opened) {
      (void)statuses_.end({}, false);
      return std::unexpected(opened.error());
    }
    slot = std::move(*opened);
  }
  app::SyncApp::PendingStatuses status;
  Result<app::UserRun> run = fail(ErrorKind::kPermanent, "the run did not end");
  try {
    run = [&]() -> Result<app::UserRun> {
      auto known = directory(*slot);
      if (!known) return std::unexpected(known.error());
      const auto found = (*known)->users.find(folded(user));
      // Not in the directory: sync_user reads it and says the user is unknown.
      if (found == (*known)->users.end()) return slot->app->sync_user(user, false, progress);
      return slot->app->sync_read_user(found->second, (*known)->organisation, progress, &status);
    }();
  } catch (...) {
    give_back(std::move(slot));
    (void)statuses_.end({}, false);
    throw;
  }
  give_back(std::move(slot));
  // The status is written after the slot went back: a write borrows one (this one, mostly).
  const bool quiet = run && quiet_run(*run);
  auto recorded = statuses_.end(std::move(status), quiet);
  if (!run) return std::unexpected(run.error());
  if (!recorded) return std::unexpected(recorded.error());
  return to_sync_result(*run);
}

Result<std::size_t> SyncAppPool::offboard_all() {
  auto slot = borrow();
  if (!slot) {
    auto opened = open_slot();
    if (!opened) return std::unexpected(opened.error());
    slot = std::move(*opened);
  }
  auto users = slot->store->users();
  if (!users) {
    give_back(std::move(slot));
    return std::unexpected(users.error());
  }
  std::size_t done = 0;
  for (const auto& user : *users) {
    if (!user.sync_enabled) continue;
    auto report = slot->app->offboard(user.user_name);
    if (!report) {
      give_back(std::move(slot));
      return std::unexpected(report.error());
    }
    ++done;
  }
  give_back(std::move(slot));
  return done;
}

Result<void> SyncAppPool::with_app(const std::function<Result<void>(app::SyncApp&)>& body) {
  auto slot = borrow();
  if (!slot) {
    auto opened = open_slot();
    if (!opened) return std::unexpected(opened.error());
    slot = std::move(*opened);
  }
  auto result = body(*slot->app);
  give_back(std::move(slot));
  return result;
}

Result<void> OrganisationPools::with_app(const std::string& org,
                                         const std::function<Result<void>(app::SyncApp&)>& body) {
  auto found = pool(org);
  if (!found) return std::unexpected(found.error());
  return (*found)->with_app(body);
}

Result<std::shared_ptr<SyncAppPool>> OrganisationPools::pool(const std::string& org) {
  {
    std::lock_guard lock(mutex_);
    if (auto found = pools_.find(org); found != pools_.end()) return found->second;
  }
  auto config = config_(org);
  if (!config) return std::unexpected(config.error());
  if (config->exchange.backend == config::ExchangeBackend::kNone) {
    return fail(ErrorKind::kInvalidData,
                fmt::format("organisation {} has no connection to Exchange yet: set it with PUT "
                            "/api/v1/organisations/{}/connection or `agendasync orgs set {} "
                            "--connection FILE`",
                            org, org, org));
  }
  auto opened = SyncAppPool::open(std::move(*config), http_, org, leases_);
  if (!opened) return std::unexpected(opened.error());
  std::shared_ptr<SyncAppPool> pool(std::move(*opened));
  std::lock_guard lock(mutex_);
  // Two first runs of one organisation may race here; the first pool wins.
  return pools_.try_emplace(org, std::move(pool)).first->second;
}

Result<service::SyncResult> OrganisationPools::run(const service::PairRef& pair,
                                                   const app::ProgressFn& progress) {
  auto found = pool(pair.org);
  if (!found) return std::unexpected(found.error());
  return (*found)->run(pair.user, progress);
}

void OrganisationPools::flush_due() {
  std::vector<std::shared_ptr<SyncAppPool>> open;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [org, pool] : pools_) open.push_back(pool);
  }
  // A failed write is logged by the pool; the statuses are retried by no one (the next run
  // of each pair records its own).
  for (const auto& pool : open) (void)pool->flush_due();
}

void OrganisationPools::reset(const std::string& org) {
  std::lock_guard lock(mutex_);
  pools_.erase(org);
}

void OrganisationPools::reset_all() {
  std::lock_guard lock(mutex_);
  pools_.clear();
}

Result<std::size_t> OrganisationPools::offboard(const std::string& org) {
  auto found = pool(org);
  if (!found) return std::unexpected(found.error());
  return (*found)->offboard_all();
}

Result<service::SyncResult> to_sync_result(const app::UserRun& run) {
  service::SyncResult result;
  result.outcome = app::to_string(run.outcome);
  result.backend = run.backend;
  if (run.report) {
    result.summary = run.report->summary;
    result.errors = run.report->errors;
    for (const auto& [side, repair] : run.report->text_repairs) {
      // The item id and field names only: the text is the user's and did not print anyway.
      service::log_event(spdlog::level::warn, "text_repaired",
                         {{"user", run.user},
                          {"side", sync::to_string(side)},
                          {"item", repair.ref.str()},
                          {"fields", repair.fields},
                          {"message", sync::format_text_repair(side, repair)}});
    }
  }
  switch (run.outcome) {
    case app::UserRun::Outcome::kFailed:
      return std::unexpected(run.error.value_or(Error::make(
          ErrorKind::kPermanent, fmt::format("the sync of {} failed without a reason; see the "
                                             "daemon's log",
                                             run.user))));
    case app::UserRun::Outcome::kQuarantined: {
      std::string why = run.report ? run.report->quarantine_reason
                                   : (run.error ? run.error->message : std::string());
      result.errors.push_back(fmt::format(
          "quarantined: {}; review with `agendasync plan --user {}`, then `agendasync approve "
          "--user {}`",
          why, run.user, run.user));
      break;
    }
    case app::UserRun::Outcome::kSkipped:  // blocked or not enabled: not an error (R10, R11)
    case app::UserRun::Outcome::kSynced:
    case app::UserRun::Outcome::kPartial:
    case app::UserRun::Outcome::kDryRun:
      break;
  }
  return result;
}

}  // namespace agendasync::daemon
