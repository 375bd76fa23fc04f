// A connection changed by another process (the CLI's `orgs set --connection` beside the
// daemon, or another node on the same PostgreSQL) reaches the running daemon: it starts the
// organisation's watchers and syncs over on the new connection within its platform follow
// period, once per change, and two changes within one second are both seen.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "api_test_support.h"
#include "platform/connection.h"
#include "platform/platform.h"
#include "service/secrets/key_ring.h"
#include "service/tenant.h"

namespace agendasync::apitest {
namespace {

class ConnectionFollow : public ApiTest {
 protected:
  void configure(service::ServerOptions& options) override {
    options.start_organisation = [this](service::Server&, const std::string& org,
                                        const config::Config& config) {
      std::lock_guard lock(mutex_);
      started_[org].push_back(config.exchange.url);
      return Result<std::function<void()>>([] {});
    };
  }
  void SetUp() override {
    ApiTest::SetUp();
    ASSERT_TRUE(server_->platform().create("beta", "Beta Ltd"));
    ASSERT_TRUE(server_->refresh_organisation("beta"));
  }
  std::vector<std::string> starts(const std::string& org) {
    std::lock_guard lock(mutex_);
    return started_[org];
  }
  /// The connection set as another process does: its own Platform on the node's database.
  void set_elsewhere(platform::Platform& other, const std::string& url) {
    auto current = other.connection("beta", false);
    ASSERT_TRUE(current) << current.error().message;
    auto fields = platform::connection_from_json(
        json{{"backend", "ews"}, {"ews", {{"url", url}, {"user", "svc@beta.example"}}}}, *current);
    ASSERT_TRUE(fields) << fields.error().message;
    platform::SecretUpdates secrets;
    secrets.exchange_password = Secret("service-password-1");
    auto stored = other.set_connection("beta", *fields, secrets);
    ASSERT_TRUE(stored) << stored.error().message;
  }

  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> started_;
};

/// The platform follower reading the organisation list as often as it can, so that it lists
/// in the middle of every API change: a change must still start the organisation once, and a
/// deletion in progress must never see the organisation served again.
class ConnectionFollowBusy : public ConnectionFollow {
 protected:
  void configure(service::ServerOptions& options) override {
    ConnectionFollow::configure(options);
    options.feed_poll = 1ms;
    options.platform_follow = 0ms;
    options.offboard = [this](const std::string& org) -> Result<std::size_t> {
      offboarding_ = true;
      std::this_thread::sleep_for(300ms);  // the follower lists many times meanwhile
      const bool served = server_->tenant(org) != nullptr;
      offboarding_ = false;
      if (served) return fail(ErrorKind::kConflict, "served again while offboarding");
      return 0;
    };
  }
  std::atomic<bool> offboarding_{false};
};

TEST_F(ConnectionFollow, AConnectionSetByAnotherProcessRestartsTheOrganisationOnceOnIt) {
  config::Config node;
  node.database = dir_ / "agenda.db";
  auto other = platform::Platform::open(node, *service::secrets::parse_key_ring(test_key_ring()));
  ASSERT_TRUE(other) << other.error().message;
  const auto before = starts("beta").size();

  set_elsewhere(**other, "https://mail-1.beta.example/EWS/Exchange.asmx");
  ASSERT_TRUE(eventually(
      [&] {
        auto seen = starts("beta");
        return !seen.empty() && seen.back() == "https://mail-1.beta.example/EWS/Exchange.asmx";
      },
      10s))
      << "the daemon still runs beta on its old connection";

  // Two changes in the same second: the second one is not lost to a timestamp's resolution.
  set_elsewhere(**other, "https://mail-2.beta.example/EWS/Exchange.asmx");
  set_elsewhere(**other, "https://mail-3.beta.example/EWS/Exchange.asmx");
  ASSERT_TRUE(eventually(
      [&] { return starts("beta").back() == "https://mail-3.beta.example/EWS/Exchange.asmx"; },
      10s));

  // Followed once per change, not at every read of the organisation list.
  const auto settled = starts("beta").size();
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(starts("beta").size(), settled);
  EXPECT_LE(settled - before, 3u);
}

TEST_F(ConnectionFollow, AConnectionSetThroughTheApiRestartsTheOrganisationOnlyOnce) {
  const std::string beta_admin =
      server_->tenant("beta")->tokens().create("admin", "t")->value.reveal();
  const auto before = starts("beta").size();
  auto put = call(
      "PUT", "/api/v1/connection", beta_admin,
      json{{"backend", "ews"},
           {"ews",
            {{"url", "https://mail.beta.example/EWS/Exchange.asmx"}, {"user", "svc@beta.example"}}},
           {"secrets", {{"exchange_password", "service-password-2"}}}});
  ASSERT_EQ(put.status, 200) << put.body;
  ASSERT_EQ(starts("beta").size(), before + 1) << "the API refreshes the organisation at once";
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(starts("beta").size(), before + 1) << "and the platform follower not again";
}

TEST_F(ConnectionFollowBusy, EveryApiChangeStartsTheOrganisationOnceEvenWhileTheFollowerLists) {
  const std::string beta_admin =
      server_->tenant("beta")->tokens().create("admin", "t")->value.reveal();
  for (int change = 0; change < 40; ++change) {
    const auto before = starts("beta").size();
    auto put = call(
        "PUT", "/api/v1/connection", beta_admin,
        json{
            {"backend", "ews"},
            {"ews",
             {{"url", "https://mail-" + std::to_string(change) + ".beta.example/EWS/Exchange.asmx"},
              {"user", "svc@beta.example"}}},
            {"secrets", {{"exchange_password", "service-password-2"}}}});
    ASSERT_EQ(put.status, 200) << put.body;
    std::this_thread::sleep_for(20ms);  // the follower's turns after the change
    ASSERT_EQ(starts("beta").size(), before + 1) << "change " << change << " started beta twice";
  }
}

TEST_F(ConnectionFollowBusy, AnOrganisationBeingDeletedIsNotServedAgainByTheFollower) {
  const std::string operator_token =
      server_->operator_tokens().create("operator", "ops")->value.reveal();
  auto deleted =
      call("DELETE", "/api/v1/organisations/beta?confirm=beta&offboard=true", operator_token);
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(server_->tenant("beta"), nullptr);
}

}  // namespace
}  // namespace agendasync::apitest
