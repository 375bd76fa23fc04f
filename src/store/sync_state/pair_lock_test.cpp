// The cross-process pair lock: exclusive per pair, free for other pairs, released by the
// kernel when its holder is SIGKILLed.
#include "store/sync_state/pair_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "store/test_support.h"

namespace agendasync::store {
namespace {

using namespace std::chrono_literals;

TEST(PairLock, OneHolderPerPairOthersFree) {
  testing::TempDir dir;
  const auto state = dir / "agenda.sync.db";
  auto first = PairLock::acquire(state, "JDOE", 0ms);
  ASSERT_TRUE(first) << first.error().message;
  auto again = PairLock::acquire(state, "JDOE", 100ms);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kTransient);
  EXPECT_NE(again.error().message.find("JDOE"), std::string::npos);
  EXPECT_NE(again.error().message.find("another agendasync process"), std::string::npos);
  EXPECT_TRUE(PairLock::acquire(state, "ASMITH", 0ms));
  // The database file itself is never touched: only the lock file beside it exists.
  EXPECT_FALSE(std::filesystem::exists(state));
  EXPECT_TRUE(std::filesystem::exists(dir / "agenda.sync.db.pairs.lock"));
}

TEST(PairLock, AWaiterGetsItWhenTheHolderLetsGo) {
  testing::TempDir dir;
  const auto state = dir / "agenda.sync.db";
  auto held = std::make_optional(PairLock::acquire(state, "JDOE", 0ms));
  ASSERT_TRUE(*held);
  std::thread release([&] {
    std::this_thread::sleep_for(200ms);
    held.reset();
  });
  auto waited = PairLock::acquire(state, "JDOE", 5s);
  release.join();
  EXPECT_TRUE(waited) << waited.error().message;
}

TEST(PairLock, ASigkilledHolderReleasesAtOnce) {
  testing::TempDir dir;
  const auto state = dir / "agenda.sync.db";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = PairLock::acquire(state, "JDOE", 0ms);
    char byte = held ? 'y' : 'n';
    (void)!::write(ready[1], &byte, 1);
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  EXPECT_FALSE(PairLock::acquire(state, "JDOE", 50ms));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(PairLock::acquire(state, "JDOE", 0ms));
  ::close(ready[0]);
  ::close(ready[1]);
}

/// The state store keeps the lock file open for pair after pair (PairLockFile): its locks
/// exclude exactly as a descriptor per lock did.
TEST(PairLockFile, ExcludesOtherHoldersAndItselfAndReleasesOnDestruction) {
  testing::TempDir dir;
  const auto state = dir / "agenda.sync.db";
  PairLockFile file(state);
  auto held = std::make_optional(file.acquire("JDOE", 0ms));
  ASSERT_TRUE(*held) << (*held).error().message;
  // Another descriptor (another process, another worker's store) waits for it...
  auto other = PairLock::acquire(state, "JDOE", 100ms);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, ErrorKind::kTransient);
  // ... and so does this file itself: one descriptor's locks would not exclude each other.
  auto again = file.acquire("JDOE", 100ms);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kTransient);
  // Other pairs are free, through either.
  EXPECT_TRUE(file.acquire("ASMITH", 0ms));
  EXPECT_TRUE(PairLock::acquire(state, "BJONES", 0ms));
  held.reset();
  // Released: another descriptor takes it; once that one lets go, the file takes it again.
  {
    auto taken = PairLock::acquire(state, "JDOE", 0ms);
    ASSERT_TRUE(taken) << taken.error().message;
    EXPECT_FALSE(file.acquire("JDOE", 0ms));
  }
  EXPECT_TRUE(file.acquire("JDOE", 0ms));
}

TEST(PairLockFile, ALockOutlivesTheFileObject) {
  testing::TempDir dir;
  const auto state = dir / "agenda.sync.db";
  std::optional<Result<PairLock>> held;
  {
    PairLockFile file(state);
    held.emplace(file.acquire("JDOE", 0ms));
    ASSERT_TRUE(*held);
  }
  EXPECT_FALSE(PairLock::acquire(state, "JDOE", 0ms)) << "still held after the file object went";
  held.reset();
  EXPECT_TRUE(PairLock::acquire(state, "JDOE", 0ms));
}

}  // namespace
}  // namespace agendasync::store
