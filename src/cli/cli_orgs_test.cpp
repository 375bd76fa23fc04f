// `agendasync orgs` and `--org` (issue 16 §5): organisations made, shown, changed and removed
// from the command line; a connection's secret read from the environment, never printed;
// commands acting on the organisation --org names, and refusing to guess when there are
// several.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "cli/cli_test_support.h"

namespace agendasync::cli {
namespace {

class CliOrgs : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    init();
    ::setenv("AGENDASYNC_SECRET_KEY",
             "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
    ::setenv("CONTOSO_PASSWORD", "pa55-from-the-environment", 1);
  }
  void TearDown() override {
    ::unsetenv("AGENDASYNC_SECRET_KEY");
    ::unsetenv("CONTOSO_PASSWORD");
    Cli::TearDown();
  }
};

TEST_F(CliOrgs, AddSetShowListAndRemove) {
  // One organisation: commands need no --org.
  ASSERT_EQ(run({"users", "add", "ANNA"}).exit_code, 0);
  auto added = run({"orgs", "add", "contoso", "--name", "Contoso Ltd"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(run({"orgs", "add", "contoso"}).exit_code, 1);
  auto bad = run({"orgs", "add", "Not An Id"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("lower-case"), std::string::npos) << bad.err;

  std::ofstream(dir_ / "contoso.json")
      << R"({"backend":"ews","ews":{"url":"https://mail.contoso.com/EWS/Exchange.asmx",)"
      << R"("auth":"ntlm","domain":"CONTOSO","user":"svc-sync"}})";
  auto set = run({"orgs", "set", "contoso", "--connection", (dir_ / "contoso.json").string(),
                  "--secret", "exchange_password=env:CONTOSO_PASSWORD"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto shown = run({"orgs", "show", "contoso"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("mail.contoso.com"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("\"password_set\": true"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("pa55"), std::string::npos);
  EXPECT_EQ(store::testing::database_image(database_).find("pa55-from-the-environment"),
            std::string::npos);
  // A secret on the command line itself is refused: it would sit in the shell history.
  auto inline_secret = run({"orgs", "set", "contoso", "--secret", "exchange_password=hunter2"});
  EXPECT_EQ(inline_secret.exit_code, 2);
  EXPECT_NE(inline_secret.err.find("env:"), std::string::npos);

  // Two organisations: a command must say which.
  auto ambiguous = run({"users", "list"});
  EXPECT_EQ(ambiguous.exit_code, 1);
  EXPECT_NE(ambiguous.err.find("--org"), std::string::npos) << ambiguous.err;
  ASSERT_EQ(run({"--org", "contoso", "users", "add", "BOB"}).exit_code, 0);
  auto contoso_users = run({"--org", "contoso", "users", "list"});
  ASSERT_EQ(contoso_users.exit_code, 0) << contoso_users.err;
  EXPECT_NE(contoso_users.out.find("BOB"), std::string::npos);
  EXPECT_EQ(contoso_users.out.find("ANNA"), std::string::npos);
  auto default_users = run({"--org", "default", "users", "list"});
  EXPECT_NE(default_users.out.find("ANNA"), std::string::npos);
  EXPECT_EQ(default_users.out.find("BOB"), std::string::npos);
  EXPECT_EQ(run({"--org", "nowhere", "users", "list"}).exit_code, 1);

  // Tokens belong to one organisation; operators' to none.
  EXPECT_EQ(run({"--org", "contoso", "tokens", "create", "--role", "admin"}).exit_code, 0);
  EXPECT_EQ(run({"tokens", "create", "--role", "operator"}).exit_code, 0);
  auto operator_in_org = run({"--org", "contoso", "tokens", "create", "--role", "operator"});
  EXPECT_EQ(operator_in_org.exit_code, 1);
  auto contoso_tokens = run({"--org", "contoso", "tokens", "list"});
  EXPECT_NE(contoso_tokens.out.find("admin"), std::string::npos);
  EXPECT_EQ(contoso_tokens.out.find("operator"), std::string::npos);

  auto suspended = run({"orgs", "set", "contoso", "--suspend"});
  ASSERT_EQ(suspended.exit_code, 0) << suspended.err;
  auto listed = run({"orgs", "list"});
  EXPECT_NE(listed.out.find("suspended"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("ews"), std::string::npos) << listed.out;

  EXPECT_EQ(run({"orgs", "remove", "contoso"}).exit_code, 2);  // --confirm missing
  EXPECT_EQ(run({"orgs", "remove", "default", "--confirm", "default"}).exit_code, 1);
  ASSERT_EQ(run({"orgs", "remove", "contoso", "--confirm", "contoso"}).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "organisations" / "contoso"));
  // One organisation again: no --org needed.
  EXPECT_EQ(run({"users", "list"}).exit_code, 0);
}

}  // namespace
}  // namespace agendasync::cli
