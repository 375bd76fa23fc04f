// The platform's organisations and connections (issue 16 §1, §2): ids, lifecycle, files,
// connections with sealed write-only secrets, the file's [exchange] winning for `default`,
// and the configuration an organisation runs on.
#include "platform/platform.h"

#include <gtest/gtest.h>

#include "service/secrets/key_ring.h"
#include "store/sqlite_agenda_store.h"
#include "store/test_support.h"

namespace agendasync::platform {
namespace {

using store::testing::TempDir;

const char* kKey = "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

service::secrets::KeyRing ring() { return *service::secrets::parse_key_ring(kKey); }

class PlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node.database = dir / "agenda.db";
    store::SqliteOptions options;
    options.create = true;
    ASSERT_TRUE(store::open_sqlite_agenda_store(node.database, options));
  }
  std::unique_ptr<Platform> open(service::secrets::KeyRing keys = ring()) {
    auto opened = Platform::open(node, std::move(keys));
    EXPECT_TRUE(opened) << (opened ? "" : opened.error().message);
    return opened ? std::move(*opened) : nullptr;
  }
  static Connection ews_connection() {
    Connection connection;
    connection.exchange.backend = config::ExchangeBackend::kEws;
    connection.exchange.url = "https://mail.contoso.com/EWS/Exchange.asmx";
    connection.exchange.user = "svc-sync";
    connection.exchange.domain = "CONTOSO";
    return connection;
  }
  TempDir dir;
  config::Config node;
};

TEST_F(PlatformTest, AnExistingAgendaIsOrganisationDefault) {
  auto platform = open();
  auto list = platform->organisations();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, "default");
  EXPECT_EQ((*list)[0].database, node.database);
  EXPECT_EQ((*list)[0].state, OrgState::kActive);
  // Opening again registers nothing twice.
  platform.reset();
  EXPECT_EQ(open()->organisations()->size(), 1u);
}

TEST_F(PlatformTest, OrganisationIdsAreDnsLabels) {
  auto platform = open();
  for (const char* bad : {"", "Contoso", "-x", "a b", "a/b", "..", "é"}) {
    auto created = platform->create(bad, "x");
    ASSERT_FALSE(created) << bad;
    EXPECT_EQ(created.error().kind, ErrorKind::kInvalidData);
  }
  EXPECT_FALSE(platform->create(std::string(64, 'a'), "x"));
  EXPECT_TRUE(platform->create(std::string(63, 'a'), "x"));
  EXPECT_TRUE(platform->create("customer-1042", "Customer 1042"));
}

TEST_F(PlatformTest, CreateGivesAnOwnAgendaAndRemoveDeletesIt) {
  auto platform = open();
  auto created = platform->create("contoso", "Contoso Ltd");
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->database, dir / "organisations" / "contoso" / "agenda.db");
  EXPECT_TRUE(std::filesystem::exists(created->database));
  auto again = platform->create("contoso", "again");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);

  auto suspended = platform->update("contoso", {std::nullopt, OrgState::kSuspended});
  ASSERT_TRUE(suspended);
  EXPECT_EQ(suspended->state, OrgState::kSuspended);
  EXPECT_EQ(suspended->name, "Contoso Ltd");

  ASSERT_TRUE(platform->remove("contoso"));
  EXPECT_FALSE(std::filesystem::exists(created->database));
  EXPECT_EQ(platform->organisation("contoso").error().kind, ErrorKind::kNotFound);
  auto keep = platform->remove("default");
  ASSERT_FALSE(keep);
  EXPECT_EQ(keep.error().kind, ErrorKind::kConflict);
}

TEST_F(PlatformTest, ConnectionSecretsAreSealedAndWriteOnly) {
  auto platform = open();
  ASSERT_TRUE(platform->create("contoso", ""));
  SecretUpdates secrets;
  secrets.exchange_password = Secret("Pa55-word-in-clear");
  auto stored = platform->set_connection("contoso", ews_connection(), secrets);
  ASSERT_TRUE(stored) << stored.error().message;

  auto listed = platform->connection("contoso", false);
  ASSERT_TRUE(listed);
  EXPECT_NE(listed->exchange.password.value.reveal(), "Pa55-word-in-clear");
  EXPECT_EQ(connection_to_json(*listed)["ews"]["password_set"], true);
  EXPECT_EQ(connection_to_json(*listed).dump().find("Pa55"), std::string::npos);

  auto unsealed = platform->connection("contoso", true);
  ASSERT_TRUE(unsealed);
  EXPECT_EQ(unsealed->exchange.password.value.reveal(), "Pa55-word-in-clear");
  EXPECT_EQ(unsealed->exchange.user, "svc-sync");
  // Nothing in the database file holds the password in clear.
  platform.reset();
  EXPECT_EQ(store::testing::database_image(node.database).find("Pa55-word"), std::string::npos);

  // Replacing the fields without a new password keeps the stored one.
  platform = open();
  Connection moved = ews_connection();
  moved.exchange.url = "https://mail2.contoso.com/EWS/Exchange.asmx";
  ASSERT_TRUE(platform->set_connection("contoso", moved, {}));
  EXPECT_EQ(platform->connection("contoso", true)->exchange.password.value.reveal(),
            "Pa55-word-in-clear");
  // Another key ring cannot open it: the message says which secret.
  platform.reset();
  auto other = Platform::open(
      node, *service::secrets::parse_key_ring(
                "k9:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"));
  ASSERT_TRUE(other);
  auto refused = (*other)->connection("contoso", true);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("exchange_password"), std::string::npos);
}

TEST_F(PlatformTest, KeyRotationResealsConnectionSecrets) {
  const std::string k2 = "k2:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
  auto platform = open();
  ASSERT_TRUE(platform->create("contoso", ""));
  SecretUpdates secrets;
  secrets.exchange_password = Secret("rotate-me");
  ASSERT_TRUE(platform->set_connection("contoso", ews_connection(), secrets));
  platform.reset();
  // A new current key in front of the old one: old values still open, then are re-sealed.
  platform = open(*service::secrets::parse_key_ring(k2 + "," + kKey));
  auto resealed = platform->reseal_connection("contoso");
  ASSERT_TRUE(resealed) << resealed.error().message;
  EXPECT_EQ(*resealed, 1u);
  platform.reset();
  // The old key can go.
  platform = open(*service::secrets::parse_key_ring(k2));
  auto opened = platform->connection("contoso", true);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->exchange.password.value.reveal(), "rotate-me");
}

TEST_F(PlatformTest, AnIncompleteConnectionIsRefusedNamingTheField) {
  auto platform = open();
  ASSERT_TRUE(platform->create("contoso", ""));
  auto refused = platform->set_connection("contoso", ews_connection(), {});  // no password
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(refused.error().message.find("exchange_password"), std::string::npos);

  Connection graph;
  graph.exchange.backend = config::ExchangeBackend::kGraph;
  graph.graph.tenant_id = "7f2c4d0e-1111-2222-3333-444455556666";
  auto no_app = platform->set_connection("contoso", graph, {});
  ASSERT_FALSE(no_app);
  EXPECT_NE(no_app.error().message.find("platform's app"), std::string::npos);

  Connection http = ews_connection();
  http.exchange.url = "http://mail.contoso.com/EWS/Exchange.asmx";
  SecretUpdates secrets;
  secrets.exchange_password = Secret("x");
  auto plain = platform->set_connection("contoso", http, secrets);
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("https://"), std::string::npos);
}

TEST_F(PlatformTest, WithoutAKeyRingNoSecretIsStored) {
  auto platform = open(service::secrets::KeyRing{});
  ASSERT_TRUE(platform->create("contoso", ""));
  SecretUpdates secrets;
  secrets.exchange_password = Secret("x");
  auto refused = platform->set_connection("contoso", ews_connection(), secrets);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kPermission);
  EXPECT_NE(refused.error().message.find("secrets new-key"), std::string::npos);
}

TEST_F(PlatformTest, GraphOrganisationsUseThePlatformAppWithTheirTenant) {
  node.graph.client_id = "platform-app";
  node.graph.client_secret.env = "PLATFORM_SECRET";
  node.graph.authority_url = "https://login.example.test";
  auto platform = open();
  ASSERT_TRUE(platform->create("fabrikam", ""));
  Connection graph;
  graph.exchange.backend = config::ExchangeBackend::kGraph;
  graph.graph.tenant_id = "tenant-fabrikam";
  ASSERT_TRUE(platform->set_connection("fabrikam", graph, {}));
  auto config = platform->organisation_config("fabrikam");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->graph.client_id, "platform-app");
  EXPECT_EQ(config->graph.tenant_id, "tenant-fabrikam");
  EXPECT_EQ(config->graph.client_secret.env, "PLATFORM_SECRET");
  EXPECT_EQ(config->exchange.backend, config::ExchangeBackend::kGraph);
  EXPECT_EQ(config->database, dir / "organisations" / "fabrikam" / "agenda.db");
  auto link = platform->consent_link(*platform->connection("fabrikam", false),
                                     "https://sync.example.com/admin/");
  EXPECT_EQ(link,
            "https://login.example.test/tenant-fabrikam/v2.0/adminconsent?client_id=platform-app"
            "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
            "&redirect_uri=https%3A%2F%2Fsync.example.com%2Fadmin%2F");
}

TEST_F(PlatformTest, TheFilesExchangeSectionIsOrganisationDefaultsConnection) {
  node.exchange.backend = config::ExchangeBackend::kEws;
  node.exchange.url = "https://mail.example.com/EWS/Exchange.asmx";
  node.source = dir / "agendasync.toml";
  auto platform = open();
  auto connection = platform->connection("default", true);
  ASSERT_TRUE(connection);
  EXPECT_EQ(connection->exchange.url, node.exchange.url);
  EXPECT_EQ(connection->source, node.source.string());
  auto refused = platform->set_connection("default", ews_connection(), {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kConflict);
  EXPECT_NE(refused.error().message.find("agendasync.toml"), std::string::npos);
  auto config = platform->organisation_config("default");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->exchange, node.exchange);
  EXPECT_EQ(config->database, node.database);
}

TEST_F(PlatformTest, ConnectionJsonRefusesUnknownKeysAndBadValues) {
  Connection base;
  auto unknown = connection_from_json({{"ews", {{"pasword", "x"}}}}, base);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("connection.ews.pasword"), std::string::npos);
  auto version = connection_from_json({{"ews", {{"version", "2007"}}}}, base);
  ASSERT_FALSE(version);
  EXPECT_NE(version.error().message.find("2013"), std::string::npos);
  auto round = connection_from_json(connection_to_json(ews_connection()), base);
  ASSERT_TRUE(round) << round.error().message;
  EXPECT_EQ(round->exchange.url, ews_connection().exchange.url);
  EXPECT_EQ(round->exchange.domain, "CONTOSO");
}

TEST_F(PlatformTest, R41_AHybridConnectionHasBothSidesInItsJsonChecksAndConfig) {
  node.graph.client_id = "platform-app";
  node.graph.client_secret.env = "PLATFORM_SECRET";
  auto platform = open();
  ASSERT_TRUE(platform->create("hybrid", ""));
  Connection hybrid = ews_connection();
  hybrid.exchange.backend = config::ExchangeBackend::kHybrid;
  hybrid.graph.tenant_id = "tenant-hybrid";
  // The JSON form names it as the configuration file does.
  const auto json = connection_to_json(hybrid);
  EXPECT_EQ(json.at("backend"), "hybrid");
  auto round = connection_from_json(json, Connection{});
  ASSERT_TRUE(round) << round.error().message;
  EXPECT_EQ(round->exchange.backend, config::ExchangeBackend::kHybrid);
  EXPECT_EQ(round->exchange.url, hybrid.exchange.url);
  EXPECT_EQ(round->graph.tenant_id, "tenant-hybrid");
  // Both halves are checked: the service account, the on-premises URL, the tenant.
  SecretUpdates secrets;
  secrets.exchange_password = Secret("pw");
  Connection no_url = hybrid;
  no_url.exchange.url.clear();
  no_url.exchange.autodiscover = true;
  auto refused = platform->set_connection("hybrid", no_url, secrets);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("ews.url"), std::string::npos);
  Connection no_tenant = hybrid;
  no_tenant.graph.tenant_id.clear();
  refused = platform->set_connection("hybrid", no_tenant, secrets);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("graph.tenant_id"), std::string::npos);
  auto no_password = platform->set_connection("hybrid", hybrid, {});
  ASSERT_FALSE(no_password);
  EXPECT_NE(no_password.error().message.find("hybrid"), std::string::npos);
  ASSERT_TRUE(platform->set_connection("hybrid", hybrid, secrets));
  auto config = platform->organisation_config("hybrid");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->exchange.backend, config::ExchangeBackend::kHybrid);
  EXPECT_EQ(config->exchange.url, hybrid.exchange.url);
  EXPECT_EQ(config->graph.client_id, "platform-app");
  EXPECT_EQ(config->graph.tenant_id, "tenant-hybrid");
}

}  // namespace
}  // namespace agendasync::platform
