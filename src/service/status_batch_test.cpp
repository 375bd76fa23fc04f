// When the statuses of idle runs are written (issue 14 §4): never later than the end of the
// last run in flight or max_delay, at once for a run that was not quiet, always in order.
#include "service/status_batch.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>

namespace agendasync::service {
namespace {

struct Recorder {
  std::vector<std::vector<std::string>> writes;
  std::chrono::steady_clock::time_point now{};
  StatusBatch<std::string> batch{[this](std::vector<std::string>& items) -> Result<void> {
                                   writes.push_back(items);
                                   return {};
                                 },
                                 {3, std::chrono::milliseconds(1000), [this] { return now; }}};
};

TEST(StatusBatch, ASingleRunIsWrittenWhenItEnds) {
  Recorder r;
  r.batch.begin();
  ASSERT_TRUE(r.batch.end({"anna"}, /*quiet=*/true));
  EXPECT_EQ(r.writes, (std::vector<std::vector<std::string>>{{"anna"}}));
  EXPECT_EQ(r.batch.waiting(), 0u);
}

TEST(StatusBatch, QuietRunsWaitForTheLastRunInFlight) {
  Recorder r;
  r.batch.begin();
  r.batch.begin();
  r.batch.begin();
  ASSERT_TRUE(r.batch.end({"anna"}, true));
  ASSERT_TRUE(r.batch.end({"ben"}, true));
  EXPECT_TRUE(r.writes.empty());
  EXPECT_EQ(r.batch.waiting(), 2u);
  ASSERT_TRUE(r.batch.end({"carol"}, true));
  EXPECT_EQ(r.writes, (std::vector<std::vector<std::string>>{{"anna", "ben", "carol"}}));
}

TEST(StatusBatch, ARunThatWasNotQuietIsWrittenAtOnceAfterThoseBeforeIt) {
  Recorder r;
  for (int i = 0; i < 3; ++i) r.batch.begin();
  ASSERT_TRUE(r.batch.end({"anna"}, true));
  ASSERT_TRUE(r.batch.end({"ben (2 created)"}, /*quiet=*/false));
  EXPECT_EQ(r.writes, (std::vector<std::vector<std::string>>{{"anna", "ben (2 created)"}}));
}

TEST(StatusBatch, ManyWaitingAreWrittenTogetherThoughRunsGoOn) {
  Recorder r;
  for (int i = 0; i < 10; ++i) r.batch.begin();
  for (const char* user : {"a", "b", "c", "d"}) ASSERT_TRUE(r.batch.end({user}, true));
  // max_items is 3: the third run's end wrote three; the fourth waits.
  EXPECT_EQ(r.writes, (std::vector<std::vector<std::string>>{{"a", "b", "c"}}));
  EXPECT_EQ(r.batch.waiting(), 1u);
}

TEST(StatusBatch, AStatusWaitsNoLongerThanMaxDelayThoughARunIsStillInFlight) {
  Recorder r;
  r.batch.begin();  // a long first sync
  r.batch.begin();
  ASSERT_TRUE(r.batch.end({"anna"}, true));
  r.now += std::chrono::milliseconds(999);
  ASSERT_TRUE(r.batch.flush_due());
  EXPECT_TRUE(r.writes.empty());
  r.now += std::chrono::milliseconds(1);
  ASSERT_TRUE(r.batch.flush_due());
  EXPECT_EQ(r.writes, (std::vector<std::vector<std::string>>{{"anna"}}));
  // A run ending late also writes what waited too long.
  r.batch.begin();
  ASSERT_TRUE(r.batch.end({"ben"}, true));
  EXPECT_EQ(r.batch.waiting(), 1u);
  r.now += std::chrono::seconds(2);
  r.batch.begin();
  ASSERT_TRUE(r.batch.end({"carol"}, true));
  EXPECT_EQ(r.writes.back(), (std::vector<std::string>{"ben", "carol"}));
}

TEST(StatusBatch, AFailedWriteIsTheEndingRunsResult) {
  StatusBatch<std::string> batch([](std::vector<std::string>&) -> Result<void> {
    return fail(ErrorKind::kTransient, "database is locked");
  });
  batch.begin();
  auto ended = batch.end({"anna"}, true);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().message, "database is locked");
}

TEST(StatusBatch, WritesFromManyThreadsKeepEveryStatusInOrderPerThread) {
  std::mutex mutex;
  std::vector<std::string> written;
  StatusBatch<std::string> batch(
      [&](std::vector<std::string>& items) -> Result<void> {
        std::lock_guard lock(mutex);
        written.insert(written.end(), items.begin(), items.end());
        return {};
      },
      {4, std::chrono::milliseconds(1000)});
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        batch.begin();
        ASSERT_TRUE(batch.end({std::to_string(t) + ":" + std::to_string(i)}, i % 7 != 0));
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(batch.waiting(), 0u);  // the last run to end wrote what waited
  ASSERT_EQ(written.size(), 800u);
  std::map<int, int> next;
  for (const auto& item : written) {
    const int t = std::stoi(item.substr(0, item.find(':')));
    const int i = std::stoi(item.substr(item.find(':') + 1));
    EXPECT_EQ(i, next[t]++) << "thread " << t << "'s statuses out of order";
  }
}

}  // namespace
}  // namespace agendasync::service
