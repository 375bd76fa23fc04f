// The engine policy and the EWS connection a user's pair gets from the settings.
#include "app/pair_settings.h"

#include <gtest/gtest.h>

namespace agendasync::app {
namespace {

TEST(PlanPolicy, UserOverridesWinOverOrganisationDefaults) {
  User user;
  user.user_name = "JDOE";
  user.sync_enabled = true;
  store::OrganisationSettings settings;
  settings.default_direction = SyncDirection::kTwoWay;
  settings.conflict_policy = ConflictPolicy::kNewestWins;
  settings.first_sync_days = 12;
  settings.deleted_in_exchange = DeletedInExchange::kLeaveDeleted;
  auto policy = plan_policy(user, settings, {});
  EXPECT_EQ(policy.direction, SyncDirection::kTwoWay);
  EXPECT_EQ(policy.conflict_policy, ConflictPolicy::kNewestWins);
  EXPECT_EQ(policy.skip_ended_after, std::chrono::days{12});
  EXPECT_EQ(policy.deleted_in_exchange, DeletedInExchange::kLeaveDeleted);
  EXPECT_EQ(policy.host_user, "JDOE");

  user.overrides.direction = SyncDirection::kFromExchange;
  user.overrides.conflict_policy = ConflictPolicy::kHostWins;
  policy = plan_policy(user, settings, {});
  EXPECT_EQ(policy.direction, SyncDirection::kFromExchange);
  EXPECT_EQ(policy.conflict_policy, ConflictPolicy::kHostWins);
  EXPECT_FALSE(policy.send_invitations);
}

TEST(PlanPolicy, ActivityTypesTheAdminChose) {
  User user;
  user.user_name = "JDOE";
  user.sync_enabled = true;
  std::vector<store::ActivityType> types{store::ActivityType{"Meeting", true, true, false},
                                         store::ActivityType{"Personal", true, false, true},
                                         store::ActivityType{"Internal", false, false, false}};
  auto policy = plan_policy(user, {}, types);
  Appointment item;
  item.activity_type = "Meeting";
  EXPECT_TRUE(policy.activity_types.syncs_to_remote(item));
  item.activity_type = "Internal";
  EXPECT_FALSE(policy.activity_types.syncs_to_remote(item));
  item.activity_type = "";
  EXPECT_TRUE(policy.activity_types.syncs_to_remote(item));
  item.activity_type = "Meeting";
  item.project_task = true;
  EXPECT_FALSE(policy.activity_types.syncs_to_remote(item));
  EXPECT_EQ(policy.activity_types.default_type, "Meeting");
  Appointment remote;
  remote.sensitivity = Sensitivity::kPrivate;
  EXPECT_EQ(policy.activity_types.host_type_for(remote), "Personal");
}

TEST(PlanPolicy, NoTypeChosenMeansNothingTyped) {
  User user;
  user.user_name = "JDOE";
  user.sync_enabled = true;
  std::vector<store::ActivityType> types{store::ActivityType{"Meeting", false, true, false}};
  auto policy = plan_policy(user, {}, types);
  Appointment item;
  item.activity_type = "Meeting";
  EXPECT_FALSE(policy.activity_types.syncs_to_remote(item));
}

TEST(PlanPolicy, WithoutActivityTypesRemoteItemsComeInUntyped) {
  User user;
  user.user_name = "JDOE";
  auto policy = plan_policy(user, {}, {});
  Appointment remote;
  EXPECT_EQ(policy.activity_types.host_type_for(remote), "");
  remote.sensitivity = Sensitivity::kPrivate;
  EXPECT_EQ(policy.activity_types.host_type_for(remote), "");
}

TEST(EwsSideOptions, FromTheConfig) {
  config::Config config;
  config.source = "/etc/agendasync.toml";
  config.exchange.backend = config::ExchangeBackend::kEws;
  config.exchange.url = "https://mail.example.com/EWS/Exchange.asmx";
  config.exchange.version = config::ExchangeVersion::k2019;
  config.exchange.auth = config::EwsAuth::kNtlm;
  config.exchange.user = "svc";
  config.exchange.domain = "CORP";
  auto options = ews_side_options(config, Secret("pw"), "jdoe@example.com");
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->context.version, ews::ServerVersion::kExchange2016);
  EXPECT_EQ(options->context.mode, ews::AccessMode::kImpersonation);
  EXPECT_EQ(options->context.mailbox, "jdoe@example.com");
  EXPECT_EQ(options->credentials.method, net::AuthMethod::kNtlm);
  EXPECT_EQ(options->credentials.domain, "CORP");

  config.exchange.url.clear();
  auto missing = ews_side_options(config, Secret("pw"), "jdoe@example.com");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("exchange.url"), std::string::npos);
}

TEST(GraphSideOptions, FromTheConfig) {
  config::Config config;
  config.source = "/etc/agendasync.toml";
  config.exchange.backend = config::ExchangeBackend::kGraph;
  config.graph.graph_url = "https://127.0.0.1:4443/v1.0/";
  auto options = graph_side_options(config, "jdoe@example.com");
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->base_url, "https://127.0.0.1:4443/v1.0");
  EXPECT_EQ(options->mailbox, "jdoe@example.com");

  config.exchange.backend = config::ExchangeBackend::kNone;
  auto refused = graph_side_options(config, "jdoe@example.com");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("backend = \"graph\""), std::string::npos);
}

TEST(GraphAppCredentials, FromTheConfig) {
  config::GraphConfig graph;
  graph.tenant_id = "11111111-2222-3333-4444-555555555555";
  graph.client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  graph.authority_url = "https://127.0.0.1:4443";
  auto app = graph_app_credentials(graph, Secret("s3cret"), "", Secret{});
  EXPECT_EQ(app.authority, "https://127.0.0.1:4443");
  EXPECT_EQ(app.tenant, graph.tenant_id);
  EXPECT_EQ(app.client_id, graph.client_id);
  EXPECT_EQ(app.client_secret.reveal(), "s3cret");
  EXPECT_EQ(graph::admin_consent_url(app),
            "https://127.0.0.1:4443/11111111-2222-3333-4444-555555555555/adminconsent?client_id="
            "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
}

}  // namespace
}  // namespace agendasync::app
