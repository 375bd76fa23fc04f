#pragma once
/// The wiring that turns a Config and the host agenda into running syncs: per user, the host
/// side (that user's view of the agenda) paired with their Exchange mailbox through EWS or
/// Microsoft Graph (exchange_connection.h), the
/// engine with the sync state and audit trail (SQLite beside the agenda, or the organisation's
/// PostgreSQL schema: store::StateStore), and the organisation's rules (R10, R11,
/// R14, R16, R19, R21, R24, R25, R38, R40). A library: the CLI and the daemon call it; it
/// never prints.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/exchange_connection.h"
#include "app/run_status.h"
#include "config/config.h"
#include "core/calendar_side.h"
#include "net/http.h"
#include "store/agenda_store.h"
#include "store/sync_state/state_store.h"
#include "sync/engine.h"
#include "sync/offboard.h"

namespace agendasync::app {

/// Where a run is, for progress bars. `total` is 0 while unknown (reading).
struct Progress {
  std::string user;
  enum class Phase { kReading, kWriting, kDone } phase = Phase::kReading;
  std::size_t done = 0;
  std::size_t total = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

struct AppOptions {
  /// Connection (endpoint, version, auth, service account, TLS/CA/proxy) and the [sync]
  /// layer of the settings. Every run layers the organisation settings read from the agenda
  /// (and the user's overrides) over config.sync: direction, conflict policy, first-sync
  /// window, R25, the R38 breaker (breaker_share, breaker_min_items) and first-sync approval,
  /// R39 meeting requests (app::pair_policy). The CLI and the daemon both pass the loaded
  /// configuration here; nothing else needs wiring.
  config::Config config;
  /// Sync state + audit trail on SQLite; empty = next to the agenda database (state_file()).
  /// On PostgreSQL (`config.database` names a server) they live in the organisation's schema.
  std::filesystem::path state_path;
  /// The organisation whose pairs these are: its schema on PostgreSQL.
  std::string org = "default";
  /// Injected HTTP client (tests); null = a libcurl client built from the config's TLS options.
  std::shared_ptr<net::HttpClient> http;
  /// Injectable clock (tests); null = the system clock.
  std::function<Instant()> clock;
  /// Test hook forwarded to the engine (crash tests).
  std::function<void(sync::CycleStep)> on_step;
  /// How long a run waits while another process (the daemon, another CLI run) syncs the
  /// same pair (store::StateStore::lock_pair: a file lock, or the pair's lease on PostgreSQL);
  /// then the run fails with a transient error, changing nothing.
  std::chrono::milliseconds pair_lock_wait{std::chrono::seconds(60)};
  /// PostgreSQL: the node name and lease time its runs hold pairs under (`serve --node-name`,
  /// `[cluster] lease_seconds`); empty name = host:pid.
  store::LeaseOptions leases;
};

/// What happened to one user's pair in one run.
struct UserRun {
  enum class Outcome { kSynced, kPartial, kDryRun, kQuarantined, kSkipped, kFailed };
  std::string user;
  std::string mailbox;  ///< empty when the user is not synced
  Outcome outcome = Outcome::kSkipped;
  /// kSkipped: which rule left the user alone (R10 blocked, R11 not enabled).
  std::string reason;
  /// The engine's report (plan, summary, errors); absent when skipped or failed before it.
  std::optional<sync::RunReport> report;
  /// kFailed: what went wrong and what to do.
  std::optional<Error> error;
  /// R41: the connection ("ews"/"graph") the run reached Exchange through; empty when it did
  /// not get that far.
  std::string backend;
};

const char* to_string(UserRun::Outcome outcome);

/// Per-user status (`agendasync status`, the daemon's status API).
struct UserStatus {
  User user;
  std::string mailbox;
  std::size_t linked_items = 0;
  std::optional<sync::Quarantine> quarantine;
  std::optional<RunStatus> last_run;
};

/// The sync state file for a configuration: the agenda database's name with ".sync.db".
std::filesystem::path state_file(const config::Config& config);

class SyncApp {
 public:
  /// `store` must outlive the app. Fails when the backend's secret (EWS password, Graph client
  /// secret or private key) or the Graph certificate cannot be read.
  static Result<std::unique_ptr<SyncApp>> open(store::AgendaStore& store, AppOptions options);
  ~SyncApp();

  /// One cycle of `user_name`'s pair. Unknown user: kNotFound. Blocked or not enabled users
  /// are skipped (nothing read, nothing written). A dry run (R37) writes nothing anywhere:
  /// not to either side, not to the sync state, not to the run status.
  Result<UserRun> sync_user(const std::string& user_name, bool dry_run = false,
                            const ProgressFn& progress = {});
  /// Every user, in user-name order; one failing user does not stop the others.
  Result<std::vector<UserRun>> sync_all(bool dry_run = false, const ProgressFn& progress = {});

  /// What every pair of a cycle reads alike from the agenda: read once per sync_all, not
  /// once per pair (the safety net's idle cycle over 10,000 mailboxes, issue 14); the daemon
  /// keeps it across runs while the agenda's directory revision stands still.
  struct Organisation {
    store::OrganisationSettings settings;
    std::vector<store::ActivityType> types;
  };
  Result<Organisation> organisation();
  /// One cycle of `user`'s pair (a real run, not a dry one) with the user and organisation
  /// the caller read: sync_user without its three reads. The caller vouches that they are
  /// current (the daemon's pool compares the directory revision before each run).
  /// Statuses a cycle over many pairs writes together (SqliteRunStatus::record_all).
  using PendingStatuses = std::vector<std::pair<std::string, RunStatus>>;
  /// With `statuses`, the run's status goes there for the caller to write (record_statuses)
  /// with others: the daemon writes its idle runs' statuses in batches.
  Result<UserRun> sync_read_user(const User& user, const Organisation& organisation,
                                 const ProgressFn& progress = {},
                                 PendingStatuses* statuses = nullptr);
  /// Writes statuses sync_read_user left to the caller, in one transaction, in order.
  Result<void> record_statuses(const PendingStatuses& statuses);

  /// R38: lets the next run of a quarantined pair through. kNotFound when not quarantined.
  Result<void> approve(const std::string& user_name);

  /// R40: removes from the user's calendar the items the sync created there (never items the
  /// person made) and forgets the pair.
  Result<sync::OffboardReport> offboard(const std::string& user_name);

  Result<UserStatus> status(const std::string& user_name);
  Result<std::vector<UserStatus>> status_all();

  /// R8: the configured backend's connectivity test for every enabled user's mailbox.
  std::vector<DoctorCheck> doctor();

  /// The user's mailbox address (R7), or an error naming the setting to fix.
  Result<std::string> mailbox_of(const User& user);

 private:
  SyncApp(store::AgendaStore& store, AppOptions options,
          std::unique_ptr<ExchangeConnection> exchange);
  Result<std::string> mailbox_of(const User& user, const store::OrganisationSettings& settings);
  /// One cycle of `user`'s pair: sync_user once the user is read. With `statuses`, the run
  /// status goes there for the caller to write with the others; else it is written now.
  Result<UserRun> sync_pair(const User& user, const Organisation& organisation, bool dry_run,
                            const ProgressFn& progress, PendingStatuses* statuses);
  /// R41: the backend of `user`'s pair (mailbox_routing.h); `recorded` is the state's.
  Result<RemoteBackend> route(const User& user, const std::string& mailbox,
                              const std::string& recorded, bool reprobe);
  /// The sync state, opened on first use and kept open: a cycle over many pairs opens no
  /// file or pool per pair (an app is used by one thread at a time).
  Result<store::StateStore*> state_store();
  /// Records `status` as `user`'s last run in the state database.
  Result<void> record_status(const std::string& user, const RunStatus& status);

  store::AgendaStore& store_;
  AppOptions options_;
  std::unique_ptr<ExchangeConnection> exchange_;
  std::unique_ptr<store::StateStore> state_store_;
};

}  // namespace agendasync::app
