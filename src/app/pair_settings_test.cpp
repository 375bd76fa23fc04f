// The engine policy and the EWS connection a user's pair gets from the settings.
#include "app/pair_settings.h"

#include <gtest/gtest.h>

#include "store/sqlite_agenda_store.h"
#include "store/test_support.h"

namespace agendasync::app {
namespace {

TEST(PlanPolicy, UserOverridesWinOverOrganisationDefaults) {
  User user;
  user.user_name = "JDOE";
  user.sync_enabled = true;
  store::OrganisationSettings organisation;
  organisation.sync.direction = SyncDirection::kTwoWay;
  organisation.sync.conflict_policy = ConflictPolicy::kNewestWins;
  organisation.sync.first_sync_days = 12;
  organisation.sync.deleted_in_exchange = DeletedInExchange::kLeaveDeleted;
  auto policy = plan_policy(user, effective_settings({}, organisation, &user), {});
  EXPECT_EQ(policy.direction, SyncDirection::kTwoWay);
  EXPECT_EQ(policy.conflict_policy, ConflictPolicy::kNewestWins);
  EXPECT_EQ(policy.skip_ended_after, std::chrono::days{12});
  EXPECT_EQ(policy.deleted_in_exchange, DeletedInExchange::kLeaveDeleted);
  EXPECT_EQ(policy.host_user, "JDOE");

  user.overrides.direction = SyncDirection::kFromExchange;
  user.overrides.conflict_policy = ConflictPolicy::kHostWins;
  policy = plan_policy(user, effective_settings({}, organisation, &user), {});
  EXPECT_EQ(policy.direction, SyncDirection::kFromExchange);
  EXPECT_EQ(policy.conflict_policy, ConflictPolicy::kHostWins);
  EXPECT_FALSE(policy.send_invitations);
}

/// A configuration whose [sync] sets every key to a non-default value (through the text
/// codec the file, the CLI and the agenda share).
config::Config config_with_sync() {
  config::Config config;
  config.exchange.backend = config::ExchangeBackend::kGraph;
  const std::pair<const char*, const char*> keys[] = {
      {"direction", "to-exchange"},      {"conflict_policy", "host-wins"},
      {"first_sync_days", "7"},          {"deleted_in_exchange", "leave-deleted"},
      {"breaker_share", "50"},           {"breaker_min_items", "3"},
      {"first_sync_approval", "true"},   {"send_meeting_requests", "true"},
      {"users_choose_direction", "true"}};
  for (const auto& [key, text] : keys) {
    auto set = set_sync_setting(config.sync, key, text);
    EXPECT_TRUE(set) << set.error().message;
  }
  return config;
}

TEST(SettingCodec, BadTextNamesTheKeyAndWhatIsAllowed) {
  SyncSettingsLayer layer;
  auto expect_refused = [&](const char* key, const char* text, const char* expected) {
    auto set = set_sync_setting(layer, key, text);
    ASSERT_FALSE(set) << key << "=" << text;
    EXPECT_EQ(set.error().kind, ErrorKind::kInvalidData);
    EXPECT_NE(set.error().message.find(key), std::string::npos) << set.error().message;
    EXPECT_NE(set.error().message.find(expected), std::string::npos) << set.error().message;
  };
  expect_refused("direction", "sideways", "two-way");
  expect_refused("breaker_share", "0", "1..100 percent");
  expect_refused("breaker_share", "20%", "1..100 percent");
  expect_refused("first_sync_days", "3651", "0..3650");
  expect_refused("first_sync_approval", "yes", "true or false");
  expect_refused("breaker_shares", "20", "known: direction");
  EXPECT_EQ(layer, SyncSettingsLayer{}) << "nothing set by a refused value";
  // Text round trip, and nullopt clears.
  ASSERT_TRUE(set_sync_setting(layer, "breaker_min_items", "0"));
  EXPECT_EQ(sync_setting_texts(layer),
            (std::vector<std::pair<std::string, std::string>>{{"breaker_min_items", "0"}}));
  ASSERT_TRUE(set_sync_setting(layer, "breaker_min_items", std::nullopt));
  EXPECT_EQ(layer, SyncSettingsLayer{});
}

TEST(LayeredSettings, R12_BuiltInDefaultsWhenNothingIsSet) {
  const auto settings = effective_settings({}, {});
  EXPECT_EQ(settings, SyncSettings{});
  EXPECT_EQ(settings.direction.value, SyncDirection::kTwoWay);
  EXPECT_EQ(settings.breaker_share_percent.value, 20);
  EXPECT_EQ(settings.breaker_min_items.value, 10);
  EXPECT_FALSE(settings.first_sync_approval.value);
  EXPECT_FALSE(settings.send_meeting_requests.value);
  for (const auto& line : setting_lines(settings)) {
    EXPECT_EQ(line.source, SettingSource::kBuiltIn) << line.key;
  }
}

TEST(LayeredSettings, R12_ConfigFileAppliesWhenTheAgendaHasNone) {
  User user;
  user.user_name = "JDOE";
  auto pair = pair_policy(user, config_with_sync(), {}, {});
  ASSERT_TRUE(pair) << pair.error().message;
  EXPECT_EQ(pair->plan.direction, SyncDirection::kToExchange);
  EXPECT_EQ(pair->plan.conflict_policy, ConflictPolicy::kHostWins);
  EXPECT_EQ(pair->plan.skip_ended_after, std::chrono::days{7});
  EXPECT_EQ(pair->plan.deleted_in_exchange, DeletedInExchange::kLeaveDeleted);
  EXPECT_TRUE(pair->plan.send_invitations);
  EXPECT_DOUBLE_EQ(pair->breaker.max_share, 0.5);
  EXPECT_EQ(pair->breaker.min_items, 3u);
  EXPECT_TRUE(pair->first_sync_requires_approval);
  for (const auto& line : setting_lines(effective_settings(config_with_sync(), {}))) {
    EXPECT_EQ(line.source, SettingSource::kConfigFile) << line.key;
  }
}

TEST(LayeredSettings, R12_AgendaValueWinsOverTheConfigFile) {
  store::OrganisationSettings organisation;
  organisation.sync.direction = SyncDirection::kTwoWay;  // the built-in value, set explicitly
  organisation.sync.breaker_share_percent = 20;
  organisation.sync.first_sync_approval = false;
  User user;
  user.user_name = "JDOE";
  auto pair = pair_policy(user, config_with_sync(), organisation, {});
  ASSERT_TRUE(pair) << pair.error().message;
  EXPECT_EQ(pair->plan.direction, SyncDirection::kTwoWay);
  EXPECT_DOUBLE_EQ(pair->breaker.max_share, 0.2);
  EXPECT_FALSE(pair->first_sync_requires_approval);
  // Keys the organisation leaves alone still come from the file.
  EXPECT_EQ(pair->plan.conflict_policy, ConflictPolicy::kHostWins);
  EXPECT_EQ(pair->breaker.min_items, 3u);
  const auto settings = effective_settings(config_with_sync(), organisation);
  EXPECT_EQ(settings.direction.source, SettingSource::kOrganisation);
  EXPECT_EQ(settings.conflict_policy.source, SettingSource::kConfigFile);
}

TEST(LayeredSettings, R12_R19_UserOverrideWinsOverBoth) {
  store::OrganisationSettings organisation;
  organisation.sync.direction = SyncDirection::kTwoWay;
  organisation.sync.conflict_policy = ConflictPolicy::kExchangeWins;
  User user;
  user.user_name = "JDOE";
  user.overrides.direction = SyncDirection::kFromExchange;
  user.overrides.conflict_policy = ConflictPolicy::kNewestWins;
  auto pair = pair_policy(user, config_with_sync(), organisation, {});
  ASSERT_TRUE(pair) << pair.error().message;
  EXPECT_EQ(pair->plan.direction, SyncDirection::kFromExchange);
  EXPECT_EQ(pair->plan.conflict_policy, ConflictPolicy::kNewestWins);
  const auto settings = effective_settings(config_with_sync(), organisation, &user);
  EXPECT_EQ(settings.direction.source, SettingSource::kUser);
  EXPECT_EQ(settings.conflict_policy.source, SettingSource::kUser);
  // The organisation's view ignores the user.
  EXPECT_EQ(effective_settings(config_with_sync(), organisation).direction.value,
            SyncDirection::kTwoWay);
}

TEST(LayeredSettings, R39_MeetingRequestsOnAnEwsBackendAreRefusedNamingTheFix) {
  config::Config config;
  config.exchange.backend = config::ExchangeBackend::kEws;
  store::OrganisationSettings organisation;
  organisation.sync.send_meeting_requests = true;
  User user;
  user.user_name = "JDOE";
  auto pair = pair_policy(user, config, organisation, {});
  ASSERT_FALSE(pair);
  EXPECT_EQ(pair.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(pair.error().message.find("--send-meeting-requests"), std::string::npos);
  EXPECT_NE(pair.error().message.find("organisation"), std::string::npos);
  organisation.sync.send_meeting_requests = false;
  EXPECT_TRUE(pair_policy(user, config, organisation, {}));
}

TEST(PlanPolicy, ActivityTypesTheAdminChose) {
  User user;
  user.user_name = "JDOE";
  user.sync_enabled = true;
  std::vector<store::ActivityType> types{store::ActivityType{"Meeting", true, true, false},
                                         store::ActivityType{"Personal", true, false, true},
                                         store::ActivityType{"Internal", false, false, false}};
  auto policy = plan_policy(user, SyncSettings{}, types);
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
  auto policy = plan_policy(user, SyncSettings{}, types);
  Appointment item;
  item.activity_type = "Meeting";
  EXPECT_FALSE(policy.activity_types.syncs_to_remote(item));
}

TEST(PlanPolicy, WithoutActivityTypesRemoteItemsComeInUntyped) {
  User user;
  user.user_name = "JDOE";
  auto policy = plan_policy(user, SyncSettings{}, {});
  Appointment remote;
  EXPECT_EQ(policy.activity_types.host_type_for(remote), "");
  remote.sensitivity = Sensitivity::kPrivate;
  EXPECT_EQ(policy.activity_types.host_type_for(remote), "");
}

TEST(PlanPolicy, R16_PrivateItemsFollowARenamedOrRemovedPersonalType) {
  // Through the real store: what `activity-types rename|remove` leave for the next run.
  store::testing::TempDir dir;
  auto agenda = store::open_sqlite_agenda_store(dir / "agenda.db", store::testing::creating());
  ASSERT_TRUE(agenda) << agenda.error().message;
  ASSERT_TRUE((*agenda)->put_activity_type({"Meeting", true, true, false}));
  ASSERT_TRUE((*agenda)->put_activity_type({"Personal", true, false, true}));
  User user;
  user.user_name = "JDOE";
  Appointment remote;
  remote.sensitivity = Sensitivity::kPrivate;

  ASSERT_TRUE((*agenda)->update_activity_type("Personal", {"Private", true, false, true}));
  auto policy = plan_policy(user, SyncSettings{}, (*agenda)->activity_types().value());
  EXPECT_EQ(policy.activity_types.host_type_for(remote), "Private");

  ASSERT_TRUE((*agenda)->remove_activity_type("Private"));
  policy = plan_policy(user, SyncSettings{}, (*agenda)->activity_types().value());
  EXPECT_EQ(policy.activity_types.host_type_for(remote), "Meeting");
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
