#include "connectors/graph/doctor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/graph/base64url.h"
#include "net/testing/fake_http.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

net::Response answer(long status, const json& body) {
  net::Response response;
  response.status = status;
  response.body = body.dump();
  return response;
}

TEST(GraphDoctor, ReportsTokenRolesMailboxCalendarAndZone) {
  net::testing::FakeHttp http;
  const std::string token = base64url_encode("{}") + "." +
                            base64url_encode(json{{"roles", {"Calendars.ReadWrite"}}}.dump()) +
                            ".x";
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    if (request.url.ends_with("/oauth2/v2.0/token")) {
      return answer(200, {{"access_token", token}, {"expires_in", 3600}});
    }
    if (request.url.find("/users/gone%40contoso.com") != std::string::npos) {
      return answer(404, {{"error", {{"code", "ResourceNotFound"}}}});
    }
    if (request.url.ends_with("/calendar?$select=id,name"))
      return answer(200, {{"name", "Calendar"}});
    if (request.url.ends_with("/mailboxSettings/timeZone")) {
      return answer(200, {{"value", "W. Europe Standard Time"}});
    }
    return answer(200, {{"id", "u1"}});
  };
  AppCredentials app;
  app.tenant = "t";
  app.client_id = "c";
  app.client_secret = Secret("s");
  TokenProvider tokens(http, app);
  const auto checks = run_graph_doctor(
      http, tokens, {"https://graph.test/v1.0", {"ann@contoso.com", "gone@contoso.com"}});
  ASSERT_EQ(checks.size(), 7u);
  EXPECT_TRUE(checks[0].pass);
  EXPECT_FALSE(checks[1].pass);  // roles: User.Read.All and MailboxSettings.Read missing
  EXPECT_NE(checks[1].remedy.find("User.Read.All"), std::string::npos);
  EXPECT_NE(checks[1].remedy.find("Entra admin center > App registrations"), std::string::npos);
  EXPECT_EQ(checks[2].check, "admin consent");
  EXPECT_NE(checks[2].detail.find("/t/adminconsent?client_id=c"), std::string::npos);
  EXPECT_TRUE(checks[3].pass);
  EXPECT_TRUE(checks[4].pass);
  EXPECT_TRUE(checks[5].pass);
  EXPECT_NE(checks[5].detail.find("Europe/Berlin"), std::string::npos);
  EXPECT_FALSE(checks[6].pass);
  EXPECT_NE(checks[6].remedy.find("mailbox address"), std::string::npos);
  const auto report = format_doctor_report(checks);
  EXPECT_NE(report.find("FAIL roles"), std::string::npos);
  EXPECT_EQ(report.find("\"s\""), std::string::npos);
}

}  // namespace
}  // namespace agendasync::graph
