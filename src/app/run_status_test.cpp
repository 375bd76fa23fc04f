// The last run per user survives in a file and keeps the last success across failures.
#include "app/run_status.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace agendasync::app {
namespace {

TEST(RunStatusFile, RecordsAndKeepsLastSuccess) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("agendasync-run-status-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  RunStatusFile file(dir);
  EXPECT_FALSE(file.read("J DOE/1"));
  const Instant t1{std::chrono::seconds{1000}};
  const Instant t2{std::chrono::seconds{2000}};
  ASSERT_TRUE(file.record("J DOE/1", {t1, "synced", "host: 1 created", "", t1}));
  ASSERT_TRUE(file.record("J DOE/1", {t2, "failed", "", "exsim down\nretry", {}}));
  auto status = file.read("J DOE/1");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->at, t2);
  EXPECT_EQ(status->outcome, "failed");
  EXPECT_EQ(status->last_error, "exsim down retry");
  EXPECT_EQ(status->last_success, t1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace agendasync::app
