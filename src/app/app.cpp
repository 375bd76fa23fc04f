#include "app/app.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "app/counting_side.h"
#include "app/pair_settings.h"
#include "connectors/host/host_side.h"
#include "store/sync_state/sqlite_sync_state.h"
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

/// The directory the per-user run statuses live in, beside the sync state.
std::filesystem::path status_directory(const std::filesystem::path& state) {
  return state.string() + ".status";
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
    : store_(store),
      options_(std::move(options)),
      exchange_(std::move(exchange)),
      status_file_(status_directory(options_.state_path)) {}

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
  const std::string domain =
      settings->mail_domain.empty() ? options_.config.exchange.mail_domain : settings->mail_domain;
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

Result<UserRun> SyncApp::sync_user(const std::string& user_name, bool dry_run,
                                   const ProgressFn& progress) {
  auto found = store_.user(user_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_user(user_name));
  const User& user = **found;

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

  auto record_failure = [&](Error error) -> Result<UserRun> {
    run.outcome = UserRun::Outcome::kFailed;
    run.error = error;
    if (!dry_run) {
      (void)status_file_.record(user.user_name,
                                RunStatus{options_.clock(), "failed", "", error.message, {}});
    }
    return run;
  };

  auto mailbox = mailbox_of(user);
  if (!mailbox) return record_failure(mailbox.error());
  run.mailbox = *mailbox;

  auto settings = store_.settings();
  if (!settings) return std::unexpected(settings.error());
  auto types = store_.activity_types();
  if (!types) return std::unexpected(types.error());

  auto remote_side = exchange_->side(run.mailbox);
  if (!remote_side) return record_failure(remote_side.error());

  // R37: a dry run must not even create the state file; a pair that never synced plans
  // against an empty in-memory state, which is exactly what its first run would see.
  std::unique_ptr<sync::SyncState> state;
  std::error_code exists_error;
  if (dry_run && !std::filesystem::exists(options_.state_path, exists_error)) {
    state = std::make_unique<sync::MemorySyncState>();
  } else {
    auto opened = store::SqliteSyncState::open(options_.state_path, user.user_name);
    if (!opened) return record_failure(opened.error());
    state = std::move(*opened);
  }
  std::unique_ptr<sync::AuditSink> audit;
  if (dry_run) {
    audit = std::make_unique<sync::MemoryAuditSink>();
  } else {
    auto opened = store::SqliteAuditSink::open(options_.state_path);
    if (!opened) return record_failure(opened.error());
    audit = std::move(*opened);
  }

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
  CountingSide counted_remote(**remote_side, count_writes);

  sync::EngineOptions engine_options;
  auto pair = pair_policy(user, options_.config, *settings, *types);
  if (!pair) return record_failure(pair.error());
  engine_options.policy = std::move(pair->plan);
  engine_options.breaker = pair->breaker;
  engine_options.first_sync_requires_approval = pair->first_sync_requires_approval;
  engine_options.clock = options_.clock;
  engine_options.on_step = [&](sync::CycleStep step) {
    if (step == sync::CycleStep::kJournaled && progress) {
      // The journal holds exactly the writes this run intends: the progress bar's total.
      if (auto pending = state->pending_journal()) position.total = pending->size();
      position.phase = Progress::Phase::kWriting;
      report_progress();
    }
    if (options_.on_step) options_.on_step(step);
  };
  report_progress();

  sync::SyncEngine engine(counted_host, counted_remote, *state, *audit, engine_options);
  auto report = engine.run(dry_run);
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
    RunStatus status;
    status.at = options_.clock();
    status.outcome = to_string(run.outcome);
    status.summary = sync::format_summary(run.report->summary);
    if (!run.report->errors.empty()) status.last_error = run.report->errors.front();
    if (run.outcome == UserRun::Outcome::kQuarantined)
      status.last_error = run.report->quarantine_reason;
    if (run.outcome == UserRun::Outcome::kSynced) status.last_success = status.at;
    if (auto recorded = status_file_.record(user.user_name, status); !recorded)
      return std::unexpected(recorded.error());
  }
  return run;
}

Result<std::vector<UserRun>> SyncApp::sync_all(bool dry_run, const ProgressFn& progress) {
  auto users = store_.users();
  if (!users) return std::unexpected(users.error());
  std::vector<UserRun> runs;
  for (const User& user : *users) {
    auto run = sync_user(user.user_name, dry_run, progress);
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
  return runs;
}

Result<void> SyncApp::approve(const std::string& user_name) {
  auto found = store_.user(user_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_user(user_name));
  std::error_code ec;
  if (!std::filesystem::exists(options_.state_path, ec)) {
    return std::unexpected(Error::make(
        ErrorKind::kNotFound,
        fmt::format("the pair of {} is not quarantined (it never synced); nothing to approve",
                    user_name)));
  }
  auto state = store::SqliteSyncState::open(options_.state_path, user_name);
  if (!state) return std::unexpected(state.error());
  return (*state)->approve();
}

Result<sync::OffboardReport> SyncApp::offboard(const std::string& user_name) {
  auto found = store_.user(user_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_user(user_name));
  auto mailbox = mailbox_of(**found);
  if (!mailbox) return std::unexpected(mailbox.error());
  auto remote = exchange_->side(*mailbox);
  if (!remote) return std::unexpected(remote.error());
  auto state = store::SqliteSyncState::open(options_.state_path, user_name);
  if (!state) return std::unexpected(state.error());
  auto audit = store::SqliteAuditSink::open(options_.state_path);
  if (!audit) return std::unexpected(audit.error());
  return sync::offboard(**remote, **state, **audit, user_name, options_.clock());
}

Result<UserStatus> SyncApp::status(const std::string& user_name) {
  auto found = store_.user(user_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(unknown_user(user_name));
  UserStatus status;
  status.user = **found;
  if (auto mailbox = mailbox_of(status.user)) status.mailbox = *mailbox;
  std::error_code ec;
  if (std::filesystem::exists(options_.state_path, ec)) {
    auto state = store::SqliteSyncState::open(options_.state_path, user_name);
    if (!state) return std::unexpected(state.error());
    auto count = (*state)->link_count();
    if (!count) return std::unexpected(count.error());
    status.linked_items = *count;
    auto gate = (*state)->quarantine();
    if (!gate) return std::unexpected(gate.error());
    status.quarantine = *gate;
  }
  status.last_run = status_file_.read(user_name);
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
