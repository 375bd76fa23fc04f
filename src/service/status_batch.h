#pragma once
/// Coalesces the status writes of idle runs (issue 14 §4). Every run of every pair records
/// its status; the safety net's idle runs (nothing written, no error) were one write each,
/// into a database every other connection then has to re-read. Here a quiet run's status
/// waits, and is written with the others:
/// - at once when the run was not quiet (a change, an error, a sync-now the user waits for):
///   with everything waiting before it, in order;
/// - when no other run is in flight (the end of a burst, a single run): nothing waits while
///   the daemon is idle, so a status read after the runs ended is the runs' own;
/// - when `max_items` wait or the oldest waited `max_delay` (a long safety-net cycle).
/// - by flush_due once the oldest waited `max_delay`, though no run ends (the server's feed
///   loop calls it).
/// So a quiet run's status is at most `max_delay` (+ a feed poll) late (lost in a crash within that
/// window: the status of the run before stays, which the next run replaces). Writes happen one at a
/// time, each taking everything that waits, so statuses reach the database in the order the
/// runs ended.
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "core/error.h"

namespace agendasync::service {

template <typename Item>
class StatusBatch {
 public:
  using Write = std::function<Result<void>(std::vector<Item>& items)>;
  struct Options {
    std::size_t max_items = 256;
    std::chrono::milliseconds max_delay{1000};
    std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
  };

  /// `write` stores statuses in the order given; it runs on the thread that ends a run or
  /// calls flush_due / flush.
  explicit StatusBatch(Write write, Options options = {})
      : write_(std::move(write)), options_(std::move(options)) {}
  StatusBatch(const StatusBatch&) = delete;
  StatusBatch& operator=(const StatusBatch&) = delete;

  /// A run started: its end is awaited before quiet statuses are written.
  void begin() {
    std::lock_guard lock(mutex_);
    ++in_flight_;
  }

  /// A run that began ended with `items` (none, one, or several statuses); `quiet`: they may
  /// wait. Writes what is due and returns the write's result.
  Result<void> end(std::vector<Item> items, bool quiet) {
    bool due = false;
    {
      std::lock_guard lock(mutex_);
      if (in_flight_ > 0) --in_flight_;
      const auto now = options_.clock();
      if (waiting_.empty()) oldest_ = now;
      for (auto& item : items) waiting_.push_back(std::move(item));
      due = !waiting_.empty() &&
            (!quiet || in_flight_ == 0 || waiting_.size() >= options_.max_items ||
             now - oldest_ >= options_.max_delay);
    }
    return due ? flush() : Result<void>{};
  }

  /// Writes what waited `max_delay` or longer: called every feed poll (a tenth of a second),
  /// so statuses do not wait for a long run still in flight.
  Result<void> flush_due() {
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty() || options_.clock() - oldest_ < options_.max_delay) return {};
    }
    return flush();
  }

  /// Writes everything that waits.
  Result<void> flush() {
    // Taken under the write lock: a later write cannot overtake this one.
    std::lock_guard writing(write_mutex_);
    std::vector<Item> taken;
    {
      std::lock_guard lock(mutex_);
      taken.swap(waiting_);
    }
    if (taken.empty()) return {};  // a write that began meanwhile took them
    return write_(taken);
  }

  /// Statuses waiting to be written.
  std::size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }

 private:
  Write write_;
  Options options_;
  mutable std::mutex mutex_;
  std::mutex write_mutex_;
  std::vector<Item> waiting_;  ///< under mutex_
  std::chrono::steady_clock::time_point oldest_{};
  std::size_t in_flight_ = 0;
};

}  // namespace agendasync::service
