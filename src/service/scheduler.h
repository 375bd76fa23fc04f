#pragma once
/// R23 scheduling: decides when each pair (one host user <-> that user's mailbox) syncs.
/// Host changes are debounced (a burst of writes becomes one run), sync-now and mailbox
/// notifications run at once, a periodic safety net syncs every user, a pair never runs
/// twice at the same time, and a bounded pool of workers runs the pairs. Coded against
/// SyncFn so it is tested with a fake and wired to the app layer in production.
///
/// Organisations (issue 16): a pair is (organisation, user); the user name is compared
/// without case, the organisation id exactly. One pool serves every organisation, fairly:
/// a free worker goes to the organisation holding the fewest workers (then the one that
/// started a run longest ago), and once more than one organisation was seen, the last free
/// worker (`reserved_workers`) is kept for an organisation that holds none, so one
/// organisation's first sync of many minutes-long runs cannot delay another's change by more
/// than a moment. The rule in full: scheduler_fairness.h; why: docs/DECISIONS.md, "One
/// worker pool for every organisation". The string API (user only) is organisation "".
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.h"
#include "sync/summary.h"

namespace agendasync::service {

/// What one run of one pair did.
struct SyncResult {
  std::string outcome = "synced";  ///< synced, partial, quarantined, skipped (blocked/disabled)
  sync::Summary summary;
  std::vector<std::string> errors;  ///< failed writes, each saying what to do
  std::chrono::milliseconds throttle_wait{0};
  /// R41: the connection the run reached Exchange through ("ews"/"graph"); empty when it
  /// did not get that far.
  std::string backend;
};

/// One pair: a host user of one organisation and that user's mailbox. Callers serving one
/// organisation may leave `org` empty (the string API does).
struct PairRef {
  std::string org;
  std::string user;
  bool operator==(const PairRef&) const = default;
};

/// Runs one sync cycle for `user`'s pair. Called on a worker thread, never twice at once
/// for the same user.
using SyncFn = std::function<Result<SyncResult>(const std::string& user)>;
/// The same for a pair of any organisation; never twice at once for the same pair.
using PairSyncFn = std::function<Result<SyncResult>(const PairRef& pair)>;

enum class Trigger { kHostChange, kSyncNow, kNotification, kSafetyNet };
const char* to_string(Trigger trigger);
/// The trigger to_string() named; nullopt for any other text.
std::optional<Trigger> parse_trigger(std::string_view text);

class ProgressBoard;

struct SchedulerOptions {
  /// How long a host change waits for more changes of the same pair before its run starts.
  std::chrono::milliseconds debounce{200};
  std::size_t workers = 4;
  /// The periodic safety net (0 = off): every user from `all_users` (organisation "") and
  /// every pair from `all_pairs` is queued this often.
  std::chrono::milliseconds safety_net{std::chrono::minutes(15)};
  std::function<std::vector<std::string>()> all_users;
  std::function<std::vector<PairRef>()> all_pairs;
  /// Workers kept free for an organisation that holds none, once the scheduler has seen more
  /// than one organisation (at most workers - 1). 0 = no headroom: another organisation's
  /// change may then wait for a run to end.
  std::size_t reserved_workers = 1;
  /// Where each running pair is (the sync function reports into it); a pair's entry is cleared
  /// when its run ends. Null: the server makes one.
  std::shared_ptr<ProgressBoard> progress;
  /// Many nodes (issue 17): asked first for each trigger of a pair with an organisation;
  /// true = the run belongs to another node, which it was handed to (or, for the safety net,
  /// which runs its own), so nothing is queued here. Empty: every run is this node's.
  std::function<bool(const PairRef& pair, Trigger why)> elsewhere;
};

/// Told about every finished run (status, metrics, logs); runs on the worker thread.
using RunObserver = std::function<void(
    const std::string& user, Trigger trigger, const Result<SyncResult>& result,
    std::chrono::system_clock::time_point started, std::chrono::system_clock::time_point finished)>;
/// The same with the pair's organisation.
using PairRunObserver = std::function<void(
    const PairRef& pair, Trigger trigger, const Result<SyncResult>& result,
    std::chrono::system_clock::time_point started, std::chrono::system_clock::time_point finished)>;

/// What one organisation has queued and running (per-organisation metrics).
struct OrgLoad {
  std::size_t queued = 0;
  std::size_t running = 0;
};

class Scheduler {
 public:
  /// Single organisation: every user is a pair of organisation "".
  Scheduler(SyncFn sync, SchedulerOptions options, RunObserver observer = {});
  Scheduler(PairSyncFn sync, SchedulerOptions options, PairRunObserver observer = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  /// The progress of running pairs (SchedulerOptions::progress); null when none was given.
  ProgressBoard* progress() const { return options_.progress.get(); }
  /// Queues a run of `user`'s pair. Returns false once stopping (the request is dropped; the
  /// next start's safety net covers it, since cursors only move on committed runs).
  bool trigger(const std::string& user, Trigger why);
  /// The same for a pair of any organisation. Pass a PairRef, not a braced list: `{org, user}`
  /// would also fit std::string's iterator-pair constructor.
  bool trigger(const PairRef& pair, Trigger why);
  /// Drops every queued run of `org` (the organisation was suspended or deleted) and returns
  /// how many; its runs in flight finish. It no longer counts as an organisation served until
  /// it is triggered again.
  std::size_t forget_org(const std::string& org);
  /// Graceful stop: no new runs start, runs in flight finish (their journal and cursors are
  /// committed by the engine as usual), queued runs are dropped. Idempotent.
  void stop();

  std::size_t queue_depth() const;
  std::size_t running() const;
  bool workers_alive() const;
  /// Queued and running pairs per organisation that has any.
  std::map<std::string, OrgLoad> load_by_org() const;

 private:
  /// A pair's identity: organisation as given, user name lower-cased.
  struct PairKey {
    std::string org;
    std::string user;
    auto operator<=>(const PairKey&) const = default;
  };
  struct Pending {
    PairRef pair;
    std::chrono::steady_clock::time_point due;
    Trigger why;
  };
  /// What the fairness rule knows of one organisation.
  struct OrgState {
    std::size_t running = 0;
    std::chrono::steady_clock::time_point last_start{};
    bool served = true;  ///< false once forgotten; the entry goes when its runs end
  };
  using PendingMap = std::map<PairKey, Pending>;

  void work();
  void safety_net_loop();
  /// The pending run a free worker starts now (end() when none may start); `next_due` gets
  /// the earliest later due time. Caller holds mutex_.
  PendingMap::iterator choose(std::chrono::steady_clock::time_point now,
                              std::chrono::steady_clock::time_point& next_due);
  bool several_orgs() const;

  PairSyncFn sync_;
  SchedulerOptions options_;
  PairRunObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  ///< the workers': the queue or the running set changed
  std::condition_variable stopped_;  ///< the safety net's: stop() was called
  PendingMap pending_;
  /// pending_'s pairs per organisation in the order they are due (then by key): choose()
  /// reads each organisation's first due pairs instead of the whole queue.
  std::map<std::string, std::set<std::pair<std::chrono::steady_clock::time_point, PairKey>>>
      due_order_;
  std::set<PairKey> running_;
  std::map<std::string, OrgState> orgs_;
  bool started_ = false;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace agendasync::service
