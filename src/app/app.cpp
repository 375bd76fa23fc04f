#include "app/app.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "app/counting_side.h"
#include "app/pair_settings.h"
#include "connectors/host/host_side.h"
#include "core/fencing.h"
#include "store/sync_state/state_store.h"
#include "sync/memory_state.h"
#include "sync/policies.h"
#include "sync/summary.h"

namespace agendasync::app {
namespace {

Instant system_now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

Error unknown_user(const std::string& user_name) {
  return Error::make(
      ErrorKind::kNotFound,
      fmt::format("unknown user \"{}\"; list the users with `agendasync users list`", user_name));
}

}  // namespace

const char* to_string(UserRun::Outcome outcome) {
  switch (outcome) {
    case UserRun::Outcome::kSynced:
      return "synced";
    case UserRun::Outcome::kPartial:
      return "partial";
    case UserRun::Outcome::kDryRun:
      return "dry-run";
    case UserRun::Outcome::kQuarantined:
      return "quarantined";
    case UserRun::Outcome::kSkipped:
      return "skipped";
    case UserRun::Outcome::kFailed:
      return "failed";
  }
  return "failed";
}

std::filesystem::path state_file(const config::Config& config) {
  std::filesystem::path path = config.database;
  path.replace_extension(".sync.db");
  return path;
}

SyncApp::SyncApp(store::AgendaStore& store, AppOptions options,
                 std::unique_ptr<ExchangeConnection> exchange)
    : store_(store), options_(std::move(options)), exchange_(std::move(exchange)) {}

SyncApp::~SyncApp() = default;

Result<store::StateStore*> SyncApp::state_store() {
  if (!state_store_) {
    auto opened = store::open_state_store(options_.config.database.string(), options_.org,
                                          options_.state_path, options_.leases);
    if (!opened) return std::unexpected(opened.error());
    state_store_ = std::move(*opened);
  }
  return state_store_.get();
}

Result<void> SyncApp::record_status(const std::string& user, const RunStatus& status) {
  auto states = state_store();
  if (!states) return std::unexpected(states.error());
  const std::pair<std::string, RunStatus> one{user, status};
  return (*states)->record_statuses(std::span(&one, 1));
}

Result<std::unique_ptr<SyncApp>> SyncApp::open(store::AgendaStore& store, AppOptions options) {
  if (options.state_path.empty()) options.state_path = state_file(options.config);
  if (!options.clock) options.clock = system_now;
  auto http = options.http;
  if (!http) {
    net::ClientOptions client;
    client.tls.ca_bundle_path = options.config.tls.ca_bundle.string();
    client.proxy = options.config.tls.proxy;
    http = std::shared_ptr<net::HttpClient>(net::make_curl_client(std::move(client)));
  }
  // Secrets are read once, up front: a missing secret file fails here, naming the setting,
  // not halfway through a run.
  auto exchange = ExchangeConnection::open(options.config, std::move(http));
  if (!exchange) return std::unexpected(exchange.error());
  return std::unique_ptr<SyncApp>(new SyncApp(store, std::move(options), std::move(*exchange)));
}

Result<std::string> SyncApp::mailbox_of(const User& user) {
  auto settings = store_.settings();
  if (!settings) return std::unexpected(settings.error());
  return mailbox_of(user, *settings);
}

Result<std::string> SyncApp::mailbox_of(const User& user,
                                        const store::OrganisationSettings& settings) {
  const std::string domain =
      settings.mail_domain.empty() ? options_.config.exchange.mail_domain : settings.mail_domain;
  // Blocked users have no mailbox for syncing (R10), but offboarding and status still need
  // the address their calendar lives at.
  User addressable = user;
  addressable.blocked = false;
  auto address = mailbox_address(addressable, domain);
  if (!address) return std::unexpected(address.error());
  if (!*address || (*address)->empty()) {
    return std::unexpected(Error::make(
        ErrorKind::kInvalidData,
        fmt::format("user {} has no mailbox address: set the organisation's mail domain "
                    "(`agendasync settings set mail-domain example.com`) or the user's "
                    "deviating address (`agendasync users set {} --exchange-address ...`)",
                    user.user_name, user.user_name)));
  }
  return **address;
}

Result<RemoteBackend> SyncApp::route(const User& user, const std::string& mailbox,
                                     const std::string& recorded, bool reprobe) {
  const auto previous = parse_remote_backend(recorded);
  auto probe = [&]() -> Result<bool> {
    auto moved = exchange_->moved_online(mailbox);
    if (moved || !reprobe || previous != RemoteBackend::kEws) return moved;
    // Autodiscover did not answer, and on-premises EWS said it holds no such mailbox: the
    // other sign of a move is that Exchange Online serves it. One cheap Graph read (a key
    // lookup) tells: MailboxNotEnabledForRESTAPI means it does not.
    auto graph = exchange_->side(mailbox, RemoteBackend::kGraph);
    if (!graph) return moved;
    auto asked = (*graph)->find_by_key(IdempotencyKey("as1-mailbox-probe"));
    if (asked) return true;
    if (mailbox_elsewhere(asked.error())) return false;
    return moved;
  };
  return route_mailbox(options_.config.exchange.backend, user.backend, previous, reprobe, probe);
}

Result<SyncApp::Organisation> SyncApp::organisation() {
  auto settings = store_.settings();
  if (!settings) return std::unexpected(settings.error());
  auto types = store_.activity_types();
  if (!types) return std::unexpected(types.error());
  return Organisation{std::move(*settings), std::move(*types)};
}

Result<UserRun> SyncApp::sync_user(const std::string& user_name, bool dry_run,
                                   const ProgressFn& progress) {
  auto found = store_.user(user_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_user(user_name));
  const User& user = **found;
  // Blocked or not enabled: nothing is read, not even the organisation (R10, R11).
  if (user.blocked || !user.sync_enabled) return sync_pair(user, {}, dry_run, progress, nullptr);
  auto org = organisation();
  if (!org) return std::unexpected(org.error());
  return sync_pair(user, *org, dry_run, progress, nullptr);
}

Result<UserRun> SyncApp::sync_read_user(const User& user, const Organisation& organisation,
                                        const ProgressFn& progress, PendingStatuses* statuses) {
  return sync_pair(user, organisation, /*dry_run=*/false, progress, statuses);
}

Result<void> SyncApp::record_statuses(const PendingStatuses& statuses) {
  if (statuses.empty()) return {};
  auto states = state_store();
  if (!states) return std::unexpected(states.error());
  return (*states)->record_statuses(statuses);
}

Result<UserRun> SyncApp::sync_pair(const User& user, const Organisation& organisation, bool dry_run,
                                   const ProgressFn& progress, PendingStatuses* statuses) {
  UserRun run;
  run.user = user.user_name;
  // R10, R11: blocked users and users who did not turn sync on are left alone entirely.
  if (user.blocked) {
    run.reason = "R10: user is blocked";
    return run;
  }
  if (!user.sync_enabled) {
    run.reason = "R11: sync is not enabled for this user";
    return run;
  }

  auto keep_status = [&](const RunStatus& status) -> Result<void> {
    if (statuses) {
      statuses->emplace_back(user.user_name, status);
      return {};
    }
    return record_status(user.user_name, status);
  };
  auto record_failure = [&](Error error) -> Result<UserRun> {
    run.outcome = UserRun::Outcome::kFailed;
    run.error = error;
    // A batch refused by fencing is not the pair's failure: the node holding its lease now
    // syncs it and records the pair's status; a stale "failed" must not overwrite that.
    if (!dry_run && !is_lease_lost(error)) (void)keep_status(failed_run(options_.clock(), error));
    return run;
  };

  auto mailbox = mailbox_of(user, organisation.settings);
  if (!mailbox) return record_failure(mailbox.error());
  run.mailbox = *mailbox;
  const store::OrganisationSettings& settings = organisation.settings;
  const std::vector<store::ActivityType>& types = organisation.types;

  // One run of a pair at a time across processes: the CLI's `sync` beside the daemon would
  // otherwise create the same new items twice. Taken before the state is read, so the run
  // sees the cursors and links of the run before it. Dry runs write nothing and need none.
  auto states = state_store();
  if (!states) return record_failure(states.error());
  std::unique_ptr<store::PairGuard> pair_lock;
  if (!dry_run) {
    auto locked = (*states)->lock_pair(user.user_name, options_.pair_lock_wait);
    if (!locked) {
      // Not the pair's failure: its status stays what the run in the other process records.
      run.outcome = UserRun::Outcome::kFailed;
      run.error = locked.error();
      return run;
    }
    pair_lock = std::move(*locked);
  }

  // R37: a dry run must not even create the state file; a pair that never synced plans
  // against an empty in-memory state, which is exactly what its first run would see.
  std::unique_ptr<sync::SyncState> state;
  if (dry_run && !(*states)->exists()) {
    state = std::make_unique<sync::MemorySyncState>();
  } else {
    auto opened = (*states)->state(user.user_name);
    if (!opened) return record_failure(opened.error());
    state = std::move(*opened);
  }
  std::unique_ptr<sync::AuditSink> audit;
  if (dry_run) {
    audit = std::make_unique<sync::MemoryAuditSink>();
  } else {
    auto opened = (*states)->audit();
    if (!opened) return record_failure(opened.error());
    audit = std::move(*opened);
  }

  // R41: the connection serving this mailbox (a hybrid organisation routes each user).
  auto recorded = state->remote_backend();
  if (!recorded) return record_failure(recorded.error());
  auto backend = route(user, run.mailbox, *recorded, /*reprobe=*/false);
  if (!backend) return record_failure(backend.error());
  auto remote_side = exchange_->side(run.mailbox, *backend);
  if (!remote_side) return record_failure(remote_side.error());

  host::HostCalendarSide host_side(store_, user.user_name);

  Progress position{user.user_name};
  auto report_progress = [&] {
    if (progress) progress(position);
  };
  auto count_writes = [&](std::size_t writes) {
    position.done += writes;
    report_progress();
  };
  CountingSide counted_host(host_side, count_writes);

  sync::EngineOptions engine_options;
  auto pair = pair_policy(user, options_.config, settings, types);
  if (!pair) return record_failure(pair.error());
  engine_options.policy = std::move(pair->plan);
  engine_options.breaker = pair->breaker;
  engine_options.first_sync_requires_approval = pair->first_sync_requires_approval;
  engine_options.clock = options_.clock;
  engine_options.on_step = [&](sync::CycleStep step) {
    if (step == sync::CycleStep::kJournaled && progress) {
      // The journal holds the writes this batch intends (a paged first sync journals batch
      // by batch): the progress bar's total grows with each batch.
      if (auto pending = state->pending_journal()) position.total = position.done + pending->size();
      position.phase = Progress::Phase::kWriting;
      report_progress();
    }
    if (options_.on_step) options_.on_step(step);
  };
  report_progress();

  auto run_engine = [&](CalendarSide& remote, RemoteBackend through) {
    CountingSide counted_remote(remote, count_writes);
    engine_options.remote_backend = to_string(through);
    run.backend = to_string(through);
    sync::SyncEngine engine(counted_host, counted_remote, *state, *audit, engine_options);
    return engine.run(dry_run);
  };
  auto report = run_engine(**remote_side, *backend);
  if (!report && mailbox_elsewhere(report.error())) {
    // R41: the backend the pair used says the mailbox is not there (any more): a mailbox
    // moved between Exchange Server and Exchange Online. Ask where it is now and, when
    // that is the other connection, run there: the engine switches the pair (the first
    // listing re-links every item by its key). Nothing was written by the refused run.
    auto moved = route(user, run.mailbox, to_string(*backend), /*reprobe=*/true);
    if (moved && *moved != *backend) {
      auto other_side = exchange_->side(run.mailbox, *moved);
      if (!other_side) return record_failure(other_side.error());
      report = run_engine(**other_side, *moved);
    }
  }
  if (!report) {
    // A quarantined pair is not a failure of the run: it waits for an admin (R38).
    auto gate = state->quarantine();
    if (gate && *gate && !(*gate)->approved) {
      run.outcome = UserRun::Outcome::kQuarantined;
      run.error = report.error();
      return run;
    }
    return record_failure(report.error());
  }

  switch (report->outcome) {
    case sync::RunOutcome::kSynced:
      run.outcome = UserRun::Outcome::kSynced;
      break;
    case sync::RunOutcome::kPartial:
      run.outcome = UserRun::Outcome::kPartial;
      break;
    case sync::RunOutcome::kDryRun:
      run.outcome = UserRun::Outcome::kDryRun;
      break;
    case sync::RunOutcome::kQuarantined:
      run.outcome = UserRun::Outcome::kQuarantined;
      break;
  }
  run.report = std::move(*report);
  // No settle cycle: the engine stores cursors past its own writes (engine.h,
  // RunReport::cursor_past_writes), so the next run neither reads them back nor misses a
  // deletion Exchange's SyncFolderItems would hide (an item created and deleted after a state).
  position.phase = Progress::Phase::kDone;
  position.done = position.total;
  report_progress();

  if (!dry_run) {
    const RunStatus status = finished_run(options_.clock(), to_string(run.outcome), *run.report);
    if (auto recorded = keep_status(status); !recorded) return std::unexpected(recorded.error());
  }
  return run;
}

Result<std::vector<UserRun>> SyncApp::sync_all(bool dry_run, const ProgressFn& progress) {
  auto users = store_.users();
  if (!users) return std::unexpected(users.error());
  // Read once for the whole cycle; a setting changed meanwhile applies from the next cycle.
  auto org = organisation();
  if (!org) return std::unexpected(org.error());
  // Statuses are written a few hundred at a time: one WAL commit for many idle pairs.
  constexpr std::size_t kStatusesPerWrite = 256;
  PendingStatuses statuses;
  auto write_statuses = [&]() -> Result<void> {
    if (statuses.empty()) return {};
    auto states = state_store();
    if (!states) return std::unexpected(states.error());
    auto written = (*states)->record_statuses(statuses);
    statuses.clear();
    return written;
  };
  std::vector<UserRun> runs;
  for (const User& user : *users) {
    auto run = sync_pair(user, *org, dry_run, progress, &statuses);
    if (statuses.size() >= kStatusesPerWrite) {
      if (auto written = write_statuses(); !written) return std::unexpected(written.error());
    }
    if (run) {
      runs.push_back(std::move(*run));
    } else {
      UserRun failed;
      failed.user = user.user_name;
      failed.outcome = UserRun::Outcome::kFailed;
      failed.error = run.error();
      runs.push_back(std::move(failed));
    }
  }
  if (auto written = write_statuses(); !written) return std::unexpected(written.error());
  return runs;
}

Result<void> SyncApp::approve(const std::string& user_name) {
  auto found = store_.user(user_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_user(user_name));
  auto states = state_store();
  if (!states) return std::unexpected(states.error());
  if (!(*states)->exists()) {
    return std::unexpected(Error::make(
        ErrorKind::kNotFound,
        fmt::format("the pair of {} is not quarantined (it never synced); nothing to approve",
                    user_name)));
  }
  auto state = (*states)->state(user_name);
  if (!state) return std::unexpected(state.error());
  return (*state)->approve();
}

Result<sync::OffboardReport> SyncApp::offboard(const std::string& user_name) {
  auto found = store_.user(user_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_user(user_name));
  auto mailbox = mailbox_of(**found);
  if (!mailbox) return std::unexpected(mailbox.error());
  auto states = state_store();
  if (!states) return std::unexpected(states.error());
  auto opened = (*states)->state(user_name);
  if (!opened) return std::unexpected(opened.error());
  auto& state = *opened;
  auto recorded = state->remote_backend();
  if (!recorded) return std::unexpected(recorded.error());
  auto backend = route(**found, *mailbox, *recorded, /*reprobe=*/false);
  if (!backend) return std::unexpected(backend.error());
  auto remote = exchange_->side(*mailbox, *backend);
  if (!remote) return std::unexpected(remote.error());
  auto audit = (*states)->audit();
  if (!audit) return std::unexpected(audit.error());
  return sync::offboard(**remote, *state, **audit, user_name, options_.clock());
}

Result<UserStatus> SyncApp::status(const std::string& user_name) {
  auto found = store_.user(user_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_user(user_name));
  UserStatus status;
  status.user = **found;
  if (auto mailbox = mailbox_of(status.user)) status.mailbox = *mailbox;
  auto states = state_store();
  if (!states) return std::unexpected(states.error());
  if ((*states)->exists()) {
    auto opened = (*states)->state(user_name);
    if (!opened) return std::unexpected(opened.error());
    auto& state = *opened;
    auto count = state->link_count();
    if (!count) return std::unexpected(count.error());
    status.linked_items = *count;
    auto gate = state->quarantine();
    if (!gate) return std::unexpected(gate.error());
    status.quarantine = *gate;
    auto last_run = (*states)->last_run(user_name);
    if (!last_run) return std::unexpected(last_run.error());
    status.last_run = *last_run;
  }
  return status;
}

Result<std::vector<UserStatus>> SyncApp::status_all() {
  auto users = store_.users();
  if (!users) return std::unexpected(users.error());
  std::vector<UserStatus> statuses;
  for (const User& user : *users) {
    auto one = status(user.user_name);
    if (!one) return std::unexpected(one.error());
    statuses.push_back(std::move(*one));
  }
  return statuses;
}

std::vector<DoctorCheck> SyncApp::doctor() {
  std::vector<DoctorCheck> unaddressable;
  std::vector<std::string> mailboxes;
  auto users = store_.users();
  if (!users) {
    return {{"configuration", false, users.error().message,
             "fix the setting named above in " + options_.config.source.string()}};
  }
  for (const User& user : *users) {
    if (!sync::user_is_synced(user)) continue;
    auto mailbox = mailbox_of(user);
    if (!mailbox) {
      unaddressable.push_back({"mailbox " + user.user_name, false, mailbox.error().message,
                               "set the mail domain or the user's deviating address"});
      continue;
    }
    mailboxes.push_back(*mailbox);
  }
  auto checks = exchange_->doctor(mailboxes);
  checks.insert(checks.end(), unaddressable.begin(), unaddressable.end());
  return checks;
}

}  // namespace agendasync::app
