// The Exchange end of a pair per backend: Graph from [graph] (secret or certificate, the
// shared token, the doctor's rows) and EWS as before; secrets never in what doctor reports.
#include "app/exchange_connection.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "connectors/graph/base64url.h"
#include "connectors/graph/testing/test_cert.h"
#include "net/testing/fake_http.h"

namespace agendasync::app {
namespace {

using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/agendasync-app-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

net::Response answer(long status, const json& body) {
  net::Response response;
  response.status = status;
  response.body = body.dump();
  return response;
}

std::string token_with_roles(const std::vector<std::string>& roles) {
  return graph::base64url_encode("{}") + "." +
         graph::base64url_encode(json{{"roles", roles}}.dump()) + ".sig";
}

config::Config graph_config() {
  config::Config config;
  config.source = "/etc/agendasync/agendasync.toml";
  config.exchange.backend = config::ExchangeBackend::kGraph;
  config.graph.tenant_id = "tenant-1";
  config.graph.client_id = "client-1";
  config.graph.graph_url = "https://graph.test/v1.0";
  config.graph.authority_url = "https://login.test";
  return config;
}

/// A Graph tenant that grants `roles` and knows every mailbox.
std::shared_ptr<net::testing::FakeHttp> graph_tenant(std::vector<std::string> roles) {
  auto http = std::make_shared<net::testing::FakeHttp>();
  http->handler = [roles](const net::Request& request) -> Result<net::Response> {
    if (request.url.ends_with("/oauth2/v2.0/token"))
      return answer(200, {{"access_token", token_with_roles(roles)}, {"expires_in", 3600}});
    if (request.url.ends_with("/mailboxSettings/timeZone"))
      return answer(200, {{"value", "W. Europe Standard Time"}});
    if (request.url.find("/calendar?") != std::string::npos)
      return answer(200, {{"name", "Calendar"}});
    return answer(200, {{"id", "user-id"}});
  };
  return http;
}

TEST(ExchangeConnection, GraphWithAClientSecret) {
  TempDir dir;
  auto config = graph_config();
  config.graph.client_secret.file = dir.write("secret", "top-s3cret-value\n");
  auto http = graph_tenant({"Calendars.ReadWrite", "User.Read.All", "MailboxSettings.Read"});
  auto connection = ExchangeConnection::open(config, http);
  ASSERT_TRUE(connection) << connection.error().message;

  auto side = (*connection)->side("jdoe@example.com");
  ASSERT_TRUE(side) << side.error().message;
  EXPECT_EQ((*side)->describe(), "graph:jdoe@example.com");

  const auto checks = (*connection)->doctor({"jdoe@example.com"});
  ASSERT_EQ(checks.size(), 6u);
  for (const auto& check : checks) {
    EXPECT_TRUE(check.pass) << check.check << ": " << check.detail;
    EXPECT_EQ(check.detail.find("top-s3cret-value"), std::string::npos);
  }
  EXPECT_EQ(checks[2].check, "admin consent");
  EXPECT_NE(checks[2].detail.find("https://login.test/tenant-1/adminconsent?client_id=client-1"),
            std::string::npos);
  // The token request went to the configured authority with the secret; nothing else saw it.
  ASSERT_FALSE(http->requests.empty());
  EXPECT_EQ(http->requests[0].url, "https://login.test/tenant-1/oauth2/v2.0/token");
  for (std::size_t i = 1; i < http->requests.size(); ++i) {
    EXPECT_TRUE(http->requests[i].url.starts_with("https://graph.test/v1.0/users/"))
        << http->requests[i].url;
    EXPECT_EQ(http->requests[i].body.find("top-s3cret-value"), std::string::npos);
  }
}

TEST(ExchangeConnection, GraphDoctorNamesAMissingRoleAndWhereToGrantIt) {
  TempDir dir;
  auto config = graph_config();
  config.graph.client_secret.file = dir.write("secret", "s\n");
  auto connection =
      ExchangeConnection::open(config, graph_tenant({"User.Read.All", "MailboxSettings.Read"}));
  ASSERT_TRUE(connection) << connection.error().message;
  const auto checks = (*connection)->doctor({});
  ASSERT_GE(checks.size(), 2u);
  EXPECT_EQ(checks[1].check, "roles");
  EXPECT_FALSE(checks[1].pass);
  EXPECT_NE(checks[1].remedy.find("Calendars.ReadWrite"), std::string::npos);
  EXPECT_NE(checks[1].remedy.find("API permissions"), std::string::npos);
  EXPECT_NE(checks[1].remedy.find("Grant admin consent"), std::string::npos);
}

TEST(ExchangeConnection, GraphWithACertificateSendsAnAssertionNotASecret) {
  TempDir dir;
  const auto certificate = graph::testing::make_certificate(-1, 30);
  auto config = graph_config();
  config.graph.certificate_file = dir.write("app.crt", certificate.certificate_pem);
  config.graph.private_key.file = dir.write("app.key", certificate.private_key_pem);
  auto http = graph_tenant({"Calendars.ReadWrite", "User.Read.All", "MailboxSettings.Read"});
  auto connection = ExchangeConnection::open(config, http);
  ASSERT_TRUE(connection) << connection.error().message;
  const auto checks = (*connection)->doctor({});
  ASSERT_FALSE(checks.empty());
  EXPECT_TRUE(checks[0].pass) << checks[0].detail;
  ASSERT_FALSE(http->requests.empty());
  EXPECT_NE(http->requests[0].body.find("client_assertion="), std::string::npos);
  EXPECT_EQ(http->requests[0].body.find("client_secret"), std::string::npos);
}

TEST(ExchangeConnection, UnreadableGraphCredentialsFailAtOpenNamingTheSetting) {
  auto config = graph_config();
  config.graph.client_secret.file = "/nonexistent/agendasync/secret";
  auto no_secret = ExchangeConnection::open(config, graph_tenant({}));
  ASSERT_FALSE(no_secret);
  EXPECT_NE(no_secret.error().message.find("graph.client_secret"), std::string::npos);

  config.graph.client_secret = {};
  config.graph.certificate_file = "/nonexistent/agendasync/app.crt";
  config.graph.private_key.env = "AGENDASYNC_TEST_UNSET_KEY_VARIABLE";
  auto no_certificate = ExchangeConnection::open(config, graph_tenant({}));
  ASSERT_FALSE(no_certificate);
  EXPECT_NE(no_certificate.error().message.find("graph.certificate_file"), std::string::npos);
}

TEST(ExchangeConnection, NoBackendNamesTheSetting) {
  config::Config config;
  config.source = "/etc/agendasync/agendasync.toml";
  auto connection = ExchangeConnection::open(config, graph_tenant({}));
  ASSERT_TRUE(connection) << connection.error().message;
  auto side = (*connection)->side("jdoe@example.com");
  ASSERT_FALSE(side);
  EXPECT_NE(side.error().message.find("exchange.backend"), std::string::npos);
  EXPECT_NE(side.error().message.find("\"graph\""), std::string::npos);
}

}  // namespace
}  // namespace agendasync::app
