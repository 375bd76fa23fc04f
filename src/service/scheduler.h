#pragma once
/// R23 scheduling: decides when each pair (one host user <-> that user's mailbox) syncs.
/// Host changes are debounced (a burst of writes becomes one run), sync-now and mailbox
/// notifications run at once, a periodic safety net syncs every user, a pair never runs
/// twice at the same time, and a bounded pool of workers runs the pairs. Coded against
/// SyncFn so it is tested with a fake and wired to the app layer in production.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
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
};

/// Runs one sync cycle for `user`'s pair. Called on a worker thread, never twice at once
/// for the same user.
using SyncFn = std::function<Result<SyncResult>(const std::string& user)>;

enum class Trigger { kHostChange, kSyncNow, kNotification, kSafetyNet };
const char* to_string(Trigger trigger);

struct SchedulerOptions {
  /// How long a host change waits for more changes of the same pair before its run starts.
  std::chrono::milliseconds debounce{200};
  std::size_t workers = 4;
  /// The periodic safety net (0 = off): every user from `all_users` is queued this often.
  std::chrono::milliseconds safety_net{std::chrono::minutes(15)};
  std::function<std::vector<std::string>()> all_users;
};

/// Told about every finished run (status, metrics, logs); runs on the worker thread.
using RunObserver = std::function<void(
    const std::string& user, Trigger trigger, const Result<SyncResult>& result,
    std::chrono::system_clock::time_point started, std::chrono::system_clock::time_point finished)>;

class Scheduler {
 public:
  Scheduler(SyncFn sync, SchedulerOptions options, RunObserver observer = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  /// Queues a run of `user`'s pair. Returns false once stopping (the request is dropped; the
  /// next start's safety net covers it, since cursors only move on committed runs).
  bool trigger(const std::string& user, Trigger why);
  /// Graceful stop: no new runs start, runs in flight finish (their journal and cursors are
  /// committed by the engine as usual), queued runs are dropped. Idempotent.
  void stop();

  std::size_t queue_depth() const;
  std::size_t running() const;
  bool workers_alive() const;

 private:
  struct Pending {
    std::string user;
    std::chrono::steady_clock::time_point due;
    Trigger why;
  };
  void work();
  void safety_net_loop();

  SyncFn sync_;
  SchedulerOptions options_;
  RunObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Pending> pending_;  // by lower-cased user name
  std::set<std::string> running_;
  bool started_ = false;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace agendasync::service
