// The TOML configuration: defaults, a full file, and bad input that names the file, the line
// and the key.
#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace agendasync::config {
namespace {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/agendasync-config-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

/// Parses `text` as /etc/agendasync/agendasync.toml and expects an error mentioning each of
/// `parts`.
void expect_error(const std::string& text, std::initializer_list<std::string> parts) {
  auto config = parse_config(text, "/etc/agendasync/agendasync.toml");
  ASSERT_FALSE(config) << "accepted:\n" << text;
  EXPECT_EQ(config.error().kind, ErrorKind::kInvalidData);
  for (const auto& part : parts) {
    EXPECT_NE(config.error().message.find(part), std::string::npos)
        << "message lacks \"" << part << "\": " << config.error().message;
  }
}

TEST(Config, AnEmptyFileGivesTheDefaults) {
  auto config = parse_config("", "/etc/agendasync/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->database, "/etc/agendasync/agenda.db");
  EXPECT_EQ(config->exchange, ExchangeConfig{});
  EXPECT_EQ(config->sync, SyncConfig{});
  EXPECT_EQ(config->server.port, 8080);
  EXPECT_TRUE(config->warnings.empty());
}

TEST(Config, TheDefaultFileParsesBackToTheDefaults) {
  auto config = parse_config(default_config_text("data/agenda.db"), "/srv/as/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->database, "/srv/as/data/agenda.db");
  EXPECT_EQ(config->exchange, ExchangeConfig{});
  EXPECT_EQ(config->graph, GraphConfig{});
  EXPECT_EQ(config->sync, SyncConfig{});
  EXPECT_EQ(config->server, ServerConfig{});
  EXPECT_EQ(config->cluster, ClusterConfig{});
  EXPECT_EQ(config->tls, TlsConfig{});
  // The example never holds a secret inline.
  auto text = default_config_text("agenda.db");
  EXPECT_EQ(text.find("\npassword ="), std::string::npos);
  EXPECT_EQ(text.find("\nclient_secret ="), std::string::npos);
}

TEST(Config, AFullEwsConfigurationIsRead) {
  auto config = parse_config(R"(
database = "/var/lib/agendasync/agenda.db"
[exchange]
backend = "ews"
version = "2013-sp1"
url = "https://mail.example.com/EWS/Exchange.asmx"
auth = "basic"
user = "svc-agendasync"
domain = "CONTOSO"
password_file = "secrets/ews"
mail_domain = "afas.nl"
[sync]
direction = "to-exchange"
conflict_policy = "host-wins"
first_sync_days = 14
deleted_in_exchange = "leave-deleted"
[server]
listen = "0.0.0.0"
port = 9443
public_url = "https://sync.example.com/"
max_connections = 200
console_session_minutes = 30
[tls]
ca_bundle = "/etc/ssl/corp.pem"
proxy = "http://proxy:3128"
)",
                             "/etc/agendasync/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->database, "/var/lib/agendasync/agenda.db");
  EXPECT_EQ(config->exchange.backend, ExchangeBackend::kEws);
  EXPECT_EQ(config->exchange.version, ExchangeVersion::k2013Sp1);
  EXPECT_EQ(config->exchange.auth, EwsAuth::kBasic);
  EXPECT_EQ(config->exchange.password.file, "/etc/agendasync/secrets/ews");
  EXPECT_EQ(config->exchange.mail_domain, "afas.nl");
  EXPECT_EQ(config->sync.direction, SyncDirection::kToExchange);
  EXPECT_EQ(config->sync.conflict_policy, ConflictPolicy::kHostWins);
  EXPECT_EQ(config->sync.first_sync_days, 14);
  EXPECT_EQ(config->sync.deleted_in_exchange, DeletedInExchange::kLeaveDeleted);
  EXPECT_EQ(config->server,
            (ServerConfig{"0.0.0.0", 9443, "https://sync.example.com", 200, "info", 30}));
  EXPECT_EQ(config->tls.ca_bundle, "/etc/ssl/corp.pem");
  ASSERT_EQ(config->warnings.size(), 1u);
  EXPECT_NE(config->warnings[0].find("deprecated"), std::string::npos);
  EXPECT_NE(config->warnings[0].find(":7:"), std::string::npos) << config->warnings[0];
}

TEST(Config, ANodeNameAndLeaseTimeForManyNodes) {
  auto config = parse_config(
      "database = \"host=db1 dbname=agendasync\"\n[server]\nnode_name = \"node-b\"\n"
      "[cluster]\nlease_seconds = 2\n",
      "/x/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->server.node_name, "node-b");
  EXPECT_EQ(config->cluster.lease_seconds, 2);
  EXPECT_EQ(ClusterConfig{}.lease_seconds, 30);
  expect_error("[cluster]\nlease_seconds = 0\n", {"cluster.lease_seconds"});
  expect_error("[cluster]\nheartbeat = 1\n", {"cluster.heartbeat"});
}

TEST(Config, GraphNeedsTheAppRegistration) {
  expect_error("[exchange]\nbackend = \"graph\"\n", {"graph.tenant_id", "agendasync.toml"});
  auto config = parse_config(
      "[exchange]\nbackend = \"graph\"\n[graph]\ntenant_id = \"t\"\nclient_id = \"c\"\n"
      "client_secret_env = \"AS_SECRET\"\n",
      "/x/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->graph.client_secret.env, "AS_SECRET");
}

TEST(Config, R41_HybridNeedsBothTheOnPremisesEwsAndTheGraphApp) {
  const std::string ews =
      "[exchange]\nbackend = \"hybrid\"\nurl = \"https://mail.example.com/EWS/Exchange.asmx\"\n"
      "user = \"svc\"\npassword_file = \"pw\"\n";
  const std::string graph =
      "[graph]\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret_file = \"s\"\n";
  auto config = parse_config(ews + graph, "/x/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->exchange.backend, ExchangeBackend::kHybrid);
  EXPECT_EQ(to_string(config->exchange.backend), std::string("hybrid"));
  expect_error(ews, {"graph.tenant_id"});
  // Autodiscover alone is not enough: the on-premises server is where a moved mailbox shows.
  expect_error(
      "[exchange]\nbackend = \"hybrid\"\nautodiscover = true\nuser = \"svc\"\n"
      "password_file = \"pw\"\n" +
          graph,
      {"exchange.url", "hybrid"});
  expect_error(
      "[exchange]\nbackend = \"hybrid\"\nurl = \"https://mail.example.com/EWS/Exchange.asmx\"\n" +
          graph,
      {"exchange.user", "hybrid"});
  // R39: some of its users are on EWS, which sends no meeting mail.
  expect_error(ews + graph + "[sync]\nsend_meeting_requests = true\n",
               {"sync.send_meeting_requests"});
}

TEST(Config, GraphWithACertificateAndOverriddenAddresses) {
  const std::string head =
      "[exchange]\nbackend = \"graph\"\n[graph]\ntenant_id = \"t\"\nclient_id = \"c\"\n";
  auto config = parse_config(head +
                                 "certificate_file = \"app.crt\"\nprivate_key_file = \"app.key\"\n"
                                 "graph_url = \"https://127.0.0.1:8443/v1.0\"\n"
                                 "authority_url = \"http://localhost:9000\"\n",
                             "/x/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->graph.uses_certificate());
  EXPECT_EQ(config->graph.certificate_file, "/x/app.crt");
  EXPECT_EQ(config->graph.private_key.file, "/x/app.key");
  EXPECT_EQ(config->graph.graph_url, "https://127.0.0.1:8443/v1.0");
  EXPECT_EQ(config->graph.authority_url, "http://localhost:9000");

  expect_error(head + "certificate_file = \"app.crt\"\n",
               {"graph.private_key_file", "private_key_env"});
  expect_error(head +
                   "certificate_file = \"a.crt\"\nprivate_key_env = \"K\"\n"
                   "client_secret_env = \"S\"\n",
               {"graph.certificate_file", "not both"});
  expect_error(head + "client_secret_env = \"S\"\ngraph_url = \"http://graph.example.com\"\n",
               {"graph.graph_url", "https://"});
  expect_error(head + "private_key = \"-----BEGIN\"\n", {"graph.private_key", "_file"});
}

TEST(Config, PemSecretsAreReadWhole) {
  TempDir dir;
  const std::string pem = "-----BEGIN PRIVATE KEY-----\nMIIB\nAAAA\n-----END PRIVATE KEY-----\n";
  write(dir / "app.key", pem);
  auto loaded = load_secret_pem({dir / "app.key", "", {}}, "graph.private_key");
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->reveal(), pem);

  write(dir / "not-pem", "just a line\n");
  auto refused = load_secret_pem({dir / "not-pem", "", {}}, "graph.private_key");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("graph.private_key"), std::string::npos);
  EXPECT_EQ(refused.error().message.find("just a line"), std::string::npos);
  EXPECT_FALSE(load_secret_pem({dir / "missing.key", "", {}}, "graph.private_key"));
}

TEST(Config, BadTomlSyntaxNamesFileAndLine) {
  expect_error("[exchange]\nbackend = \"ews\"\nurl = https://unquoted\n",
               {"/etc/agendasync/agendasync.toml:3:", "not valid TOML"});
}

TEST(Config, TextThatIsNotUtf8IsRefusedNamingFileLineAndKey) {
  expect_error("[exchange]\nbackend = \"ews\"\nuser = \"J\xF6rg\"\n",
               {"/etc/agendasync/agendasync.toml:3: exchange.user: not valid UTF-8", "column 10",
                "Save the file as UTF-8"});
  expect_error("# caf\xE9\n", {"agendasync.toml:1: not valid UTF-8"});
  expect_error("database = \"x.db\" # \xC0\xAF\n", {"agendasync.toml:1: database: not valid"});
  // Valid UTF-8 beyond ASCII is fine.
  EXPECT_TRUE(parse_config("[exchange]\nuser = \"J\xC3\xB6rg\"\n", "a.toml"));
}

TEST(Config, AnUnknownKeyIsNamedWithFileAndLine) {
  expect_error(
      "[exchange]\nbackend = \"none\"\nmail_domian = \"afas.nl\"\n",
      {"/etc/agendasync/agendasync.toml:3:", "exchange.mail_domian", "unknown key", "mail_domain"});
  expect_error("databse = \"x.db\"\n", {"agendasync.toml:1:", "databse", "unknown key"});
  expect_error("[exchnage]\nurl = \"x\"\n", {"unknown section [exchnage]"});
}

TEST(Config, AWrongTypeIsNamed) {
  expect_error("[sync]\nfirst_sync_days = \"thirty\"\n",
               {"agendasync.toml:2:", "sync.first_sync_days", "whole number", "a string"});
  expect_error("[exchange]\nautodiscover = \"yes\"\n", {"exchange.autodiscover", "true or false"});
  expect_error("[server]\nport = 70000\n", {"server.port", "out of range"});
  expect_error("[server]\nmax_connections = 0\n", {"server.max_connections", "out of range"});
  expect_error("[server]\nconsole_session_minutes = 0\n",
               {"server.console_session_minutes", "out of range"});
  expect_error("[server]\npublic_url = \"http://sync.example.com\"\n",
               {"server.public_url", "https://"});
}

TEST(Config, SyncKeysLeftOutStayUnsetSoLowerLayersApply) {
  auto config = parse_config("[sync]\nbreaker_share = 35\n", "/etc/agendasync/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->sync.breaker_share_percent, 35);
  EXPECT_FALSE(config->sync.direction.has_value());
  EXPECT_FALSE(config->sync.breaker_min_items.has_value());
  EXPECT_FALSE(config->sync.first_sync_approval.has_value());
}

TEST(Config, R38_BreakerAndFirstSyncApprovalKeys) {
  auto config =
      parse_config("[sync]\nbreaker_share = 5\nbreaker_min_items = 3\nfirst_sync_approval = true\n",
                   "/etc/agendasync/agendasync.toml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->sync.breaker_share_percent, 5);
  EXPECT_EQ(config->sync.breaker_min_items, 3);
  EXPECT_EQ(config->sync.first_sync_approval, true);
  // Out of range: the file, the line, the key and the allowed range.
  expect_error("[sync]\n\nbreaker_share = 0\n",
               {"agendasync.toml:3:", "sync.breaker_share", "out of range 1..100 percent"});
  expect_error("[sync]\nbreaker_share = 150\n", {"sync.breaker_share", "1..100"});
  expect_error("[sync]\nbreaker_share = 0.2\n", {"sync.breaker_share", "whole number"});
  expect_error("[sync]\nbreaker_min_items = -1\n",
               {"agendasync.toml:2:", "sync.breaker_min_items", "out of range 0..1000000"});
  expect_error("[sync]\nfirst_sync_approval = \"yes\"\n",
               {"sync.first_sync_approval", "true or false"});
}

TEST(Config, R39_MeetingRequestsNeedTheGraphBackend) {
  auto off = parse_config("[sync]\nsend_meeting_requests = false\n", "/x/agendasync.toml");
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_EQ(off->sync.send_meeting_requests, false);
  expect_error(
      "[exchange]\nbackend = \"ews\"\nurl = \"https://mail.example.com/EWS/Exchange.asmx\"\n"
      "user = \"svc\"\npassword_file = \"pw\"\n[sync]\nsend_meeting_requests = true\n",
      {"agendasync.toml:7:", "sync.send_meeting_requests", "graph"});
  auto graph = parse_config(
      "[exchange]\nbackend = \"graph\"\n[graph]\ntenant_id = \"t\"\nclient_id = \"c\"\n"
      "client_secret_file = \"s\"\n[sync]\nsend_meeting_requests = true\n",
      "/x/agendasync.toml");
  ASSERT_TRUE(graph) << graph.error().message;
  EXPECT_EQ(graph->sync.send_meeting_requests, true);
}

TEST(Config, AnInvalidEnumValueListsTheValidOnes) {
  expect_error("[sync]\ndirection = \"both\"\n",
               {"agendasync.toml:2:", "sync.direction", "\"both\"", "to-exchange", "from-exchange",
                "two-way"});
  expect_error("[sync]\nconflict_policy = \"latest\"\n", {"sync.conflict_policy", "newest-wins"});
  expect_error("[exchange]\nauth = \"kerberos\"\n", {"exchange.auth", "ntlm"});
  expect_error("[sync]\ndeleted_in_exchange = \"ignore\"\n",
               {"sync.deleted_in_exchange", "leave-deleted"});
}

TEST(Config, Exchange2010IsRefusedClearly) {
  expect_error("[exchange]\nversion = \"2010-sp3\"\n",
               {"exchange.version", "2010", "not supported", "2013 or newer"});
  expect_error("[exchange]\nversion = 2010\n", {"exchange.version", "not supported"});
}

TEST(Config, InlineSecretsAreRefused) {
  expect_error("[exchange]\npassword = \"hunter2\"\n", {"exchange.password", "password_file"});
  expect_error("[graph]\nclient_secret = \"s3cr3t\"\n", {"graph.client_secret", "_env"});
  auto config = parse_config("[exchange]\npassword = \"hunter2\"\n", "/x/agendasync.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message.find("hunter2"), std::string::npos);
}

TEST(Config, CombinationsAreChecked) {
  expect_error("[exchange]\nbackend = \"ews\"\nuser = \"svc\"\npassword_env = \"P\"\n",
               {"exchange.url", "autodiscover"});
  expect_error("[exchange]\nurl = \"http://mail.example.com/EWS/Exchange.asmx\"\n",
               {"agendasync.toml:2:", "exchange.url", "https://"});
  expect_error("[exchange]\nmail_domain = \"@afas.nl\"\n", {"exchange.mail_domain"});
  auto local = parse_config("[exchange]\nurl = \"http://127.0.0.1:8443/EWS/Exchange.asmx\"\n",
                            "/x/agendasync.toml");
  EXPECT_TRUE(local) << "a loopback simulator may use plain HTTP";
}

TEST(Config, LoadConfigNamesAMissingFile) {
  TempDir dir;
  auto config = load_config(dir / "missing.toml");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("missing.toml"), std::string::npos);
  EXPECT_NE(config.error().message.find("agendasync init"), std::string::npos);
}

TEST(Config, WriteDefaultConfigNeverOverwrites) {
  TempDir dir;
  auto file = dir / "agendasync.toml";
  ASSERT_TRUE(write_default_config(file, "agenda.db"));
  auto loaded = load_config(file);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->database, dir / "agenda.db");

  write(file, "# mine\n");
  auto again = write_default_config(file, "agenda.db");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
  EXPECT_NE(again.error().message.find(file.string()), std::string::npos);
  EXPECT_EQ(read(file), "# mine\n");
}

TEST(Config, SecretsComeFromAFileOrTheEnvironment) {
  TempDir dir;
  write(dir / "secret", "p@ss word\n");
  auto from_file = load_secret({dir / "secret", "", {}}, "exchange.password");
  ASSERT_TRUE(from_file) << from_file.error().message;
  EXPECT_EQ(from_file->reveal(), "p@ss word");

  ::setenv("AGENDASYNC_TEST_SECRET", "from-env", 1);
  auto from_env = load_secret({"", "AGENDASYNC_TEST_SECRET", {}}, "graph.client_secret");
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->reveal(), "from-env");

  auto missing = load_secret({dir / "nope", "", {}}, "exchange.password");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("exchange.password"), std::string::npos);
  auto unset = load_secret({"", "AGENDASYNC_TEST_UNSET_VARIABLE", {}}, "graph.client_secret");
  ASSERT_FALSE(unset);
  EXPECT_NE(unset.error().message.find("AGENDASYNC_TEST_UNSET_VARIABLE"), std::string::npos);
  EXPECT_FALSE(load_secret({}, "exchange.password"));
  // A connection kept in the database hands its unsealed secret over as the value itself.
  auto stored = load_secret({"", "", Secret("from-the-platform")}, "exchange.password");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->reveal(), "from-the-platform");
}

}  // namespace
}  // namespace agendasync::config
