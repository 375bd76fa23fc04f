// The daemon's sync pool keeps the organisation's users, settings and activity types across
// runs and reads only the agenda's directory revision per run (issue 14 §4). What it keeps
// must never be stale: a change made between two runs (by another process: the CLI, another
// node) is what the next run uses. On SQLite and on PostgreSQL, against the real exsim.
#include <gtest/gtest.h>

#include "config/config.h"
#include "daemon/sync_pool.h"
#include "store/contract_support.h"
#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

enum class Engine { kSqlite, kPostgres };

class DaemonPool : public ::testing::TestWithParam<Engine> {
 protected:
  static WorldOptions options() {
    WorldOptions options;
    if (GetParam() == Engine::kPostgres) {
      auto server = store::testing::test_server();
      EXPECT_TRUE(server) << server.error().message;
      options.postgres = server ? *server : "host=127.0.0.1 port=1";
    }
    return options;
  }
  /// The daemon's pool for this world's organisation, as `serve` opens it.
  std::unique_ptr<daemon::SyncAppPool> pool() {
    auto config = config::load_config(world_.config_path());
    EXPECT_TRUE(config) << config.error().message;
    if (!config) return nullptr;
    auto opened = daemon::SyncAppPool::open(*config, {}, world_.org());
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }
  std::vector<std::string> exchange_subjects(const std::string& mailbox) {
    std::vector<std::string> subjects;
    for (const auto& item : world_.exchange_items(mailbox)) subjects.push_back(item["subject"]);
    std::sort(subjects.begin(), subjects.end());
    return subjects;
  }

  World world_{options()};
};

INSTANTIATE_TEST_SUITE_P(Engines, DaemonPool, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const auto& info) {
                           return std::string(info.param == Engine::kSqlite ? "sqlite"
                                                                            : "postgres");
                         });

TEST_P(DaemonPool, AnActivityTypeTurnedOffBetweenTwoRunsIsHonouredByTheNextRun) {
  world_.add_user("jdoe");
  ASSERT_TRUE(world_.store().put_activity_type({"Visit", true, false, false}));
  auto daemon = pool();
  ASSERT_TRUE(daemon);
  world_.add_appointment("jdoe", "Visit while synced", future(1), 60, {}, "Visit");
  auto first = daemon->run("jdoe");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(exchange_subjects("jdoe@example.com"),
            (std::vector<std::string>{"Visit while synced"}));

  // Changed in the agenda, not through the pool (as the CLI or another node would): R16.
  ASSERT_TRUE(world_.store().put_activity_type({"Visit", false, false, false}));
  world_.add_appointment("jdoe", "Visit not synced", future(2), 60, {}, "Visit");
  auto second = daemon->run("jdoe");
  ASSERT_TRUE(second) << second.error().message;
  for (const auto& subject : exchange_subjects("jdoe@example.com")) {
    EXPECT_NE(subject, "Visit not synced") << "the run used the activity types of before";
  }
}

TEST_P(DaemonPool, ASettingChangedBetweenTwoRunsIsUsedByTheNextRun) {
  world_.add_user("jdoe");
  auto daemon = pool();
  ASSERT_TRUE(daemon);
  auto first = daemon->run("jdoe");
  ASSERT_TRUE(first) << first.error().message;

  // The direction becomes Exchange -> host only: a new host appointment stays in the host.
  auto settings = world_.store().settings().value();
  settings.sync.direction = SyncDirection::kFromExchange;
  ASSERT_TRUE(world_.store().set_settings(settings));
  world_.add_appointment("jdoe", "Host only now", future(1));
  auto second = daemon->run("jdoe");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(exchange_subjects("jdoe@example.com").empty())
      << "the run used the direction of before";
}

TEST_P(DaemonPool, AUserDisabledOrBlockedBetweenTwoRunsIsNotSynced) {
  world_.add_user("jdoe");
  world_.add_user("asmith");
  auto daemon = pool();
  ASSERT_TRUE(daemon);
  ASSERT_TRUE(daemon->run("jdoe"));
  ASSERT_TRUE(daemon->run("asmith"));

  world_.update_user("jdoe", [](User& user) { user.sync_enabled = false; });
  world_.update_user("asmith", [](User& user) { user.blocked = true; });
  world_.add_appointment("jdoe", "After jdoe turned sync off", future(1));
  world_.add_appointment("asmith", "After asmith was blocked", future(1));
  auto off = daemon->run("jdoe");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->outcome, "skipped");
  auto blocked = daemon->run("ASMITH");  // names compare without case, as in the agenda
  ASSERT_TRUE(blocked) << blocked.error().message;
  EXPECT_EQ(blocked->outcome, "skipped");
  EXPECT_TRUE(exchange_subjects("jdoe@example.com").empty());
  EXPECT_TRUE(exchange_subjects("asmith@example.com").empty());

  // Turned on again, and a user added meanwhile: both run.
  world_.update_user("jdoe", [](User& user) { user.sync_enabled = true; });
  world_.add_user("bwayne");
  auto on = daemon->run("jdoe");
  ASSERT_TRUE(on) << on.error().message;
  EXPECT_EQ(on->outcome, "synced");
  EXPECT_EQ(exchange_subjects("jdoe@example.com"),
            (std::vector<std::string>{"After jdoe turned sync off"}));
  auto added = daemon->run("bwayne");
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->outcome, "synced");
  auto unknown = daemon->run("nobody");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);
}

// An idle run's status waits to be written with others only while other runs are in flight
// (issue 14 §4, service/status_batch.h): the last run to end writes it, so `agendasync
// status` (sync_run_status) shows each run once the pool is idle, its summary included.
TEST_P(DaemonPool, EveryRunsStatusIsWrittenOnceNoOtherRunIsInFlight) {
  world_.add_user("jdoe");
  auto daemon = pool();
  ASSERT_TRUE(daemon);
  auto last_run = [&]() -> std::optional<app::RunStatus> {
    std::optional<app::RunStatus> found;
    EXPECT_TRUE(daemon->with_app([&](app::SyncApp& app) -> Result<void> {
      auto status = app.status("jdoe");
      if (!status) return std::unexpected(status.error());
      found = status->last_run;
      return {};
    }));
    return found;
  };
  world_.add_appointment("jdoe", "First", future(1));
  ASSERT_TRUE(daemon->run("jdoe"));
  auto first = last_run();
  ASSERT_TRUE(first) << "the run that created an item recorded its status";
  EXPECT_EQ(first->outcome, "synced");
  const auto idle_started = std::chrono::system_clock::now();
  auto idle = daemon->run("jdoe");
  ASSERT_TRUE(idle) << idle.error().message;
  auto second = last_run();
  ASSERT_TRUE(second);
  EXPECT_NE(second->summary, first->summary) << "the idle run's status was not written";
  EXPECT_GE(second->at, std::chrono::floor<std::chrono::seconds>(idle_started));
}

}  // namespace
}  // namespace agendasync::e2e
