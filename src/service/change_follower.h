#pragma once
/// Wakes the pairs of every appointment change, whoever wrote it. The API wakes pairs for its own
/// writes at once; this follows the change feed so that writes of other processes on the same
/// agenda (the CLI beside the daemon, another node) reach Exchange within a poll interval
/// instead of waiting for the safety net. A change the API already woke is woken again, which
/// the scheduler merges into the run that is already pending. One organisation's agenda per
/// follower; the server's feed loop polls every organisation's follower in turn, so
/// organisations cost no thread each.
#include <functional>
#include <string>

#include "store/agenda_store.h"

namespace agendasync::service {

class ChangeFollower {
 public:
  /// `wake(user)` queues a run of the user's pair.
  ChangeFollower(store::AgendaStore& store, std::function<void(const std::string&)> wake)
      : store_(store), wake_(std::move(wake)) {}

  /// Starts following from the feed's head: what was written before is the start-up
  /// catch-up's business.
  void begin();
  /// Wakes the pairs of the changes since the last poll; false when the store failed (logged;
  /// the next poll tries again from the same place).
  bool poll();
  /// poll(), knowing that the feed's head was `head` before it: a follower that has read
  /// everything up to there stands at `head` even when the last revisions wrote no entry it
  /// reads, so the next idle check compares equal.
  bool poll_to(store::Revision head);
  /// The last revision this follower has seen.
  store::Revision position() const { return after_; }

 private:
  store::AgendaStore& store_;
  std::function<void(const std::string&)> wake_;
  store::Revision after_ = 0;
};

}  // namespace agendasync::service
