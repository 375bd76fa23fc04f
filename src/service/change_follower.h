#pragma once
/// Wakes the pairs of every appointment change, whoever wrote it. The API wakes pairs for its own
/// writes at once; this follows the change feed so that writes of other processes on the same
/// agenda (the CLI beside the daemon, another node) reach Exchange within a poll interval
/// instead of waiting for the safety net. A change the API already woke is woken again, which
/// the scheduler merges into the run that is already pending.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "service/scheduler.h"
#include "store/agenda_store.h"

namespace agendasync::service {

class ChangeFollower {
 public:
  ChangeFollower(store::AgendaStore& store, Scheduler& scheduler, std::chrono::milliseconds poll);
  ~ChangeFollower();
  ChangeFollower(const ChangeFollower&) = delete;
  ChangeFollower& operator=(const ChangeFollower&) = delete;

  /// Starts following from the feed's head: what was written before is the start-up
  /// catch-up's business.
  void start();
  void stop();

 private:
  void loop();
  /// Wakes the pairs of the changes after `after_`; false when the store failed.
  bool wake_new_changes();

  store::AgendaStore& store_;
  Scheduler& scheduler_;
  std::chrono::milliseconds poll_;
  store::Revision after_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace agendasync::service
