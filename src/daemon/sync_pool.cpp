#include "daemon/sync_pool.h"

#include <fmt/format.h>

#include "service/log.h"
#include "store/sqlite_agenda_store.h"
#include "store/sync_state/sqlite_sync_state.h"
#include "sync/summary.h"

namespace agendasync::daemon {

Result<std::unique_ptr<SyncAppPool>> SyncAppPool::open(config::Config config) {
  net::ClientOptions client;
  client.tls.ca_bundle_path = config.tls.ca_bundle.string();
  client.proxy = config.tls.proxy;
  std::shared_ptr<net::HttpClient> http(net::make_curl_client(std::move(client)));
  // Workers open the sync state file at the same time. SQLite does not wait for a lock while
  // a fresh file switches to WAL, so concurrent first opens fail with "database is locked":
  // create the file (and its schema) here, before any worker runs.
  const auto state_path = app::state_file(config);
  if (auto state = store::SqliteSyncState::open(state_path, "agendasync-serve"); !state) {
    return std::unexpected(state.error());
  }
  if (auto audit = store::SqliteAuditSink::open(state_path); !audit) {
    return std::unexpected(audit.error());
  }
  std::unique_ptr<SyncAppPool> pool(new SyncAppPool(std::move(config), std::move(http)));
  auto first = pool->open_slot();
  if (!first) return std::unexpected(first.error());
  pool->idle_.push_back(std::move(*first));
  return pool;
}

Result<std::unique_ptr<SyncAppPool::Slot>> SyncAppPool::open_slot() {
  auto slot = std::make_unique<Slot>();
  auto store = store::open_sqlite_agenda_store(config_.database);
  if (!store) return std::unexpected(store.error());
  slot->store = std::move(*store);
  app::AppOptions options;
  options.config = config_;
  options.http = http_;
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

Result<service::SyncResult> SyncAppPool::run(const std::string& user) {
  // The pool grows to the number of workers that run at once (the scheduler bounds it).
  auto slot = borrow();
  if (!slot) {
    auto opened = open_slot();
    if (!opened) return std::unexpected(opened.error());
    slot = std::move(*opened);
  }
  auto run = slot->app->sync_user(user);
  give_back(std::move(slot));
  if (!run) return std::unexpected(run.error());
  return to_sync_result(*run);
}

Result<service::SyncResult> to_sync_result(const app::UserRun& run) {
  service::SyncResult result;
  result.outcome = app::to_string(run.outcome);
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
