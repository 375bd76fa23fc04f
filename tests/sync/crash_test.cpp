// Crash safety (R28) with the SQLite state store: a cycle is killed at every step boundary
// (after recovery, after the reads, after the journal commit, inside and after each write
// batch, after the status commit), the state is reopened from its file, and the sync runs
// again. Zero duplicates, zero lost changes, both sides equal. (The SIGKILL suite against
// exsim comes with the EWS connector.)
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "harness.h"
#include "store/sync_state/sqlite_sync_state.h"
#include "sync/test_items.h"

namespace agendasync::sync::scenario {
namespace {

using testing::at;

struct Killed {};  ///< thrown to stop a cycle where a kill would

std::filesystem::path state_file(const std::string& name) {
  auto path = std::filesystem::temp_directory_path() /
              fmt::format("agendasync_crash_{}_{}.db", name, ::getpid());
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path;
}

/// A pair whose state lives in an SQLite file, reopened after every "kill".
class CrashPair {
 public:
  explicit CrashPair(const std::string& name) : path_(state_file(name)) {
    pair_.options.write_batch = 7;
    // Several batches of the paged first sync (issue 14): kills between their commits too.
    pair_.options.full_batch = 6;
    reopen();
  }
  ~CrashPair() {
    sqlite_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ignored;
      std::filesystem::remove(path_.string() + suffix, ignored);
    }
  }
  void reopen() {
    sqlite_.reset();
    auto opened = store::SqliteSyncState::open(path_, "JDOE");
    if (!opened) throw std::runtime_error(opened.error().message);
    sqlite_ = std::move(*opened);
    pair_.state = sqlite_.get();
  }
  Pair& pair() { return pair_; }

  /// Runs one cycle that is killed at the `kill_at`-th event (step boundary or landed
  /// write); returns false when the cycle finished before that event.
  bool run_killed_at(int kill_at) {
    int events = 0;
    auto tick = [&] {
      if (events++ == kill_at) throw Killed{};
    };
    pair_.options.on_step = [&](CycleStep) { tick(); };
    for (Side side : kBothSides) {
      (side == Side::kHost ? pair_.host_memory() : pair_.remote_memory()).faults().after_write =
          tick;
    }
    bool killed = false;
    try {
      (void)pair_.sync();
    } catch (const Killed&) {
      killed = true;
    }
    pair_.options.on_step = nullptr;
    pair_.host_memory().faults().after_write = nullptr;
    pair_.remote_memory().faults().after_write = nullptr;
    reopen();  // the process restarts: only the file survives
    return killed;
  }

  ::testing::AssertionResult recover_and_check() {
    for (int round = 0; round < 3; ++round) {
      auto report = pair_.sync();
      if (!report) return ::testing::AssertionFailure() << report.error().message;
      if (report->outcome == RunOutcome::kQuarantined) {
        ++quarantines_;
        (void)pair_.state->approve();
        continue;
      }
      if (report->outcome == RunOutcome::kSynced && report->plan.operations.empty()) break;
    }
    return sides_agree(pair_);
  }
  /// How often recovery met the circuit breaker (R38).
  int quarantines() const { return quarantines_; }

 private:
  int quarantines_ = 0;
  std::filesystem::path path_;
  Pair pair_;
  std::unique_ptr<store::SqliteSyncState> sqlite_;
};

Appointment host_item(int i) {
  Appointment item = testing::appointment(fmt::format("host item {}", i), at(2 + i % 25, 8));
  item.activity_type = "Appointment";
  return item;
}

void seed_first_sync(Pair& pair) {
  for (int i = 0; i < 40; ++i) pair.host->user_create(host_item(i));
  for (int i = 0; i < 15; ++i) {
    pair.remote->user_create(testing::appointment(fmt::format("remote item {}", i), at(3 + i, 13)));
  }
  // Five already on both sides: linked, not duplicated.
  for (int i = 0; i < 5; ++i) {
    Appointment same = host_item(i);
    same.activity_type.clear();
    pair.remote->user_create(same);
  }
}

TEST(CrashSafety, R28_KillAtEveryStepOfAFirstSync) {
  int kill_points = 0;
  for (int kill_at = 0;; ++kill_at) {
    CrashPair crash(fmt::format("first_{}", kill_at));
    seed_first_sync(crash.pair());
    if (!crash.run_killed_at(kill_at)) break;
    ++kill_points;
    ASSERT_TRUE(crash.recover_and_check()) << "killed at event " << kill_at;
    EXPECT_EQ(crash.pair().host->items().size(), 55u) << "killed at event " << kill_at;
    EXPECT_EQ(crash.pair().remote->items().size(), 55u) << "killed at event " << kill_at;
    EXPECT_EQ(crash.quarantines(), 0)
        << "a resumed first sync is still a first sync, not a mass change; killed at event "
        << kill_at;
  }
  // 40 + 15 creates in batches of 7, plus the step boundaries: every one was a kill point.
  EXPECT_GT(kill_points, 60);
}

TEST(CrashSafety, R28_KillAtEveryStepOfAnIncrementalSync) {
  int kill_points = 0;
  for (int kill_at = 0;; ++kill_at) {
    CrashPair crash(fmt::format("incremental_{}", kill_at));
    Pair& pair = crash.pair();
    seed_first_sync(pair);
    ASSERT_TRUE(crash.recover_and_check());
    // A mix of changes on both sides.
    const auto host = pair.host->items();
    const auto remote = pair.remote->items();
    for (int i = 0; i < 6; ++i) {
      pair.host->user_edit(host[i].ref, [i](Appointment& a) { a.subject = fmt::format("H{}", i); });
    }
    for (int i = 6; i < 10; ++i) {
      pair.remote->user_edit(remote[i].ref,
                             [i](Appointment& a) { a.location = fmt::format("R{}", i); });
    }
    pair.host->user_delete(host[20].ref);
    pair.remote->user_delete(remote[30].ref);
    for (int i = 0; i < 5; ++i) pair.host->user_create(host_item(100 + i));
    if (!crash.run_killed_at(kill_at)) break;
    ++kill_points;
    ASSERT_TRUE(crash.recover_and_check()) << "killed at event " << kill_at;
    EXPECT_EQ(pair.host->items().size(), 58u) << "killed at event " << kill_at;
    std::size_t edited = 0;
    for (const auto& item : pair.remote->items()) {
      edited += item.item.subject.starts_with("H") ? 1 : 0;
    }
    EXPECT_EQ(edited, 6u) << "every host edit arrived, killed at event " << kill_at;
    std::size_t located = 0;
    for (const auto& item : pair.host->items()) {
      located += item.item.location.starts_with("R") ? 1 : 0;
    }
    EXPECT_EQ(located, 4u) << "every remote edit arrived, killed at event " << kill_at;
  }
  EXPECT_GT(kill_points, 10);
}

}  // namespace
}  // namespace agendasync::sync::scenario
