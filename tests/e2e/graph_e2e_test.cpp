// Exchange Online through Microsoft Graph end to end: the real `agendasync` binary's doctor
// against exsim's Entra ID token endpoint and Graph endpoints (token, roles, the admin-consent
// URL, each mailbox; a missing role and a wrong secret named with what to do), and a sync
// whose delta token expired resyncing in full without duplicates.

#include <gtest/gtest.h>

#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

WorldOptions graph_world() {
  WorldOptions options;
  options.backend = Backend::kGraph;
  return options;
}

TEST(GraphDoctor, AllChecksPassAndTheAdminConsentUrlIsPrinted) {
  World world(Backend::kGraph);
  world.add_user("jdoe");
  world.add_user("asmith");
  auto result = world.cli({"doctor"});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out.find("FAIL"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("PASS token"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("PASS roles"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(world.exsim().base_url() + "/" + GraphApp::kTenant +
                            "/adminconsent?client_id=" + GraphApp::kClientId),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("PASS calendar jdoe@example.com"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("PASS time zone asmith@example.com"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find(GraphApp::kSecret), std::string::npos) << "secret in output";
}

TEST(GraphDoctor, MissingCalendarsRoleIsNamedWithWhereToGrantIt) {
  auto options = graph_world();
  options.graph_roles = {"User.Read.All", "MailboxSettings.Read"};
  World world(options);
  world.add_user("jdoe");
  auto result = world.cli({"doctor"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.out.find("FAIL roles"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Calendars.ReadWrite"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Entra admin center > App registrations"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("Grant admin consent"), std::string::npos) << result.out;
}

TEST(GraphDoctor, WrongSecretFailsTheTokenWithoutEchoingIt) {
  auto options = graph_world();
  options.graph_secret = "not-the-client-secret";
  World world(options);
  world.add_user("jdoe");
  auto result = world.cli({"doctor"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.out.find("FAIL token"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("client secret"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("not-the-client-secret"), std::string::npos) << "secret in output";
}

TEST(GraphSync, ExpiredDeltaTokenResyncsInFullWithoutDuplicates) {
  World world(Backend::kGraph);
  world.add_user("jdoe");
  for (int i = 0; i < 4; ++i) world.add_appointment("jdoe", "Host " + std::to_string(i), future(i));
  world.outlook_create("jdoe@example.com", "Outlook 1", future(0, 3));
  world.sync("jdoe");
  ASSERT_EQ(world.exchange_items("jdoe@example.com").size(), 5u);

  // The Graph cursor stays well-formed; only its delta token is one exsim no longer knows.
  EXPECT_EQ(world.rewrite_cursors("UPDATE sync_cursor SET cursor = replace(cursor, 'deltatoken=', "
                                  "'deltatoken=expired') WHERE cursor LIKE 'graph1|%deltatoken=%'"),
            1);

  world.outlook_create("jdoe@example.com", "Outlook 2", future(0, 5));
  world.add_appointment("jdoe", "Host new", future(0, 7));
  auto run = world.sync("jdoe");
  ASSERT_TRUE(run.report);
  EXPECT_TRUE(run.report->full_listing);
  const auto exchange = world.exchange_items("jdoe@example.com");
  EXPECT_TRUE(duplicate_subjects(exchange).empty());
  EXPECT_EQ(exchange.size(), 7u);
  EXPECT_EQ(world.host_items("jdoe").size(), 7u);
  EXPECT_EQ(world.outbox_size(), 0u);
}

}  // namespace
}  // namespace agendasync::e2e
