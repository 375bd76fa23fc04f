// Many nodes on one PostgreSQL (issue 17, CTest label `multinode`, optimised build only): real
// `agendasync` processes on one organisation at the same moment, as two nodes would be.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "store/contract_support.h"
#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

/// Starts `agendasync --org ORG ARGS --config CONFIG` without waiting; output to `tag`.out/err.
pid_t start_node(World& world, const std::vector<std::string>& args, const std::string& tag) {
  std::vector<std::string> argv{agendasync_binary(), "--org", world.org()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", world.config_path().string()});
  return spawn_command(argv, world.dir() / (tag + ".out"), world.dir() / (tag + ".err"));
}

TEST(MultiNode, TwoNodesSyncingOneOrganisationAtOnceCreateNothingTwice) {
  auto server = store::testing::test_server();
  ASSERT_TRUE(server) << server.error().message;
  WorldOptions options;
  options.postgres = *server;
  World world(options);
  const std::vector<std::string> users{"jdoe", "asmith", "bwayne", "ckent"};
  for (const auto& user : users) {
    world.add_user(user);
    for (int i = 0; i < 5; ++i) {
      world.add_appointment(user, user + " item " + std::to_string(i), future(i, 9));
    }
  }
  world.outlook_create("jdoe@example.com", "From Outlook", future(6));
  world.close_store();

  // Two nodes start the same organisation's first syncs at the same moment: each pair's
  // lease lets one of them sync it, the other waits and then finds it in step.
  const pid_t a = start_node(world, {"sync"}, "node-a");
  const pid_t b = start_node(world, {"sync"}, "node-b");
  for (auto [pid, tag] : {std::pair{a, "node-a"}, std::pair{b, "node-b"}}) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << tag << ": " << read_text(world.dir() / (std::string(tag) + ".err"));
  }
  for (const auto& user : users) {
    const auto items = world.exchange_items(user + "@example.com");
    EXPECT_TRUE(duplicate_subjects(items).empty()) << user;
    EXPECT_EQ(items.size(), user == "jdoe" ? 6u : 5u) << user;
  }
  EXPECT_EQ(world.host_items("jdoe").size(), 6u) << "the Outlook item reached the host once";

  auto again = world.cli({"sync"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(world.exchange_items("jdoe@example.com").size(), 6u);
  EXPECT_EQ(world.host_items("jdoe").size(), 6u);
}

}  // namespace
}  // namespace agendasync::e2e
