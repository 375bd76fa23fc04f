// The reader pool opens readers only when every open one is busy, never more than its cap,
// hands out the most recently used first, and closes readers idle past the limit down to
// the ones it keeps.
#include "store/reader_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace agendasync::store {
namespace {

using namespace std::chrono_literals;

struct Reader {
  explicit Reader(std::atomic<int>& live, int id) : live(live), id(id) { ++live; }
  ~Reader() { --live; }
  std::atomic<int>& live;
  int id;
};

struct ReaderPoolTest : ::testing::Test {
  std::atomic<int> live{0};
  std::atomic<int> opened{0};
  bool fail_next = false;
  ReaderPool<Reader>::Opener opener() {
    return [this]() -> Result<std::unique_ptr<Reader>> {
      if (fail_next) {
        fail_next = false;
        return fail(ErrorKind::kTransient, "cannot open");
      }
      return std::make_unique<Reader>(live, ++opened);
    };
  }
};

TEST_F(ReaderPoolTest, OpensNothingUntilAReadAndReusesOneReaderForSequentialReads) {
  ReaderPool<Reader> pool(opener(), {.max_open = 4, .keep_open = 1, .idle_limit = 1h});
  EXPECT_EQ(live, 0);
  for (int i = 0; i < 10; ++i) {
    auto id = pool.with([](Reader& r) { return Result<int>(r.id); });
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, 1);
  }
  EXPECT_EQ(opened, 1);
  EXPECT_EQ(pool.open_count(), 1u);
}

TEST_F(ReaderPoolTest, ConcurrentReadsOpenUpToTheCapAndWaitBeyondIt) {
  ReaderPool<Reader> pool(opener(), {.max_open = 3, .keep_open = 1, .idle_limit = 1h});
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto done = pool.with([&](Reader&) {
          const int now = ++inside;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(1ms);
          --inside;
          return Result<void>{};
        });
        ASSERT_TRUE(done);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(most, 3);
  EXPECT_GE(most, 2) << "readers run alongside each other";
  EXPECT_LE(opened, 3);
  EXPECT_EQ(live, static_cast<int>(pool.open_count()));
}

TEST_F(ReaderPoolTest, IdleReadersCloseAfterTheLimitDownToTheKeptOne) {
  ReaderPool<Reader> pool(opener(), {.max_open = 4, .keep_open = 1, .idle_limit = 50ms});
  // Four readers at once.
  std::vector<std::thread> threads;
  std::atomic<int> waiting{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      (void)pool.with([&](Reader&) {
        ++waiting;
        while (waiting < 4) std::this_thread::sleep_for(1ms);
        return Result<void>{};
      });
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(live, 4);
  pool.trim();
  EXPECT_EQ(live, 4) << "not idle long enough yet";
  std::this_thread::sleep_for(80ms);
  pool.trim();
  EXPECT_EQ(live, 1) << "the kept reader stays open";
  EXPECT_EQ(pool.open_count(), 1u);
  // A read keeps using the kept one; nothing new is opened.
  const int before = opened;
  ASSERT_TRUE(pool.with([](Reader&) { return Result<void>{}; }));
  EXPECT_EQ(opened, before);
}

TEST_F(ReaderPoolTest, ReadsCloseTheOthersOnceTheyHaveIdledPastTheLimit) {
  // Without trim(): a reader handed back closes the ones idle past the limit (an organisation
  // read every poll shrinks back to one reader after a burst).
  ReaderPool<Reader> pool(opener(), {.max_open = 2, .keep_open = 1, .idle_limit = 50ms});
  std::atomic<bool> hold{true};
  std::thread other([&] {
    (void)pool.with([&](Reader&) {
      while (hold) std::this_thread::sleep_for(1ms);
      return Result<void>{};
    });
  });
  while (pool.open_count() < 1) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(pool.with([](Reader&) { return Result<void>{}; }));
  hold = false;
  other.join();
  EXPECT_EQ(live, 2);
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(pool.with([](Reader&) { return Result<void>{}; }));
  }
  EXPECT_EQ(live, 1);
}

TEST_F(ReaderPoolTest, AReaderThatCannotBeOpenedIsAnErrorAndFreesItsPlace) {
  ReaderPool<Reader> pool(opener(), {.max_open = 1, .keep_open = 1, .idle_limit = 1h});
  fail_next = true;
  auto failed = pool.with([](Reader&) { return Result<int>(1); });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "cannot open");
  EXPECT_EQ(pool.open_count(), 0u);
  auto next = pool.with([](Reader& r) { return Result<int>(r.id); });
  ASSERT_TRUE(next) << "the failed open does not hold the only place";
}

}  // namespace
}  // namespace agendasync::store
