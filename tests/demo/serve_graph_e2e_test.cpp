// `agendasync serve` with backend "graph" as a real process against exsim's Graph v1.0 (R23):
// the daemon subscribes every synced mailbox (Graph validates [server] public_url first), a
// change made through Graph reaches the host change feed woken by Graph's change notification
// (the safety net is an hour away), a forged notification wakes nothing, lifecycle
// notifications renew, run the pair or subscribe again, subscriptions are renewed before they
// expire and deleted when the daemon stops; without public_url the daemon says notifications
// are off.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "tests/demo/graph_test_support.h"
#include "tests/demo/serve_process.h"
#include "tests/demo/serve_test_support.h"
#include "tests/e2e/world.h"

namespace agendasync::demotest {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kNotifications = "/api/v1/notifications/graph";

/// Sync runs of `user` started by `trigger`, from log line `from` on.
std::size_t runs(const ServeProcess& serve, const std::string& user, const std::string& trigger,
                 std::size_t from = 0) {
  std::size_t found = 0;
  for (const auto& line : events(serve, "sync_run", user, from)) {
    if (line.value("trigger", "") == trigger) ++found;
  }
  return found;
}

/// A Graph world whose daemon will listen on `port`, with `public_url` pointing there.
e2e::WorldOptions graph_world(nlohmann::json exsim_graph_limits = nlohmann::json::object()) {
  e2e::WorldOptions options;
  options.backend = e2e::Backend::kGraph;
  options.exsim_graph_limits = std::move(exsim_graph_limits);
  return options;
}

struct GraphServe {
  e2e::World world;
  std::string token;
  int port = free_loopback_port();

  explicit GraphServe(const std::vector<std::string>& users, bool with_public_url = true,
                      e2e::WorldOptions options = graph_world())
      : world(std::move(options)) {
    for (const auto& user : users) world.add_user(user);
    token = integration_token(world);
    auto key = world.cli({"secrets", "new-key", "--file", (world.dir() / "keys").string()});
    EXPECT_EQ(key.exit_code, 0) << key.err;
    if (with_public_url) {
      std::ofstream(world.config_path(), std::ios::app)
          << "[server]\npublic_url = \"http://127.0.0.1:" << port << "/\"\n";
    }
  }

  std::unique_ptr<ServeProcess> start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--config",
                                     world.config_path().string(),
                                     "serve",
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port),
                                     "--secret-key-file",
                                     (world.dir() / "keys").string(),
                                     "--safety-net-minutes",
                                     "60",
                                     "--watch-refresh-seconds",
                                     "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ServeProcess>(e2e::agendasync_binary(), args,
                                          world.dir() / "serve.log");
  }

  std::string notification_url() const {
    return "http://127.0.0.1:" + std::to_string(port) + kNotifications;
  }
};

/// Waits for `user`'s subscription at Graph, for the catch-up run that follows it and for
/// the scheduler to be idle (nothing queued that a later trigger could merge with).
json subscribed(GraphAdmin& graph, Api& api, const ServeProcess& serve, const std::string& user,
                const std::string& mailbox) {
  std::optional<json> found;
  EXPECT_TRUE(eventually([&] { return (found = graph.subscription_of(mailbox)).has_value(); }))
      << serve.log();
  if (!found) return nullptr;
  EXPECT_TRUE(eventually([&] {
    auto lines = log_lines(serve);
    std::optional<std::size_t> created;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].value("event", "") == "graph_subscription_created" &&
          lines[i].value("user", "") == user) {
        created = i;
      }
    }
    return created && !events(serve, "sync_run", user, *created).empty() &&
           api.metric("agendasync_sync_queue_depth") == 0 &&
           api.metric("agendasync_syncs_running") == 0;
  })) << serve.log();
  return *found;
}

json change_notification(const std::string& id, const std::string& client_state) {
  return {{"value",
           {{{"subscriptionId", id},
             {"clientState", client_state},
             {"changeType", "created"},
             {"resource", "Users/someone/Events/AAMk"},
             {"tenantId", e2e::GraphApp::kTenant}}}}};
}

json lifecycle_notification(const json& subscription, const std::string& event) {
  return {{"value",
           {{{"subscriptionId", subscription["id"]},
             {"subscriptionExpirationDateTime", subscription["expirationDateTime"]},
             {"clientState", subscription["clientState"]},
             {"lifecycleEvent", event},
             {"tenantId", e2e::GraphApp::kTenant}}}}};
}

TEST(ServeGraphE2e, GraphNotificationWakesOnlyItsMailboxAndForgeriesNothing) {
  GraphServe setup({"JDOE", "ASMITH"});
  auto serve = setup.start();
  Api api(serve->port(), setup.token);
  GraphAdmin graph(setup.world);

  // One subscription per synced mailbox, as Graph integrations write them.
  const json jdoe = subscribed(graph, api, *serve, "JDOE", "jdoe@example.com");
  ASSERT_TRUE(jdoe.is_object());
  ASSERT_TRUE(subscribed(graph, api, *serve, "ASMITH", "asmith@example.com").is_object());
  EXPECT_EQ(jdoe.value("changeType", ""), "created,updated,deleted");
  EXPECT_EQ(jdoe.value("notificationUrl", ""), setup.notification_url());
  EXPECT_EQ(jdoe.value("lifecycleNotificationUrl", ""), setup.notification_url());
  const std::string client_state = jdoe.value("clientState", "");
  EXPECT_GE(client_state.size(), 32u);
  EXPECT_NE(client_state, graph.subscription_of("asmith@example.com")->value("clientState", ""));

  // A forged notification (right subscription, wrong clientState) wakes nothing: the sync-now
  // that follows is the next run of JDOE's pair, and it is not a notification run.
  const auto forged_at = log_lines(*serve).size();
  auto [forged_status, forged] =
      api.call("POST", kNotifications, change_notification(jdoe["id"], "not-the-client-state"));
  ASSERT_EQ(forged_status, 202) << forged.dump();
  EXPECT_EQ(forged.value("accepted", -1), 0);
  EXPECT_EQ(forged.value("rejected", -1), 1);
  EXPECT_GE(
      api.metric("agendasync_notifications_total", {{"source", "graph"}, {"result", "rejected"}}),
      1);
  auto [now_status, now_body] = api.call("POST", "/api/v1/users/JDOE/sync-now");
  ASSERT_EQ(now_status, 202) << now_body.dump();
  ASSERT_TRUE(eventually([&] { return runs(*serve, "JDOE", "sync-now", forged_at) == 1; }))
      << serve->log();
  EXPECT_EQ(runs(*serve, "JDOE", "notification", forged_at), 0u) << serve->log();
  EXPECT_TRUE(events(*serve, "graph_notification", "", forged_at).empty());

  // A change made through Graph reaches the host feed, woken by Graph's notification.
  auto [head_status, head] = api.call("GET", "/api/v1/changes?since=0&limit=1000");
  ASSERT_EQ(head_status, 200);
  const auto since = head.at("next").get<std::int64_t>();
  const double accepted_before =
      api.metric("agendasync_notifications_total", {{"source", "graph"}, {"result", "accepted"}});
  const auto change_at = log_lines(*serve).size();
  auto [created_status, created] =
      graph.call("POST", "/users/jdoe@example.com/events",
                 {{"subject", "Made in Outlook on the web"},
                  {"start", {{"dateTime", "2027-01-12T09:00:00"}, {"timeZone", "UTC"}}},
                  {"end", {{"dateTime", "2027-01-12T10:00:00"}, {"timeZone", "UTC"}}}});
  ASSERT_EQ(created_status, 201) << created.dump();
  ASSERT_TRUE(eventually([&] {
    auto [code, feed] = api.call("GET", "/api/v1/changes?since=" + std::to_string(since));
    if (code != 200) return false;
    for (const auto& change : feed.at("changes")) {
      if (change.value("entity", "") != "appointment") continue;
      auto id = change.at("id").is_string() ? change.at("id").get<std::string>()
                                            : std::to_string(change.at("id").get<std::int64_t>());
      auto [item_code, item] = api.call("GET", "/api/v1/appointments/" + id);
      if (item_code == 200 && item.value("subject", "") == "Made in Outlook on the web") {
        return true;
      }
    }
    return false;
  })) << serve->log();
  EXPECT_GT(
      api.metric("agendasync_notifications_total", {{"source", "graph"}, {"result", "accepted"}}),
      accepted_before);
  EXPECT_FALSE(events(*serve, "graph_notification", "JDOE", change_at).empty()) << serve->log();
  // The run goes on after the host write: it stamps the idempotency key on the Outlook item
  // (R41), so its log line may follow the feed entry by a moment.
  EXPECT_TRUE(eventually([&] { return runs(*serve, "JDOE", "notification", change_at) >= 1u; }))
      << serve->log();
  // Only the mailbox that changed was woken.
  EXPECT_TRUE(events(*serve, "graph_notification", "ASMITH", change_at).empty());
  EXPECT_EQ(runs(*serve, "ASMITH", "notification", change_at), 0u);
  EXPECT_EQ(runs(*serve, "JDOE", "safety-net", change_at), 0u);

  // Stopping deletes the subscriptions at Graph; no secret reached the log.
  EXPECT_EQ(serve->stop(SIGTERM), 0) << serve->log();
  EXPECT_EQ(graph.subscription_count(), 0u);
  auto stopped = events(*serve, "graph_subscriptions_stopped");
  ASSERT_EQ(stopped.size(), 1u) << serve->log();
  EXPECT_EQ(stopped[0].value("deleted", -1), 2);
  EXPECT_EQ(serve->log().find(client_state), std::string::npos);
  EXPECT_EQ(serve->log().find(e2e::GraphApp::kSecret), std::string::npos);
}

TEST(ServeGraphE2e, LifecycleNotificationsRenewRunThePairAndSubscribeAgain) {
  GraphServe setup({"JDOE"});
  auto serve = setup.start();
  Api api(serve->port(), setup.token);
  GraphAdmin graph(setup.world);
  const json first = subscribed(graph, api, *serve, "JDOE", "jdoe@example.com");
  ASSERT_TRUE(first.is_object());

  // reauthorizationRequired: renewed at once.
  auto [reauth_status, reauth] =
      api.call("POST", kNotifications, lifecycle_notification(first, "reauthorizationRequired"));
  ASSERT_EQ(reauth_status, 202) << reauth.dump();
  EXPECT_EQ(reauth.value("accepted", -1), 1);
  ASSERT_TRUE(eventually([&] {
    for (const auto& line : events(*serve, "graph_subscription_renewed", "JDOE")) {
      if (line.value("reason", "") == "reauthorizationRequired") return true;
    }
    return false;
  })) << serve->log();
  EXPECT_GE(graph.subscription_of("jdoe@example.com")->value("expirationDateTime", ""),
            first.value("expirationDateTime", ""));

  // missed: the pair runs and reads what it missed from the delta feed.
  const auto missed_at = log_lines(*serve).size();
  auto [missed_status, missed] =
      api.call("POST", kNotifications, lifecycle_notification(first, "missed"));
  ASSERT_EQ(missed_status, 202) << missed.dump();
  ASSERT_TRUE(eventually([&] { return runs(*serve, "JDOE", "notification", missed_at) >= 1; }))
      << serve->log();

  // subscriptionRemoved: Graph dropped the subscription; the daemon subscribes again.
  auto [deleted_status, deleted_body] =
      graph.call("DELETE", "/subscriptions/" + first["id"].get<std::string>());
  ASSERT_EQ(deleted_status, 204) << deleted_body.dump();
  auto [removed_status, removed] =
      api.call("POST", kNotifications, lifecycle_notification(first, "subscriptionRemoved"));
  ASSERT_EQ(removed_status, 202) << removed.dump();
  std::optional<json> second;
  ASSERT_TRUE(eventually([&] {
    second = graph.subscription_of("jdoe@example.com");
    return second && second->value("id", "") != first.value("id", "");
  })) << serve->log();
  EXPECT_NE(second->value("clientState", ""), first.value("clientState", ""));
  EXPECT_EQ(events(*serve, "graph_subscription_created", "JDOE").size(), 2u);
  // The old subscription's notifications are refused from now on.
  auto [stale_status, stale] = api.call(
      "POST", kNotifications, change_notification(first["id"], first.value("clientState", "")));
  ASSERT_EQ(stale_status, 202);
  EXPECT_EQ(stale.value("rejected", -1), 1);

  // The new subscription delivers: a change through Graph wakes the pair.
  const auto change_at = log_lines(*serve).size();
  auto [created_status, created] =
      graph.call("POST", "/users/jdoe@example.com/events",
                 {{"subject", "After the new subscription"},
                  {"start", {{"dateTime", "2027-01-13T09:00:00"}, {"timeZone", "UTC"}}},
                  {"end", {{"dateTime", "2027-01-13T10:00:00"}, {"timeZone", "UTC"}}}});
  ASSERT_EQ(created_status, 201) << created.dump();
  ASSERT_TRUE(eventually([&] {
    for (const auto& line : events(*serve, "graph_notification", "JDOE", change_at)) {
      if (line.value("subscription", "") == second->value("id", "")) return true;
    }
    return false;
  })) << serve->log();
  EXPECT_EQ(serve->stop(SIGTERM), 0) << serve->log();
}

TEST(ServeGraphE2e, SubscriptionWithAShortExpiryIsRenewed) {
  GraphServe setup({"JDOE"});
  // 11 minutes (exsim asks for reauthorization only with 10 left), renewed once less than 11
  // minutes are left: every check (each second) renews.
  auto serve =
      setup.start({"--graph-lifetime-minutes", "11", "--graph-renew-before-minutes", "11"});
  Api api(serve->port(), setup.token);
  GraphAdmin graph(setup.world);
  const json first = subscribed(graph, api, *serve, "JDOE", "jdoe@example.com");
  ASSERT_TRUE(first.is_object());
  const std::string expiry = first.value("expirationDateTime", "");
  ASSERT_TRUE(eventually([&] {
    auto now = graph.subscription_of("jdoe@example.com");
    return now && now->value("id", "") == first.value("id", "") &&
           now->value("expirationDateTime", "") > expiry;
  })) << serve->log();
  auto renewed = events(*serve, "graph_subscription_renewed", "JDOE");
  ASSERT_FALSE(renewed.empty());
  EXPECT_EQ(renewed[0].value("subscription", ""), first.value("id", ""));
  EXPECT_EQ(events(*serve, "graph_subscription_created", "JDOE").size(), 1u);
  EXPECT_EQ(serve->stop(SIGTERM), 0) << serve->log();
}

TEST(ServeGraphE2e, WithoutPublicUrlNotificationsAreOffAndTheLogSaysSo) {
  GraphServe setup({"JDOE"}, /*with_public_url=*/false);
  auto serve = setup.start();
  GraphAdmin graph(setup.world);
  ASSERT_TRUE(eventually([&] { return !events(*serve, "sync_run", "JDOE").empty(); }))
      << serve->log();
  auto off = events(*serve, "graph_notifications_off");
  ASSERT_EQ(off.size(), 1u) << serve->log();
  const std::string detail = off[0].value("detail", "");
  EXPECT_NE(detail.find("public_url"), std::string::npos) << detail;
  EXPECT_NE(detail.find("60 minutes"), std::string::npos) << detail;
  EXPECT_EQ(graph.subscription_count(), 0u);
  EXPECT_EQ(serve->stop(SIGTERM), 0) << serve->log();
}

// Graph's subscription write limit as exsim enforces it, lowered to 5 writes per 3 s so that
// 12 mailboxes meet it: exsim answers 429 with Retry-After, the daemon holds every write for
// it, says so once per pause, and still subscribes every mailbox, none given up on.
TEST(ServeGraphE2e, SubscriptionWritesOverGraphsLimitWaitForRetryAfter) {
  std::vector<std::string> users;
  for (int i = 0; i < 12; ++i) users.push_back("USER" + std::to_string(i));
  e2e::WorldOptions options = graph_world({{"writes_per_app", 5}, {"rate_window_seconds", 3}});
  options.mailboxes.clear();
  for (const auto& user : users) options.mailboxes.push_back(lower(user) + "@example.com");
  GraphServe setup(users, true, options);
  auto serve = setup.start();
  Api api(serve->port(), setup.token);
  ASSERT_TRUE(eventually([&] {
    return api.metric("agendasync_graph_mailboxes",
                      {{"org", "default"}, {"state", "subscribed"}}) == 12;
  })) << serve->log();
  EXPECT_EQ(
      api.metric("agendasync_graph_mailboxes", {{"org", "default"}, {"state", "unsubscribed"}}), 0);
  // The gauge both backends share says the same.
  EXPECT_EQ(api.metric("agendasync_watched_mailboxes",
                       {{"org", "default"}, {"backend", "graph"}, {"state", "watched"}}),
            12);
  EXPECT_EQ(api.metric("agendasync_watched_mailboxes",
                       {{"org", "default"}, {"backend", "graph"}, {"state", "unwatched"}}),
            0);
  const json stats = setup.world.admin("GET", "/exsim/admin/graph/stats");
  EXPECT_GE(stats.value("refused_rate", 0), 1) << stats.dump();
  EXPECT_EQ(stats.value("subscriptions", 0), 12) << stats.dump();
  EXPECT_GE(api.metric("agendasync_graph_subscription_throttled", {{"org", "default"}}), 1);
  auto throttled = events(*serve, "graph_subscription_throttled");
  ASSERT_FALSE(throttled.empty()) << serve->log();
  EXPECT_GE(throttled[0].value("retry_after_ms", 0), 1000);
  EXPECT_TRUE(events(*serve, "graph_subscription_failed").empty()) << serve->log();
  EXPECT_EQ(events(*serve, "graph_subscriptions_complete").size(), 1u) << serve->log();
  EXPECT_EQ(serve->stop(SIGTERM), 0) << serve->log();
}

// Active subscriptions per mailbox (Outlook: 1,000 for all apps; exsim's cap lowered to 0, so
// every mailbox is full): Graph answers 403 ExtensionError "SubscriptionCountReached". The
// daemon reports it per mailbox, says the safety-net sync covers the mailbox meanwhile, keeps
// syncing it, and tries again with a growing pause instead of hammering Graph.
TEST(ServeGraphE2e, AFullMailboxIsReportedAndLeftToTheSafetyNet) {
  e2e::WorldOptions options = graph_world({{"subscriptions_per_mailbox", 0}});
  GraphServe setup({"JDOE", "ASMITH"}, true, options);
  auto serve = setup.start();
  Api api(serve->port(), setup.token);
  GraphAdmin graph(setup.world);
  ASSERT_TRUE(eventually([&] {
    return !events(*serve, "graph_subscription_failed", "JDOE").empty() &&
           !events(*serve, "graph_subscription_failed", "ASMITH").empty();
  })) << serve->log();
  const auto first_seen = std::chrono::steady_clock::now();
  const auto failed = events(*serve, "graph_subscription_failed", "JDOE").front();
  EXPECT_NE(failed.value("error", "").find("SubscriptionCountReached"), std::string::npos)
      << failed.dump();
  EXPECT_NE(failed.value("detail", "").find("safety-net"), std::string::npos) << failed.dump();
  EXPECT_TRUE(eventually([&] {
    return api.metric("agendasync_graph_mailboxes",
                      {{"org", "default"}, {"state", "unsubscribed"}}) == 2;
  })) << serve->log();
  EXPECT_TRUE(eventually([&] { return !events(*serve, "sync_run", "JDOE").empty(); }))
      << "the mailbox is still synced";
  EXPECT_EQ(graph.subscription_count(), 0u);
  // Tried again after 1 s, then 2 s, 4 s...: at most 3 attempts in the 4 s after the first
  // (at 0, 1 and 3 s), where one per refresh (1 s) would make 5.
  EXPECT_TRUE(eventually([&] {
    return events(*serve, "graph_subscription_failed", "JDOE").size() >= 2;
  })) << "never tried again";
  std::this_thread::sleep_until(first_seen + 4s);
  EXPECT_LE(events(*serve, "graph_subscription_failed", "JDOE").size(), 3u) << serve->log();
  EXPECT_GE(setup.world.admin("GET", "/exsim/admin/graph/stats").value("refused_mailbox_full", 0),
            2);
  EXPECT_EQ(serve->stop(SIGTERM), 0) << serve->log();
}

}  // namespace
}  // namespace agendasync::demotest
