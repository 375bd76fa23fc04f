// R23 over real HTTP: API writes wake the affected pairs after the debounce, Graph change
// notifications (validation handshake, clientState check) wake only their mailbox, renewal
// before expiry, and graceful shutdown with a sync in flight.
#include "api_test_support.h"

namespace agendasync::apitest {
namespace {

class RealtimeApi : public ApiTest {
 protected:
  // Long enough that the edits below land inside one debounce window even on a loaded CI.
  void configure(service::ServerOptions& options) override { options.scheduler.debounce = 400ms; }
};

TEST_F(RealtimeApi, HostChangesWakeOwnerAndParticipantsAfterTheDebounce) {
  auto before = std::chrono::steady_clock::now();
  json created = create_appointment("alice", "Team", {"bob"});
  const std::string path = "/api/v1/appointments/" + std::to_string(created["id"].get<int>());
  // Several quick edits: still one run per pair.
  std::string etag = get(path, admin_).header("ETag");
  for (int i = 0; i < 3; ++i) {
    auto patched = call("PATCH", path, admin_, json{{"location", "Room " + std::to_string(i)}},
                        {{"If-Match", etag}});
    ASSERT_EQ(patched.status, 200);
    etag = patched.header("ETag");
  }
  ASSERT_TRUE(eventually([&] { return sync_.count("alice") == 1 && sync_.count("bob") == 1; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sync_.count("alice"), 1);
  EXPECT_EQ(sync_.count("bob"), 1);
  EXPECT_EQ(sync_.count("carol"), 0) << "a pair the change does not touch stays asleep";
  std::lock_guard lock(sync_.mutex);
  EXPECT_GE(sync_.runs.front().second - before, 390ms) << "the debounce is 400 ms";
}

TEST_F(RealtimeApi, RemovedParticipantIsWoken) {
  json created = create_appointment("alice", "Team", {"bob"});
  ASSERT_TRUE(eventually([&] { return sync_.count("bob") == 1; }));
  const std::string path = "/api/v1/appointments/" + std::to_string(created["id"].get<int>());
  auto patched = call("PATCH", path, admin_, json{{"participants", json::array({"carol"})}},
                      {{"If-Match", get(path, admin_).header("ETag")}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(eventually([&] { return sync_.count("bob") == 2 && sync_.count("carol") == 1; }));
}

TEST_F(RealtimeApi, GraphValidationHandshakeEchoesTheToken) {
  auto started = std::chrono::steady_clock::now();
  auto reply =
      call("POST",
           "/api/v1/notifications/"
           "graph?validationToken=Validation%3A%20Testing%20client%20application%20reachability",
           "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Type"), "text/plain");
  EXPECT_EQ(reply.body, "Validation: Testing client application reachability");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST_F(RealtimeApi, GraphNotificationsWakeOnlyTheirMailboxAndNeedTheClientState) {
  const std::string state = "client-state-7d2e9b";
  never_reveal(state);
  ASSERT_TRUE(
      server_->graph().add({"sub-alice", "alice", service::unix_now() + 3600}, Secret(state)));
  ASSERT_TRUE(server_->graph().add({"sub-bob", "bob", service::unix_now() + 3600},
                                   Secret("client-state-other")));
  never_reveal("client-state-other");

  auto forged = call("POST", "/api/v1/notifications/graph", "",
                     json{{"value",
                           {{{"subscriptionId", "sub-alice"},
                             {"clientState", "guessed-state"},
                             {"changeType", "updated"},
                             {"resource", "Users/alice/Events/AAMk"}}}}});
  EXPECT_EQ(forged.status, 202);
  EXPECT_EQ(forged.json_body["rejected"], 1);
  auto unknown =
      call("POST", "/api/v1/notifications/graph", "",
           json{{"value", {{{"subscriptionId", "sub-nobody"}, {"clientState", state}}}}});
  EXPECT_EQ(unknown.json_body["rejected"], 1);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sync_.users().size(), 0u) << "a rejected notification wakes nothing";

  auto genuine = call("POST", "/api/v1/notifications/graph", "",
                      json{{"value",
                            {{{"subscriptionId", "sub-alice"},
                              {"clientState", state},
                              {"changeType", "created"},
                              {"resource", "Users/alice/Events/AAMk"}}}}});
  EXPECT_EQ(genuine.status, 202);
  EXPECT_EQ(genuine.json_body["accepted"], 1);
  ASSERT_TRUE(eventually([&] { return sync_.count("alice") == 1; }));
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(sync_.users(), std::vector<std::string>{"alice"}) << "only that mailbox is woken";
  EXPECT_EQ(call("POST", "/api/v1/notifications/graph", "", json{{"nothing", 1}}).status, 400);
  EXPECT_EQ(server_->metrics().value(service::metric::kNotifications,
                                     {{"source", "graph"}, {"result", "rejected"}}),
            2);
}

TEST_F(RealtimeApi, GraphSubscriptionsAreRenewedBeforeExpiry) {
  auto now = service::unix_now();
  ASSERT_TRUE(server_->graph().add({"soon", "alice", now + 600}, Secret("cs-soon-123")));
  ASSERT_TRUE(server_->graph().add({"later", "bob", now + 86400}, Secret("cs-later-456")));
  std::vector<std::string> renewed;
  auto count = server_->graph().renew_due(
      [&](const service::GraphSubscription& subscription) -> Result<std::int64_t> {
        renewed.push_back(subscription.id);
        return now + 3 * 86400;
      },
      /*margin_seconds=*/1800);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(renewed, std::vector<std::string>{"soon"});
  auto still_due = server_->graph().expiring(now, 1800);
  ASSERT_TRUE(still_due);
  EXPECT_TRUE(still_due->empty());
}

class ShutdownApi : public ApiTest {
 protected:
  void configure(service::ServerOptions& options) override {
    sync_.duration = 600ms;
    (void)options;
  }
};

TEST_F(ShutdownApi, StopWaitsForTheSyncInFlight) {
  ASSERT_EQ(call("PUT", "/api/v1/users/alice/sync", alice_, json{{"enabled", true}}).status, 200);
  ASSERT_TRUE(eventually([&] { return sync_.in_flight.load() == 1; }));
  auto stopping = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_EQ(sync_.in_flight.load(), 0);
  EXPECT_EQ(sync_.count("alice"), 1) << "the batch in flight finished before stop returned";
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 5s);
  httplib::Client client("127.0.0.1", server_->port());
  client.set_connection_timeout(1, 0);
  EXPECT_FALSE(client.Get("/healthz")) << "no requests are accepted after stop";
}

}  // namespace
}  // namespace agendasync::apitest
