// `agendasync serve` as a real process against exsim (issue 8): an appointment created over
// the REST API reaches the mailbox; a change made in "Outlook" reaches the host change feed
// through the EWS streaming wake-up (the safety net is an hour away, so nothing else could
// bring it); SIGTERM ends the daemon with exit 0 and leaves no pending journal.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "store/sync_state/sqlite_sync_state.h"
#include "tests/demo/serve_process.h"
#include "tests/demo/serve_test_support.h"
#include "tests/e2e/world.h"

namespace agendasync::demotest {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(ServeE2e, ApiToExchangeStreamingBackAndCleanStop) {
  e2e::World world;
  world.add_user("JDOE");
  const std::string token = integration_token(world);
  auto key = world.cli({"secrets", "new-key", "--file", (world.dir() / "keys").string()});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  EXPECT_EQ(
      std::filesystem::status(world.dir() / "keys").permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  ServeProcess serve(e2e::agendasync_binary(),
                     {"--config", world.config_path().string(), "serve", "--listen", "127.0.0.1:0",
                      "--secret-key-file", (world.dir() / "keys").string(), "--safety-net-minutes",
                      "60", "--watch-refresh-seconds", "1"},
                     world.dir() / "serve.log");
  Api api(serve.port(), token);

  // The start-up catch-up sync runs; then the watcher subscribes.
  ASSERT_TRUE(eventually([&] {
    return serve.log().find("mailbox_watch_started") != std::string::npos;
  })) << serve.log();

  // Host -> Exchange: created over the API, debounced, synced.
  auto [status, created] = api.call("POST", "/api/v1/appointments",
                                    {{"subject", "Planning via API"},
                                     {"start", "2027-01-12T09:00:00Z"},
                                     {"end", "2027-01-12T10:00:00Z"},
                                     {"time_zone", "Europe/Amsterdam"},
                                     {"owner", "JDOE"},
                                     {"participants", json::array()}});
  ASSERT_EQ(status, 201) << created.dump();
  const auto host_id = created.at("id").get<std::int64_t>();
  long exchange_id = -1;
  ASSERT_TRUE(eventually([&] {
    for (const auto& item : world.exchange_items("jdoe@example.com")) {
      if (item.value("subject", "") == "Planning via API") exchange_id = item.value("id", -1L);
    }
    return exchange_id >= 0;
  })) << serve.log();

  // Exchange -> host: the streaming notification wakes JDOE's pair.
  auto [head_status, head] = api.call("GET", "/api/v1/changes?since=0&limit=1000");
  ASSERT_EQ(head_status, 200);
  const auto since = head.at("next").get<std::int64_t>();
  const auto wakeups_before = count(serve.log(), "\"event\":\"mailbox_changed\"");
  world.outlook_update("jdoe@example.com", exchange_id,
                       {{"subject", "Planning (moved in Outlook)"}});
  ASSERT_TRUE(eventually([&] {
    auto [code, feed] = api.call("GET", "/api/v1/changes?since=" + std::to_string(since));
    if (code != 200) return false;
    for (const auto& change : feed.at("changes")) {
      if (!same_id(change.at("id"), host_id)) continue;
      auto [item_code, item] = api.call("GET", "/api/v1/appointments/" + std::to_string(host_id));
      if (item_code == 200 && item.value("subject", "") == "Planning (moved in Outlook)") {
        return true;
      }
    }
    return false;
  })) << serve.log();
  EXPECT_GT(count(serve.log(), "\"event\":\"mailbox_changed\""), wakeups_before);
  EXPECT_EQ(world.outbox_size(), 0u);  // R39: nobody was mailed

  // Graceful stop: exit 0, nothing left in the journal, the stop logged.
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.log();
  EXPECT_NE(serve.log().find("server_stopped"), std::string::npos);
  auto state = store::SqliteSyncState::open(world.state_path(), "JDOE");
  ASSERT_TRUE(state) << state.error().message;
  auto pending = (*state)->pending_journal();
  ASSERT_TRUE(pending);
  EXPECT_TRUE(pending->empty());
  // The secret of the service account never reaches the log.
  EXPECT_EQ(serve.log().find("s3cret"), std::string::npos);
  // Without --fsync-every-write the API commits with synchronous=NORMAL, and says so.
  EXPECT_NE(serve.log().find("\"api_commits\":\"synchronous=NORMAL\""), std::string::npos);
}

// An operator who wants every acknowledged API write to survive a power loss asks for it; the
// daemon still serves writes and reports the mode it runs in.
TEST(ServeE2e, FsyncEveryWriteMakesApiCommitsFull) {
  e2e::World world;
  world.add_user("JDOE");
  const std::string token = integration_token(world);
  ServeProcess serve(e2e::agendasync_binary(),
                     {"--config", world.config_path().string(), "serve", "--listen", "127.0.0.1:0",
                      "--fsync-every-write", "--no-streaming", "--safety-net-minutes", "60"},
                     world.dir() / "serve.log");
  Api api(serve.port(), token);
  auto [status, created] = api.call("POST", "/api/v1/appointments",
                                    {{"subject", "Durable"},
                                     {"start", "2027-01-12T09:00:00Z"},
                                     {"end", "2027-01-12T10:00:00Z"},
                                     {"time_zone", "Europe/Amsterdam"},
                                     {"owner", "JDOE"},
                                     {"participants", json::array()}});
  EXPECT_EQ(status, 201) << created.dump();
  EXPECT_NE(serve.log().find("\"api_commits\":\"synchronous=FULL\""), std::string::npos)
      << serve.log();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.log();
}

// Issue 13: an Outlook item whose subject is Latin-1 bytes reaches the agenda repaired; the
// daemon logs a warning naming the item id and field, never the text, and serves it as JSON.
TEST(ServeE2e, TextThatIsNotUtf8IsLoggedAsRepairedAndServed) {
  e2e::World world;
  world.add_user("JDOE");
  const std::string token = integration_token(world);
  world.outlook_create_private(
      "jdoe@example.com", "Caf\xE9 lunch",
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) +
          std::chrono::days{2} + 12h);
  ServeProcess serve(e2e::agendasync_binary(),
                     {"--config", world.config_path().string(), "serve", "--listen", "127.0.0.1:0",
                      "--no-streaming", "--safety-net-minutes", "60"},
                     world.dir() / "serve.log");
  Api api(serve.port(), token);
  // The start-up catch-up sync reads the item.
  ASSERT_TRUE(eventually([&] {
    return serve.log().find("\"event\":\"text_repaired\"") != std::string::npos;
  })) << serve.log();
  const std::string log = serve.log();
  const auto line_start = log.rfind('\n', log.find("\"event\":\"text_repaired\"")) + 1;
  const std::string line = log.substr(line_start, log.find('\n', line_start) - line_start);
  EXPECT_NE(line.find("\"level\":\"warn"), std::string::npos) << line;
  EXPECT_NE(line.find("\"fields\":[\"subject\"]"), std::string::npos) << line;
  EXPECT_NE(line.find("\"item\":\""), std::string::npos) << line;
  EXPECT_EQ(log.find("lunch"), std::string::npos) << "the text never reaches the log";

  auto [status, listed] = api.call("GET", "/api/v1/appointments?user=JDOE", nullptr);
  ASSERT_EQ(status, 200) << listed.dump();
  EXPECT_NE(listed.dump().find("Caf\xEF\xBF\xBD lunch"), std::string::npos) << listed.dump();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.log();
}

}  // namespace
}  // namespace agendasync::demotest
