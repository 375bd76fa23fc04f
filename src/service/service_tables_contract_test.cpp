// The platform's and the service's tables, written once (store/sql_database.h), behave the same
// on SQLite and on PostgreSQL (issue 17): every case runs on both. Two handles on one database
// stand for two nodes: what one writes (a token, a console session, a login link) the other
// reads, and an organisation's handle never reaches another organisation's rows.
#include <gtest/gtest.h>

#include "net/http.h"
#include "platform/platform.h"
#include "service/graph_subscriptions.h"
#include "service/metrics.h"
#include "service/secret_store.h"
#include "service/service_db.h"
#include "service/sessions.h"
#include "service/sync_status.h"
#include "service/tokens.h"
#include "service/webhooks.h"
#include "store/contract_support.h"
#include "store/database_locator.h"
#include "store/migrate_database.h"

namespace agendasync::service {
namespace {

using store::testing::Backend;

const char* kKey = "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const char* kNewKey = "k2:1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

secrets::KeyRing ring(const char* keys = kKey) { return *secrets::parse_key_ring(keys); }

class ServiceTables : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      node_.database = dir_.path() / "agenda.db";
      store::SqliteOptions options;
      options.create = true;
      ASSERT_TRUE(store::open_sqlite_agenda_store(node_.database, options));
    } else {
      auto made = scratch_.create();
      ASSERT_TRUE(made) << made.error().message;
      node_.database = *made;
      auto migrated = store::migrate_platform(*made);
      ASSERT_TRUE(migrated) << migrated.error().message;
    }
    auto platform = platform::Platform::open(node_, ring());
    ASSERT_TRUE(platform) << platform.error().message;
    platform_ = std::move(*platform);
    // Organisation default (a schema more to migrate on PostgreSQL) only where a test needs it.
    for (const char* org : {"contoso", "fabrikam"}) {
      auto created = platform_->create(org, org);
      ASSERT_TRUE(created) << created.error().message;
    }
  }

  /// A new handle on the node's tables (tokens, sessions): another node, on PostgreSQL.
  std::unique_ptr<ServiceDb> node_db() {
    auto db = ServiceDb::open_node(node_.database.string(), 2, true);
    EXPECT_TRUE(db) << db.error().message;
    return db ? std::move(*db) : nullptr;
  }
  /// A new handle on an organisation's service tables.
  std::unique_ptr<ServiceDb> org_db(const std::string& org) {
    auto organisation = platform_->organisation(org);
    EXPECT_TRUE(organisation);
    auto db = ServiceDb::open_organisation(organisation->database.string(), org, 2, true);
    EXPECT_TRUE(db) << db.error().message;
    return db ? std::move(*db) : nullptr;
  }

  store::testing::TempDir dir_;
  store::testing::ScratchDatabase scratch_;
  config::Config node_;
  std::unique_ptr<platform::Platform> platform_;
};

TEST_P(ServiceTables, TokensBelongToOneOrganisationAndAuthenticateOnEveryHandle) {
  auto first = node_db();
  auto second = node_db();
  TokenStore contoso(*first, "contoso");
  auto made = contoso.create("admin", "ops");
  ASSERT_TRUE(made) << made.error().message;
  ASSERT_TRUE(contoso.create("user:Anna", "anna"));

  auto principal = TokenStore(*second, "fabrikam").authenticate(made->value.reveal());
  ASSERT_TRUE(principal) << principal.error().message;
  EXPECT_TRUE(principal->is_admin());
  EXPECT_EQ(principal->org, "contoso");
  EXPECT_EQ(principal->token_id, made->info.id);

  EXPECT_EQ(TokenStore(*second, "contoso").list()->size(), 2u);
  EXPECT_TRUE(TokenStore(*second, "fabrikam").list()->empty());
  auto foreign = TokenStore(*second, "fabrikam").revoke(made->info.id);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().kind, ErrorKind::kNotFound);

  ASSERT_TRUE(TokenStore(*second, "contoso").revoke(made->info.id));
  auto revoked = contoso.authenticate(made->value.reveal());
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(TokenStore(*first, "contoso").revoke_all().value(), 1u);
  EXPECT_TRUE(contoso.list()->empty());
}

TEST_P(ServiceTables, ConsoleSessionsAreRowsEveryHandleSeesAndNeverKeepTheRawId) {
  auto first = node_db();
  auto second = node_db();
  SessionStore on_one(*first);
  SessionStore on_two(*second);
  Principal admin{RoleKind::kAdmin, {}, "tok1", "contoso"};
  auto opened = on_one.open(admin, "hash-of-token");
  ASSERT_TRUE(opened) << opened.error().message;

  auto found = on_two.find(opened->id);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->principal.is_admin());
  EXPECT_EQ(found->principal.org, "contoso");
  EXPECT_EQ(found->principal.token_id, "tok1");
  EXPECT_EQ(found->token_hash, "hash-of-token");
  EXPECT_EQ(found->csrf, opened->session.csrf);
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::seconds>(found->expires.time_since_epoch()),
      std::chrono::duration_cast<std::chrono::seconds>(opened->session.expires.time_since_epoch()));
  EXPECT_FALSE(on_two.find(opened->id + "0"));
  EXPECT_EQ(on_two.live_sessions(), 1u);

  // Only the id's hash is stored.
  EXPECT_EQ(second->sql()
                .query_int("SELECT COUNT(*) FROM service_session WHERE id_hash = ?1", {opened->id})
                ->value_or(-1),
            0);
  EXPECT_EQ(second->sql()
                .query_int("SELECT COUNT(*) FROM service_session WHERE id_hash = ?1",
                           {sha256_hex(opened->id)})
                ->value_or(-1),
            1);

  on_two.end(opened->id);
  EXPECT_FALSE(on_one.find(opened->id));

  SessionOptions ended_at_once;
  ended_at_once.lifetime = std::chrono::seconds(0);
  SessionStore expiring(*first, ended_at_once);
  auto brief = expiring.open(admin, "");
  ASSERT_TRUE(brief);
  EXPECT_FALSE(on_two.find(brief->id)) << "an expired session opens nothing";
}

TEST_P(ServiceTables, ALoginLinkOpensOnceOnWhicheverHandleRedeemsIt) {
  auto first = node_db();
  auto second = node_db();
  SessionStore on_one(*first);
  SessionStore on_two(*second);
  auto link = on_one.mint_link("contoso", "anna");
  ASSERT_TRUE(link) << link.error().message;
  auto principal = on_two.redeem(link->code);
  ASSERT_TRUE(principal);
  EXPECT_TRUE(principal->is_user("ANNA"));
  EXPECT_EQ(principal->org, "contoso");
  EXPECT_FALSE(on_one.redeem(link->code)) << "single use";
  EXPECT_FALSE(on_two.redeem("not-a-code"));
}

TEST_P(ServiceTables, StatusCountsRunsAndKeepsTheNewestErrorsWithNamesWithoutCase) {
  auto db = org_db("contoso");
  SyncStatusStore status(*db);
  SyncResult ok;
  ok.outcome = "synced";
  ok.backend = "ews";
  ASSERT_TRUE(status.record("Anna", ok, 100, 110));
  for (int i = 0; i < SyncStatusStore::kErrorsKept + 3; ++i) {
    Result<SyncResult> failed = fail(ErrorKind::kTransient, "busy " + std::to_string(i));
    auto recorded = status.record("ANNA", failed, 200 + i, 210 + i);
    ASSERT_TRUE(recorded) << recorded.error().message;
  }
  auto shown = status.status("anna");
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_EQ((*shown)["runs"], SyncStatusStore::kErrorsKept + 4);
  EXPECT_EQ((*shown)["failures"], SyncStatusStore::kErrorsKept + 3);
  EXPECT_EQ((*shown)["last_success"], 110);
  EXPECT_EQ((*shown)["backend"], "ews") << "a failed run keeps the last backend";
  EXPECT_EQ((*shown)["errors"].size(), static_cast<std::size_t>(SyncStatusStore::kErrorsKept));
  EXPECT_NE((*shown)["errors"][0]["message"].get<std::string>().find(
                "busy " + std::to_string(SyncStatusStore::kErrorsKept + 2)),
            std::string::npos)
      << "newest first";
  EXPECT_EQ(status.last_success("aNNa").value(), std::optional<std::int64_t>(110));
  EXPECT_EQ(status.failing_users()->size(), 1u);
  ASSERT_TRUE(status.record("Carl", fail(ErrorKind::kTransient, "never succeeded"), 300, 310));
  auto all = status.last_successes();
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(*all, (std::map<std::string, std::int64_t>{{"anna", 110}}))
      << "lower-case names; a user that never succeeded is absent";

  ASSERT_TRUE(status.set_admin_managed("anna", true));
  ASSERT_TRUE(status.set_admin_managed("ANNA", true));
  EXPECT_TRUE(status.admin_managed("Anna").value());
  auto briefs = status.briefs({"Anna", "Bert"});
  ASSERT_TRUE(briefs) << briefs.error().message;
  EXPECT_EQ((*briefs)["Anna"].last_outcome, "error");
  EXPECT_TRUE((*briefs)["Anna"].admin_managed);
  EXPECT_NE((*briefs)["Anna"].last_error.find("busy"), std::string::npos);
  EXPECT_EQ((*briefs)["Bert"].last_outcome, "");

  // Another organisation's tables hold none of it.
  auto other = org_db("fabrikam");
  SyncStatusStore elsewhere(*other);
  EXPECT_EQ(elsewhere.status("anna").value()["runs"], 0);
  EXPECT_TRUE(elsewhere.failing_users()->empty());
}

// The daemon writes idle runs' statuses in batches, up to a second late (StatusBatch): every
// run counts, and a late batch (another node's) leaves the newer run shown.
TEST_P(ServiceTables, StatusesWrittenTogetherCountEveryRunAndALateOneKeepsTheNewerRun) {
  auto db = org_db("contoso");
  SyncStatusStore status(*db);
  SyncResult idle;
  idle.outcome = "synced";
  idle.backend = "graph";
  const std::vector<SyncStatusStore::Run> batch{
      {"anna", idle, 100, 101}, {"ben", idle, 100, 102}, {"ANNA", idle, 110, 111}};
  ASSERT_TRUE(status.record_all(batch));
  auto anna = status.status("anna").value();
  EXPECT_EQ(anna["runs"], 2);
  EXPECT_EQ(anna["last_started"], 110);
  EXPECT_EQ(anna["last_finished"], 111);
  EXPECT_EQ(anna["last_success"], 111);
  EXPECT_EQ(anna["backend"], "graph");
  EXPECT_EQ(status.status("ben").value()["runs"], 1);

  ASSERT_TRUE(status.record("anna", fail(ErrorKind::kTransient, "busy"), 200, 210));
  const std::vector<SyncStatusStore::Run> late{{"anna", idle, 150, 151}};
  ASSERT_TRUE(status.record_all(late));
  anna = status.status("anna").value();
  EXPECT_EQ(anna["runs"], 4);
  EXPECT_EQ(anna["failures"], 1);
  EXPECT_EQ(anna["last_started"], 200) << "the newer run stays shown";
  EXPECT_EQ(anna["last_finished"], 210);
  EXPECT_EQ(anna["last_outcome"], "error");
  EXPECT_EQ(anna["last_success"], 151) << "a late success still counts as the last success";
}

TEST_P(ServiceTables, SecretsWebhooksAndGraphSubscriptionsSealAndRotate) {
  auto db = org_db("contoso");
  SecretStore secrets(*db, ring(kKey));
  ASSERT_TRUE(secrets.put("exchange_password", Secret("pw1")));
  ASSERT_TRUE(secrets.put("exchange_password", Secret("pw2")));
  EXPECT_EQ(secrets.get("exchange_password").value()->reveal(), "pw2");
  EXPECT_EQ(secrets.names().value(), std::vector<std::string>{"exchange_password"});

  auto http = net::make_curl_client({});
  Metrics metrics;
  Webhooks hooks(*db, secrets, *http, metrics, {});
  auto first = hooks.add("https://hooks.example.com/a", Secret("0123456789abcdef"));
  auto second = hooks.add("https://hooks.example.com/b", Secret("fedcba9876543210"));
  ASSERT_TRUE(first && second) << (first ? second.error().message : first.error().message);
  EXPECT_LT(first->id, second->id);
  ASSERT_TRUE(hooks.remove(first->id));
  EXPECT_EQ(hooks.remove(first->id).error().kind, ErrorKind::kNotFound);
  ASSERT_EQ(hooks.list()->size(), 1u);
  EXPECT_TRUE(hooks.dead_letters()->empty());

  GraphSubscriptions graph(*db, secrets);
  ASSERT_TRUE(graph.add({"sub-1", "Anna", 1000}, Secret("state-1")));
  ASSERT_TRUE(graph.add({"sub-2", "bert", 5000}, Secret("state-2")));
  EXPECT_EQ(graph.verify("sub-1", "state-1").value(), std::optional<std::string>("Anna"));
  EXPECT_EQ(graph.verify("sub-1", "state-2").value(), std::nullopt);
  ASSERT_EQ(graph.expiring(1500, 0)->size(), 1u);
  ASSERT_TRUE(graph.set_expiry("sub-1", 9000));
  EXPECT_TRUE(graph.expiring(1500, 0)->empty());

  // Rotation re-seals all three kinds under the new key; the old key may then go.
  SecretStore rotating(*db, ring((std::string(kNewKey) + "," + kKey).c_str()));
  EXPECT_EQ(rotating.rotate().value(), 4u) << "a secret, a webhook, two subscriptions";
  SecretStore new_only(*db, ring(kNewKey));
  EXPECT_EQ(new_only.get("exchange_password").value()->reveal(), "pw2");
  GraphSubscriptions after(*db, new_only);
  EXPECT_EQ(after.verify("sub-2", "state-2").value(), std::optional<std::string>("bert"));

  EXPECT_TRUE(SecretStore(*org_db("fabrikam"), ring()).names()->empty());
}

TEST_P(ServiceTables, OrganisationsTheirConnectionsAndRemoval) {
  ASSERT_TRUE(platform_->ensure_default());
  ASSERT_TRUE(platform_->ensure_default()) << "a second call finds it";
  auto listed = platform_->organisations();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].id, "contoso");
  EXPECT_EQ((*listed)[1].id, "default");
  EXPECT_EQ(platform_->create("contoso", "again").error().kind, ErrorKind::kConflict);

  platform::OrganisationUpdate update;
  update.name = "Contoso Ltd";
  update.state = platform::OrgState::kSuspended;
  ASSERT_TRUE(platform_->update("contoso", update));

  platform::Connection connection;
  connection.exchange.backend = config::ExchangeBackend::kEws;
  connection.exchange.url = "https://mail.contoso.com/EWS/Exchange.asmx";
  connection.exchange.user = "svc-sync";
  platform::SecretUpdates secrets;
  secrets.exchange_password = Secret("s3cret");
  auto set = platform_->set_connection("contoso", connection, secrets);
  ASSERT_TRUE(set) << set.error().message;
  connection.exchange.user = "svc-other";
  ASSERT_TRUE(platform_->set_connection("contoso", connection, {})) << "an update keeps secrets";

  // Another handle (another node) reads what this one wrote.
  auto other = platform::Platform::open(node_, ring());
  ASSERT_TRUE(other) << other.error().message;
  auto seen = (*other)->organisation("contoso");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->name, "Contoso Ltd");
  EXPECT_EQ(seen->state, platform::OrgState::kSuspended);
  auto unsealed = (*other)->connection("contoso", true);
  ASSERT_TRUE(unsealed) << unsealed.error().message;
  EXPECT_EQ(unsealed->exchange.user, "svc-other");
  EXPECT_EQ(unsealed->exchange.password.value.reveal(), "s3cret");
  EXPECT_EQ((*other)->connection("contoso", false)->exchange.password.value.reveal(), "(set)");

  const auto agenda = platform_->organisation("fabrikam")->database.string();
  ASSERT_TRUE(platform_->remove("fabrikam"));
  EXPECT_EQ(platform_->organisation("fabrikam").error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(platform_->remove("default").error().kind, ErrorKind::kConflict);
  // Its agenda (file or schema) went with it.
  EXPECT_FALSE(store::open_agenda_store(agenda, "fabrikam"))
      << "the removed organisation's agenda still opens";
}

INSTANTIATE_TEST_SUITE_P(Contract, ServiceTables,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         store::testing::backend_name);

}  // namespace
}  // namespace agendasync::service
