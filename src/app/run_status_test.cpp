// The last run per user survives in the state database and keeps the last success across
// failures.
#include "app/run_status.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "store/sync_state/sqlite_sync_state.h"

namespace agendasync::app {
namespace {

TEST(RunStatus, RecordsAndKeepsLastSuccess) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("agendasync-run-status-" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  const Instant t1{std::chrono::seconds{1000}};
  const Instant t2{std::chrono::seconds{2000}};
  {
    auto db = store::open_state_database(path);
    ASSERT_TRUE(db) << db.error().message;
    store::SqliteRunStatus statuses(*db);
    EXPECT_FALSE(statuses.read("J DOE/1").value());
    sync::RunReport synced;
    synced.summary.sides[sync::Side::kRemote].created = 1;
    ASSERT_TRUE(statuses.record("J DOE/1", finished_run(t1, "synced", synced)));
    ASSERT_TRUE(statuses.record(
        "J DOE/1", failed_run(t2, Error::make(ErrorKind::kTransient, "exsim down\nretry"))));
    EXPECT_FALSE(statuses.read("someone else").value());
  }
  // A new connection (another process: `agendasync status` beside the daemon) reads it.
  auto db = store::open_state_database(path);
  ASSERT_TRUE(db) << db.error().message;
  auto status = store::SqliteRunStatus(*db).read("J DOE/1");
  ASSERT_TRUE(status && *status);
  EXPECT_EQ((*status)->at, t2);
  EXPECT_EQ((*status)->outcome, "failed");
  EXPECT_EQ((*status)->last_error, "exsim down\nretry");
  EXPECT_EQ((*status)->last_success, t1);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

TEST(RunStatus, QuarantinedRunNamesItsReasonAndIsNoSuccess) {
  sync::RunReport report;
  report.outcome = sync::RunOutcome::kQuarantined;
  report.quarantine_reason = "the run would delete 40 items";
  const Instant at{std::chrono::seconds{3000}};
  const RunStatus status = finished_run(at, "quarantined", report);
  EXPECT_EQ(status.last_error, "the run would delete 40 items");
  EXPECT_EQ(status.last_success, Instant{});
  sync::RunReport synced;
  EXPECT_EQ(finished_run(at, "synced", synced).last_success, at);
}

}  // namespace
}  // namespace agendasync::app
