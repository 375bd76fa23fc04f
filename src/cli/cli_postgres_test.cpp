// The CLI on PostgreSQL (issue 17): `database` naming a server selects it; `agendasync
// migrate` creates an organisation's schema, once even when several processes run it at the
// same moment; a node's commands refuse a schema that was not migrated.
#include <fcntl.h>

#include "cli/cli_test_support.h"
#include "store/contract_support.h"

namespace agendasync::cli {
namespace {

class CliPostgres : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    auto server = store::testing::test_server();
    ASSERT_TRUE(server) << server.error().message;
    server_ = *server;
    org_ = "t-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
    std::ofstream(config_) << "database = \"" << server_ << "\"\n";
  }
  void TearDown() override {
    if (auto admin = store::pg::Connection::open({server_, ""})) {
      std::string schema = "org_" + org_;
      std::replace(schema.begin(), schema.end(), '-', '_');
      (void)(*admin)->exec("DROP SCHEMA IF EXISTS " + store::pg::quote_identifier(schema) +
                           " CASCADE");
    }
    Cli::TearDown();
  }

  /// Starts agendasync with `args` without waiting; its output goes to files named by `tag`.
  pid_t start(std::vector<std::string> args, const std::string& tag) {
    args.insert(args.end(), {"--config", config_.string()});
    const auto out_path = dir_ / (tag + ".out");
    const auto err_path = dir_ / (tag + ".err");
    pid_t pid = fork();
    if (pid == 0) {
      ::dup2(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 1);
      ::dup2(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 2);
      std::vector<char*> argv;
      std::string binary = AGENDASYNC_CLI_BINARY;
      argv.push_back(binary.data());
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      _exit(127);
    }
    return pid;
  }

  static inline int counter_ = 0;
  std::string server_;
  std::string org_;
};

TEST_F(CliPostgres, CommandsRefuseAnOrganisationThatWasNotMigrated) {
  auto refused = run({"--org", org_, "users", "list"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("agendasync migrate"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / server_)) << "a server string is not a file";
}

TEST_F(CliPostgres, MigrateFromSeveralProcessesAtOnceMakesTheSchemaOnce) {
  constexpr int kProcesses = 4;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    children.push_back(start({"--org", org_, "migrate"}, "migrate" + std::to_string(i)));
  }
  int made = 0, current = 0;
  for (int i = 0; i < kProcesses; ++i) {
    int status = 0;
    ASSERT_EQ(::waitpid(children[static_cast<std::size_t>(i)], &status, 0),
              children[static_cast<std::size_t>(i)]);
    const std::string out = slurp(dir_ / ("migrate" + std::to_string(i) + ".out"));
    const std::string err = slurp(dir_ / ("migrate" + std::to_string(i) + ".err"));
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
    EXPECT_EQ(out.find("password"), std::string::npos);
    if (out.find("0 -> ") != std::string::npos) ++made;
    if (out.find("nothing to do") != std::string::npos) ++current;
  }
  EXPECT_EQ(made, 1);
  EXPECT_EQ(current, kProcesses - 1);

  ASSERT_EQ(run({"--org", org_, "users", "add", "ANNA"}).exit_code, 0);
  auto listed = run({"--org", org_, "users", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("ANNA"), std::string::npos) << listed.out;
  auto again = run({"--org", org_, "migrate"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;
}

TEST_F(CliPostgres, InitRefusesAServerAndCreatesNoFileNamedLikeIt) {
  std::filesystem::remove(config_);
  auto refused = run({"--database", server_, "init"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("agendasync --database"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(config_));
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find("host="), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace agendasync::cli
