// The CLI on PostgreSQL (issue 17): `database` naming a server selects it; `agendasync
// migrate` creates an organisation's schema, once even when several processes run it at the
// same moment; a node's commands refuse a schema that was not migrated; `init`, `orgs`,
// `tokens`, `users` and `status` work on the server with nothing in a file.
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

TEST_F(CliPostgres, InitOrgsTokensUsersAndStatusRunOnTheServer) {
  // A database of its own: init registers organisation default, which a shared one has.
  store::testing::ScratchDatabase scratch;
  auto database = scratch.create();
  ASSERT_TRUE(database) << database.error().message;
  std::filesystem::remove(config_);
  auto made = run({"--database", *database, "init", "--mail-domain", "example.com"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("schema agendasync_platform"), std::string::npos) << made.out;
  ASSERT_TRUE(std::filesystem::exists(config_)) << "init writes the configuration";
  EXPECT_NE(slurp(config_).find(*database), std::string::npos);
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    // The configuration and the captured output only: no SQLite file.
    EXPECT_TRUE(entry.path().extension() == ".toml" || entry.path().extension() == ".txt")
        << entry.path();
  }
  auto again = run({"init"});
  EXPECT_EQ(again.exit_code, 1) << "init never overwrites";
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;

  // Organisation default is there, seeded, and its users live in its schema.
  ASSERT_EQ(run({"users", "add", "anna"}).exit_code, 0);
  auto types = run({"activity-types", "list"});
  ASSERT_EQ(types.exit_code, 0) << types.err;
  EXPECT_NE(types.out.find("Personal"), std::string::npos) << types.out;
  auto settings = run({"settings", "show"});
  EXPECT_NE(settings.out.find("example.com"), std::string::npos) << settings.out << settings.err;

  // orgs: another organisation, a schema of its own; the listing never shows the server string.
  auto added = run({"orgs", "add", "contoso", "--name", "Contoso"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  auto shown = run({"orgs", "show", "contoso"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("PostgreSQL schema org_contoso"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("host="), std::string::npos) << shown.out;
  auto ambiguous = run({"users", "list"});
  EXPECT_NE(ambiguous.exit_code, 0);
  EXPECT_NE(ambiguous.err.find("--org"), std::string::npos) << ambiguous.err;
  ASSERT_EQ(run({"--org", "contoso", "users", "add", "bert"}).exit_code, 0);
  auto contoso_users = run({"--org", "contoso", "users", "list"});
  EXPECT_NE(contoso_users.out.find("bert"), std::string::npos);
  EXPECT_EQ(contoso_users.out.find("anna"), std::string::npos) << "organisations stay apart";

  // tokens: in the platform schema, listed per organisation.
  auto token = run({"--org", "contoso", "tokens", "create", "--role", "admin", "--label", "ops"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  EXPECT_EQ(token.out.rfind("ast_", 0), 0u) << token.out;
  auto listed = run({"--org", "contoso", "tokens", "list"});
  EXPECT_NE(listed.out.find("ops"), std::string::npos) << listed.out << listed.err;
  auto elsewhere = run({"--org", "default", "tokens", "list"});
  EXPECT_EQ(elsewhere.out.find("ops"), std::string::npos) << elsewhere.out;
  ASSERT_EQ(run({"tokens", "create", "--role", "operator"}).exit_code, 0);

  // status reads the organisation's sync state (no runs yet).
  auto status = run({"--org", "contoso", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;

  // migrate without --org: the platform schema and every organisation, each current.
  auto migrated = run({"migrate"});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_NE(migrated.out.find("schema agendasync_platform"), std::string::npos) << migrated.out;
  EXPECT_NE(migrated.out.find("schema org_contoso"), std::string::npos) << migrated.out;
  EXPECT_NE(migrated.out.find("schema org_default"), std::string::npos) << migrated.out;
  EXPECT_EQ(migrated.out.find("->"), std::string::npos) << "nothing left to do";

  // Removing the organisation drops its schema and its tokens.
  auto removed = run({"orgs", "remove", "contoso", "--confirm", "contoso"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  auto schema = store::pg::Connection::open({*database, ""});
  ASSERT_TRUE(schema);
  EXPECT_EQ((*schema)
                ->query_int("SELECT count(*) FROM pg_namespace WHERE nspname = 'org_contoso'")
                .value(),
            0);
  EXPECT_EQ((*schema)
                ->query_int("SELECT count(*) FROM agendasync_platform.service_token "
                            "WHERE org = 'contoso'")
                .value(),
            0);
}

}  // namespace
}  // namespace agendasync::cli
