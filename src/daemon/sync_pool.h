#pragma once
/// The daemon's SyncFn: runs the app layer's sync for one user on a scheduler worker. Each
/// worker borrows its own agenda connection and SyncApp from a pool (an SQLite connection
/// must not be shared by threads running at once); every borrower shares one HTTP client, so
/// the per-server connection caps hold across workers.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/app.h"
#include "config/config.h"
#include "service/scheduler.h"
#include "service/status_batch.h"

namespace agendasync::daemon {

class SyncAppPool {
 public:
  /// Opens the first slot at once, so a wrong database or an unreadable service-account
  /// secret fails `serve` at start-up rather than at the first run. `http` null: a client
  /// of its own from the configuration's [tls].
  /// `org` and `leases` matter on PostgreSQL (`config.database` names a server): the
  /// organisation's schema, and the node name and lease time its runs hold pairs under.
  static Result<std::unique_ptr<SyncAppPool>> open(config::Config config,
                                                   std::shared_ptr<net::HttpClient> http = {},
                                                   std::string org = "default",
                                                   store::LeaseOptions leases = {});

  /// One cycle of `user`'s pair, as the scheduler's SyncFn. A failed run is an Error; a
  /// quarantined pair says how to approve it.
  Result<service::SyncResult> run(const std::string& user, const app::ProgressFn& progress = {});
  /// Writes the idle runs' statuses that waited a second or more (service::StatusBatch);
  /// the daemon calls it from the server's feed loop.
  Result<void> flush_due();
  /// Writes what waits.
  ~SyncAppPool();
  /// R40 for every user: removes what the sync created in each mailbox; how many users.
  Result<std::size_t> offboard_all();
  /// Runs `body` on a borrowed app (its own agenda connection): the console's one-off calls
  /// (connectivity test, dry run, approve, offboard one user).
  Result<void> with_app(const std::function<Result<void>(app::SyncApp&)>& body);

 private:
  struct Slot {
    std::unique_ptr<store::AgendaStore> store;
    std::unique_ptr<app::SyncApp> app;
  };
  SyncAppPool(config::Config config, std::shared_ptr<net::HttpClient> http, std::string org,
              store::LeaseOptions leases);
  Result<void> write_statuses(const app::SyncApp::PendingStatuses& statuses);
  Result<std::unique_ptr<Slot>> open_slot();
  std::unique_ptr<Slot> borrow();
  void give_back(std::unique_ptr<Slot> slot);

  /// The organisation's users, settings and activity types as of one directory revision
  /// (store::AgendaStore::directory_revision), kept across runs: a run reads the revision
  /// (one statement) and reads them again only when it moved, where sync_user read the user,
  /// the settings and the types for every run (issue 14 §4, the safety net's idle cycle).
  struct Directory {
    std::int64_t revision = 0;
    /// By user name folded to ASCII lower case: names compare like SQLite's NOCASE.
    std::unordered_map<std::string, User> users;
    app::SyncApp::Organisation organisation;
  };
  Result<std::shared_ptr<const Directory>> directory(Slot& slot);

  config::Config config_;
  std::shared_ptr<net::HttpClient> http_;
  std::string org_;
  store::LeaseOptions leases_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Slot>> idle_;
  std::shared_ptr<const Directory> directory_;  ///< under mutex_
  /// Each run's status (`agendasync status`, sync_run_status): a run that changed nothing
  /// waits to be written with others (issue 14 §4; service/status_batch.h says when).
  service::StatusBatch<std::pair<std::string, app::RunStatus>> statuses_;
};

/// A run that synced and changed nothing, without errors: its status may wait.
bool quiet_run(const app::UserRun& run);

/// Every organisation's SyncAppPool, opened at an organisation's first run from its
/// configuration (platform::Platform::organisation_config) and dropped when its connection
/// changes, so the next run uses the new one. All organisations share one HTTP client (its
/// TLS trust and proxy are the node's): its concurrency budgets are keyed by what Exchange
/// limits — the service account and server, the app and mailbox (net::Request::budget_key)
/// — so customers do not share a budget through it, and a thousand organisations do not
/// cost a thousand clients' threads.
class OrganisationPools {
 public:
  using ConfigFn = std::function<Result<config::Config>(const std::string& org)>;
  OrganisationPools(ConfigFn config, std::shared_ptr<net::HttpClient> http,
                    store::LeaseOptions leases = {})
      : config_(std::move(config)), http_(std::move(http)), leases_(std::move(leases)) {}
  /// The scheduler's PairSyncFn.
  Result<service::SyncResult> run(const service::PairRef& pair,
                                  const app::ProgressFn& progress = {});
  /// SyncAppPool::flush_due for every open organisation.
  void flush_due();
  /// Forgets the organisation's pool (runs in flight finish on the old one).
  void reset(const std::string& org);
  /// Forgets every organisation's pool (a reloaded [tls]); runs in flight finish on theirs.
  void reset_all();
  /// R40 for every user of the organisation.
  Result<std::size_t> offboard(const std::string& org);
  /// SyncAppPool::with_app on the organisation's pool (opened if needed).
  Result<void> with_app(const std::string& org,
                        const std::function<Result<void>(app::SyncApp&)>& body);

 private:
  Result<std::shared_ptr<SyncAppPool>> pool(const std::string& org);
  ConfigFn config_;
  std::shared_ptr<net::HttpClient> http_;
  store::LeaseOptions leases_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<SyncAppPool>> pools_;
};

/// The scheduler's view of one app-layer run.
Result<service::SyncResult> to_sync_result(const app::UserRun& run);

}  // namespace agendasync::daemon
