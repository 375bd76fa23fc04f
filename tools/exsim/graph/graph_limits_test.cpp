// exsim enforces Graph's limits by default and each named switch relaxes one: the
// subscription service's request rates (429 TooManyRequests + Retry-After), 1,000
// subscriptions per mailbox, clientState of at most 128 characters, the 10 s validation
// deadline, the 3 s notification deadline with retries and slow-endpoint throttling; Outlook's
// 10,000 requests per 10 minutes per app and mailbox (429 + Retry-After); notifications pending
// together go out batched.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "exsim/graph/graph_limits.h"
#include "exsim/graph/graph_time.h"
#include "exsim/server/server.h"

namespace exsim {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";

/// A subscriber's endpoint: echoes validation tokens (after `validation_delay`), records every
/// notification POST's body and answers it with `status` after `notification_delay`.
class Receiver {
 public:
  std::atomic<int> validation_delay_ms{0};
  std::atomic<int> notification_delay_ms{0};
  std::atomic<int> status{202};
  std::atomic<int> notifications_started{0};  // notification POSTs that reached the handler
  /// Only the first this many notification POSTs wait `notification_delay` (-1: all).
  std::atomic<int> delayed_posts{-1};

  Receiver() {
    server_.Post("/notify", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.has_param("validationToken")) {
        std::this_thread::sleep_for(std::chrono::milliseconds(validation_delay_ms.load()));
        res.set_content(req.get_param_value("validationToken"), "text/plain");
        return;
      }
      const int number = ++notifications_started;
      if (delayed_posts.load() < 0 || number <= delayed_posts.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(notification_delay_ms.load()));
      {
        std::lock_guard lock(mutex_);
        posts_.push_back(json::parse(req.body, nullptr, false));
      }
      changed_.notify_all();
      res.status = status.load();
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/notify", port_); }
  /// Waits until at least `n` POSTs arrived; returns them all.
  std::vector<json> posts(std::size_t n, std::chrono::milliseconds limit = 20s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, limit, [&] { return posts_.size() >= n; });
    return posts_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<json> posts_;
};

class GraphLimitsTest : public ::testing::Test {
 protected:
  /// Starts exsim with `limits` and three apps of one tenant.
  void start(const GraphLimits& limits) {
    ServerConfig config;
    config.mailboxes = {{"alice@example.com", "Alice"}, {"bob@example.com", "Bob"}};
    config.admin_token = "admin";
    config.graph_limits = limits;
    for (const char* app : {"app-a", "app-b", "app-c"}) {
      config.graph_apps.push_back(
          GraphAppConfig{kTenant, app, "secret", {"Calendars.ReadWrite", "User.Read.All"}, {}});
    }
    server_ = std::make_unique<Server>(config);
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
    thread_ = std::thread([this] { server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
    for (const char* app : {"app-a", "app-b", "app-c"}) tokens_[app] = token_for(app);
  }
  void TearDown() override {
    if (!server_) return;
    server_->stop();
    thread_.join();
  }

  std::string token_for(const std::string& app) {
    auto res = client_->Post(
        fmt::format("/{}/oauth2/v2.0/token", kTenant),
        fmt::format("grant_type=client_credentials&client_id={}&client_secret=secret&scope="
                    "https%3A%2F%2Fgraph.microsoft.com%2F.default",
                    app),
        "application/x-www-form-urlencoded");
    EXPECT_TRUE(res && res->status == 200);
    return res ? json::parse(res->body).value("access_token", "") : "";
  }

  struct Answer {
    int status = 0;
    json body;
    std::string retry_after;
  };
  Answer call(const std::string& method, const std::string& path, const json& body = nullptr,
              const std::string& app = "app-a") {
    httplib::Headers headers{{"Authorization", "Bearer " + tokens_[app]}};
    httplib::Result res{nullptr, httplib::Error::Unknown};
    if (method == "GET") res = client_->Get(path, headers);
    if (method == "POST") res = client_->Post(path, headers, body.dump(), "application/json");
    if (method == "PATCH") res = client_->Patch(path, headers, body.dump(), "application/json");
    if (method == "DELETE") res = client_->Delete(path, headers);
    Answer a;
    if (!res) return a;
    a.status = res->status;
    a.retry_after = res->get_header_value("Retry-After");
    if (!res->body.empty()) a.body = json::parse(res->body, nullptr, false);
    return a;
  }
  json admin(const std::string& path) {
    auto res = client_->Get(path, httplib::Headers{{"X-Exsim-Admin-Token", "admin"}});
    return res && res->status == 200 ? json::parse(res->body) : json();
  }
  /// exsim's delivery counters once `key` reached `value` (the receiver records a POST before
  /// exsim has read its answer), or as they are after 10 s.
  json stats_when(const std::string& key, int value) {
    json stats;
    for (int i = 0; i < 200; ++i) {
      stats = admin("/exsim/admin/graph/stats");
      if (stats.value(key, -1) == value) break;
      std::this_thread::sleep_for(50ms);
    }
    return stats;
  }
  json subscription(const std::string& mailbox, const std::string& url) {
    auto expiry = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now() + 24h);
    return {{"changeType", "created,updated,deleted"},
            {"notificationUrl", url},
            {"resource", fmt::format("users/{}/events", mailbox)},
            {"expirationDateTime", format_graph_utc(expiry)},
            {"clientState", "state-" + mailbox}};
  }
  /// Creates `count` items in `mailbox` in one step (one store change: one delivery round).
  void seed(const std::string& mailbox, int count) {
    auto res = client_->Post(fmt::format("/exsim/admin/mailboxes/{}/seed", mailbox),
                             httplib::Headers{{"X-Exsim-Admin-Token", "admin"}},
                             json{{"count", count}}.dump(), "application/json");
    ASSERT_TRUE(res && res->status == 200);
  }
  /// Sends DELETEs for subscriptions that do not exist: each is a write the rate limit counts
  /// (it is counted before the id is looked up), and cheap enough to reach 1,000 quickly.
  int deletes_until_refused(const std::string& app, int at_most, Answer* refusal) {
    for (int i = 0; i < at_most; ++i) {
      Answer a = call("DELETE", "/v1.0/subscriptions/none-" + std::to_string(i), nullptr, app);
      if (a.status == 429) {
        if (refusal) *refusal = a;
        return i;
      }
      EXPECT_EQ(a.status, 404);
    }
    return at_most;
  }

  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(GraphLimitsTest, DefaultsAreMicrosoftsNumbersAndAllEnforced) {
  start(GraphLimits{});
  json limits = admin("/exsim/admin/graph/limits");
  EXPECT_EQ(limits["subscription_rate"]["enforced"], true);
  EXPECT_EQ(limits["subscription_rate"]["writes_per_app"], 1000);
  EXPECT_EQ(limits["subscription_rate"]["writes_per_tenant"], 2000);
  EXPECT_EQ(limits["subscription_rate"]["requests_per_app"], 5000);
  EXPECT_EQ(limits["subscription_rate"]["requests_per_tenant"], 10000);
  EXPECT_EQ(limits["subscription_rate"]["window_seconds"], 20);
  EXPECT_EQ(limits["mailbox_subscription_cap"]["enforced"], true);
  EXPECT_EQ(limits["mailbox_subscription_cap"]["subscriptions_per_mailbox"], 1000);
  EXPECT_EQ(limits["validation_deadline"]["enforced"], true);
  EXPECT_EQ(limits["validation_deadline"]["timeout_ms"], 10000);
  EXPECT_EQ(limits["notification_deadline"]["enforced"], true);
  EXPECT_EQ(limits["notification_deadline"]["timeout_ms"], 3000);
  EXPECT_EQ(limits["notification_deadline"]["slow_ms"], 2900);
  EXPECT_EQ(limits["notification_deadline"]["retry_for_seconds"], 4 * 3600);
  EXPECT_EQ(limits["client_state_length"]["enforced"], true);
  EXPECT_EQ(limits["client_state_length"]["max_characters"], 128);
  EXPECT_EQ(limits["mailbox_request_rate"]["enforced"], true);
  EXPECT_EQ(limits["mailbox_request_rate"]["requests_per_mailbox"], 10000);
  EXPECT_EQ(limits["mailbox_request_rate"]["window_seconds"], 600);
  EXPECT_EQ(limits["upload_volume"]["enforced"], true);
  EXPECT_EQ(limits["upload_volume"]["bytes_per_mailbox"], 150'000'000);
  EXPECT_EQ(limits["upload_volume"]["window_seconds"], 300);
}

TEST_F(GraphLimitsTest, WritesBeyondAThousandPerAppAndTwoThousandPerTenantGet429) {
  start(GraphLimits{});
  // 1,000 writes per app per tenant in 20 s, at the real numbers.
  Answer refusal;
  EXPECT_EQ(deletes_until_refused("app-a", 1001, &refusal), 1000);
  EXPECT_EQ(refusal.body["error"]["code"], "TooManyRequests");
  const int wait = std::atoi(refusal.retry_after.c_str());
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 20);
  EXPECT_NE(refusal.body["error"]["message"].get<std::string>().find("per app per tenant"),
            std::string::npos);
  // A renewal is a write too; reads still pass (their own limit is 5,000).
  EXPECT_EQ(call("PATCH", "/v1.0/subscriptions/x", {{"expirationDateTime", "2030-01-01"}}).status,
            429);
  EXPECT_EQ(call("GET", "/v1.0/subscriptions").status, 200);
  // Another app of the tenant has its own 1,000, but the tenant's 2,000 are then used up.
  EXPECT_EQ(deletes_until_refused("app-b", 1001, nullptr), 1000);
  EXPECT_EQ(deletes_until_refused("app-c", 5, &refusal), 0);
  EXPECT_NE(refusal.body["error"]["message"].get<std::string>().find("per tenant"),
            std::string::npos);
  EXPECT_GE(admin("/exsim/admin/graph/stats")["refused_rate"].get<int>(), 4);
}

TEST_F(GraphLimitsTest, RateWindowSlidesAndRetryAfterIsEnough) {
  GraphLimits limits;
  limits.writes_per_app = 3;
  limits.rate_window = 2s;
  start(limits);
  Answer refusal;
  EXPECT_EQ(deletes_until_refused("app-a", 10, &refusal), 3);
  const int wait = std::atoi(refusal.retry_after.c_str());
  ASSERT_GE(wait, 1);
  ASSERT_LE(wait, 2);
  std::this_thread::sleep_for(std::chrono::seconds(wait));
  EXPECT_EQ(call("DELETE", "/v1.0/subscriptions/after-the-wait").status, 404);
}

TEST_F(GraphLimitsTest, SwitchSubscriptionRateRelaxesTheRates) {
  GraphLimits limits;
  ASSERT_TRUE(relax_graph_limit(limits, kRelaxSubscriptionRate));
  start(limits);
  EXPECT_EQ(deletes_until_refused("app-a", 1100, nullptr), 1100);
  EXPECT_EQ(admin("/exsim/admin/graph/limits")["subscription_rate"]["enforced"], false);
}

TEST_F(GraphLimitsTest, MailboxHoldsAtMostItsCapOfSubscriptions) {
  GraphLimits limits;
  limits.subscriptions_per_mailbox = 2;  // 1,000 by default (checked above)
  start(limits);
  Receiver receiver;
  Answer first =
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url()));
  ASSERT_EQ(first.status, 201) << first.body.dump();
  // The cap counts every application's subscriptions on the mailbox.
  ASSERT_EQ(call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url()),
                 "app-b")
                .status,
            201);
  Answer full =
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url()));
  EXPECT_EQ(full.status, 403) << full.body.dump();
  EXPECT_EQ(full.body["error"]["code"], "ExtensionError");
  EXPECT_NE(full.body["error"]["message"].get<std::string>().find("SubscriptionCountReached"),
            std::string::npos);
  // Another mailbox has room; a deleted subscription frees one.
  EXPECT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("bob@example.com", receiver.url())).status,
      201);
  ASSERT_EQ(call("DELETE", "/v1.0/subscriptions/" + first.body["id"].get<std::string>()).status,
            204);
  EXPECT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url())).status,
      201);
  EXPECT_EQ(admin("/exsim/admin/graph/stats")["refused_mailbox_full"], 1);
}

// A subscription on Outlook resources lives at most 10,080 minutes (Graph's subscription
// resource, "Subscription lifetime"): a longer expirationDateTime, at creation or renewal,
// is refused with 400; 10,080 minutes less a little is accepted. No switch relaxes it.
TEST_F(GraphLimitsTest, SubscriptionLifetimeOfMoreThan10080MinutesIsRefused) {
  start(GraphLimits{});
  Receiver receiver;
  const auto at = [](std::chrono::minutes from_now) {
    return format_graph_utc(
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now() + from_now));
  };
  json longer = subscription("alice@example.com", receiver.url());
  longer["expirationDateTime"] = at(10080min + 2min);
  Answer refused = call("POST", "/v1.0/subscriptions", longer);
  EXPECT_EQ(refused.status, 400) << refused.body.dump();
  EXPECT_NE(refused.body["error"]["message"].get<std::string>().find("10080"), std::string::npos)
      << refused.body.dump();
  json longest = subscription("alice@example.com", receiver.url());
  longest["expirationDateTime"] = at(10080min - 2min);
  Answer created = call("POST", "/v1.0/subscriptions", longest);
  ASSERT_EQ(created.status, 201) << created.body.dump();
  const std::string path = "/v1.0/subscriptions/" + created.body["id"].get<std::string>();
  EXPECT_EQ(call("PATCH", path, {{"expirationDateTime", at(10080min + 2min)}}).status, 400);
  EXPECT_EQ(call("PATCH", path, {{"expirationDateTime", at(10080min - 1min)}}).status, 200);
}

TEST_F(GraphLimitsTest, SwitchMailboxSubscriptionCapRelaxesTheCap) {
  GraphLimits limits;
  limits.subscriptions_per_mailbox = 1;
  ASSERT_TRUE(relax_graph_limit(limits, kRelaxMailboxSubscriptionCap));
  start(limits);
  Receiver receiver;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url()))
                  .status,
              201);
  }
}

TEST_F(GraphLimitsTest, ValidationAnsweredTooLateRefusesTheSubscription) {
  GraphLimits limits;
  limits.validation_timeout = 1000ms;  // 10 s by default (checked above); shortened for time
  start(limits);
  Receiver receiver;
  receiver.validation_delay_ms = 2000;
  Answer late =
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url()));
  EXPECT_EQ(late.status, 400) << late.body.dump();
  EXPECT_EQ(late.body["error"]["code"], "ValidationError");
  receiver.validation_delay_ms = 0;
  EXPECT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url())).status,
      201);
  EXPECT_EQ(admin("/exsim/admin/graph/stats")["refused_validation"], 1);
}

TEST_F(GraphLimitsTest, SwitchValidationDeadlineWaitsForASlowEndpoint) {
  GraphLimits limits;
  limits.validation_timeout = 1000ms;
  ASSERT_TRUE(relax_graph_limit(limits, kRelaxValidationDeadline));
  start(limits);
  Receiver receiver;
  receiver.validation_delay_ms = 2000;
  EXPECT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url())).status,
      201);
}

TEST_F(GraphLimitsTest, PendingNotificationsForOneUrlArriveInOnePost) {
  start(GraphLimits{});
  Receiver receiver;
  ASSERT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url())).status,
      201);
  ASSERT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("bob@example.com", receiver.url())).status,
      201);
  // Five changes at once: one POST with five entries.
  seed("alice@example.com", 5);
  auto posts = receiver.posts(1);
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["value"].size(), 5u);
  // While the endpoint is busy with a POST, changes in both mailboxes pile up and then go
  // out together: entries of two subscriptions in one value[].
  receiver.notification_delay_ms = 1000;
  seed("alice@example.com", 1);
  for (int i = 0; i < 200 && receiver.notifications_started < 2; ++i) {
    std::this_thread::sleep_for(25ms);  // until that POST is being answered
  }
  seed("alice@example.com", 2);
  seed("bob@example.com", 2);
  posts = receiver.posts(3);
  ASSERT_EQ(posts.size(), 3u);
  std::set<std::string> subscriptions;
  for (const auto& n : posts[2]["value"]) subscriptions.insert(n["subscriptionId"]);
  EXPECT_EQ(posts[2]["value"].size(), 4u);
  EXPECT_EQ(subscriptions.size(), 2u);
  json stats = stats_when("delivered", 10);
  EXPECT_EQ(stats["delivered"], 10);
  EXPECT_EQ(stats["failed"], 0);
  EXPECT_EQ(stats["max_batch"], 5);
}

TEST_F(GraphLimitsTest, NotificationNotAnsweredInTimeFailsAndIsRetried) {
  GraphLimits limits;
  limits.notification_timeout = 1500ms;  // 3 s by default (checked above); shortened for time
  limits.notification_slow = 1400ms;
  limits.retry_delay = 1s;  // 10 min by default
  start(limits);
  Receiver receiver;
  ASSERT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url())).status,
      201);
  // Only the first delivery is too slow: the retry may arrive while the first still waits
  // (on a busy machine it did, and was counted slow and failed too).
  receiver.notification_delay_ms = 2500;
  receiver.delayed_posts = 1;
  seed("alice@example.com", 1);
  auto posts = receiver.posts(2);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[1], posts[0]);  // the same notification, sent again
  json stats = stats_when("delivered", 1);
  EXPECT_EQ(stats["failed"], 1);
  EXPECT_EQ(stats["retried"], 1);
  EXPECT_EQ(stats["delivered"], 1);
  EXPECT_EQ(stats["slow"], 1);
}

TEST_F(GraphLimitsTest, FailingDeliveriesAreDroppedAfterTheRetryPeriod) {
  GraphLimits limits;
  limits.retry_delay = 1s;
  limits.retry_for = 2s;  // 4 hours by default
  start(limits);
  Receiver receiver;
  ASSERT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url())).status,
      201);
  receiver.status = 500;
  seed("alice@example.com", 1);
  receiver.posts(3, 10s);  // the first attempt and two retries
  json stats = stats_when("dropped", 1);
  EXPECT_EQ(stats["dropped"], 1);
  EXPECT_EQ(stats["delivered"], 0);
  EXPECT_EQ(stats["pending"], 0);
}

TEST_F(GraphLimitsTest, SlowEndpointIsThrottledThenDropped) {
  GraphLimits limits;
  limits.notification_timeout = 3000ms;  // the default; answers after 1 s count as slow here
  limits.notification_slow = 1000ms;
  limits.slow_sample = 10;     // 100 by default
  limits.throttle_delay = 2s;  // 10 minutes by default
  start(limits);
  Receiver receiver;
  ASSERT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url())).status,
      201);
  seed("alice@example.com", 9);  // nine quick answers
  receiver.posts(1);
  receiver.notification_delay_ms = 1500;  // slow, in time
  seed("alice@example.com", 1);           // one slow of ten: 10%, throttled
  receiver.posts(2);
  seed("alice@example.com", 1);  // held back throttle_delay (10 minutes; 2 s here)
  json stats = stats_when("delayed", 1);
  EXPECT_EQ(stats["delayed"], 1);
  EXPECT_EQ(stats["pending"], 1);
  ASSERT_EQ(stats["throttled_endpoints"].size(), 1u);
  EXPECT_EQ(stats["throttled_endpoints"][0]["dropping"], false);
  // The held-back one goes out after the delay, slow again: 2 of 11, over 15%: dropping.
  receiver.posts(3);
  stats = stats_when("slow", 2);
  ASSERT_EQ(stats["throttled_endpoints"].size(), 1u);
  EXPECT_EQ(stats["throttled_endpoints"][0]["dropping"], true);
  seed("alice@example.com", 1);
  stats = stats_when("dropped", 1);
  EXPECT_EQ(stats["dropped"], 1);
  EXPECT_EQ(stats["delivered"], 11);
}

TEST_F(GraphLimitsTest, SwitchNotificationDeadlineWaitsAndNeverCountsSlow) {
  GraphLimits limits;
  limits.notification_timeout = 400ms;
  ASSERT_TRUE(relax_graph_limit(limits, kRelaxNotificationDeadline));
  start(limits);
  Receiver receiver;
  ASSERT_EQ(
      call("POST", "/v1.0/subscriptions", subscription("alice@example.com", receiver.url())).status,
      201);
  receiver.notification_delay_ms = 800;
  seed("alice@example.com", 1);
  receiver.posts(1);
  json stats = stats_when("delivered", 1);
  EXPECT_EQ(stats["delivered"], 1);
  EXPECT_EQ(stats["failed"], 0);
  EXPECT_EQ(stats["slow"], 0);
}

TEST_F(GraphLimitsTest, ClientStateOfMoreThan128CharactersIsRefused) {
  start(GraphLimits{});
  Receiver receiver;
  json too_long = subscription("alice@example.com", receiver.url());
  too_long["clientState"] = std::string(129, 'x');
  Answer refused = call("POST", "/v1.0/subscriptions", too_long);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body["error"]["code"], "InvalidRequest");
  EXPECT_NE(refused.body["error"]["message"].get<std::string>().find("128"), std::string::npos);
  // 128 characters pass, counted as characters (two bytes each here), not bytes.
  json longest = subscription("alice@example.com", receiver.url());
  longest["clientState"] = std::string(128, 'y');
  EXPECT_EQ(call("POST", "/v1.0/subscriptions", longest).status, 201);
  std::string accents;
  for (int i = 0; i < 128; ++i) accents += "\xc3\xa9";
  longest["clientState"] = accents;
  EXPECT_EQ(call("POST", "/v1.0/subscriptions", longest).status, 201);
}

TEST_F(GraphLimitsTest, SwitchClientStateLengthAcceptsALongerOne) {
  GraphLimits limits;
  ASSERT_TRUE(relax_graph_limit(limits, kRelaxClientStateLength));
  start(limits);
  Receiver receiver;
  json long_state = subscription("alice@example.com", receiver.url());
  long_state["clientState"] = std::string(300, 'x');
  Answer created = call("POST", "/v1.0/subscriptions", long_state);
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.body["clientState"], std::string(300, 'x'));
}

TEST_F(GraphLimitsTest, RequestsBeyondTheRatePerAppAndMailboxGet429) {
  GraphLimits limits;
  limits.requests_per_mailbox = 5;  // 10,000 per 600 s by default (checked above)
  limits.mailbox_request_window = 2s;
  start(limits);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(call("GET", "/v1.0/users/alice@example.com/calendar").status, 200);
  }
  Answer refused = call("GET", "/v1.0/users/alice@example.com/calendar");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.body["error"]["code"], "ApplicationThrottled");
  const int wait = std::atoi(refused.retry_after.c_str());
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 2);
  // Another mailbox for the same app, and another app on the same mailbox, have their own.
  EXPECT_EQ(call("GET", "/v1.0/users/bob@example.com/calendar").status, 200);
  EXPECT_EQ(call("GET", "/v1.0/users/alice@example.com/calendar", nullptr, "app-b").status, 200);
  // $batch members count one each.
  json batch = {{"requests", json::array()}};
  for (int i = 0; i < 6; ++i) {
    batch["requests"].push_back({{"id", std::to_string(i + 1)},
                                 {"method", "GET"},
                                 {"url", "/users/alice@example.com/calendar"}});
  }
  Answer batched = call("POST", "/v1.0/$batch", batch, "app-c");
  ASSERT_EQ(batched.status, 200);
  int ok = 0, throttled = 0;
  for (const json& r : batched.body["responses"]) {
    if (r["status"] == 200) ++ok;
    if (r["status"] == 429) ++throttled;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(throttled, 1);
  EXPECT_EQ(admin("/exsim/admin/graph/stats")["refused_mailbox_rate"], 2);
  // The window slides: after Retry-After the app may call the mailbox again.
  std::this_thread::sleep_for(std::chrono::seconds(wait));
  EXPECT_EQ(call("GET", "/v1.0/users/alice@example.com/calendar").status, 200);
}

TEST_F(GraphLimitsTest, SwitchMailboxRequestRateRelaxesTheRate) {
  GraphLimits limits;
  limits.requests_per_mailbox = 5;
  ASSERT_TRUE(relax_graph_limit(limits, kRelaxMailboxRequestRate));
  start(limits);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(call("GET", "/v1.0/users/alice@example.com/calendar").status, 200);
  }
  EXPECT_EQ(admin("/exsim/admin/graph/limits")["mailbox_request_rate"]["enforced"], false);
}

// Outlook's upload volume: 150 MB of POST/PATCH/PUT bodies per app and mailbox in 5 minutes
// (throttling-limits#outlook-service-limits), here scaled to 3,300 bytes per 2 s.
TEST_F(GraphLimitsTest, UploadsBeyondTheVolumePerAppAndMailboxGet429) {
  GraphLimits limits;
  limits.upload_bytes_per_mailbox = 3300;
  limits.upload_window = 2s;
  start(limits);
  const json event = {{"subject", std::string(900, 'u')},
                      {"start", {{"dateTime", "2030-01-02T09:00:00"}, {"timeZone", "UTC"}}},
                      {"end", {{"dateTime", "2030-01-02T10:00:00"}, {"timeZone", "UTC"}}}};
  int created = 0;
  Answer refused;
  for (int i = 0; i < 6; ++i) {
    Answer answer = call("POST", "/v1.0/users/alice@example.com/events", event);
    if (answer.status == 201) {
      ++created;
    } else {
      refused = answer;
      break;
    }
  }
  EXPECT_EQ(created, 3) << "three bodies of ~1,030 bytes fit in 3,300, a fourth does not";
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.body["error"]["code"], "ApplicationThrottled");
  const int wait = std::atoi(refused.retry_after.c_str());
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 2);
  // Reads upload nothing; another mailbox and another app have their own volume.
  EXPECT_EQ(call("GET", "/v1.0/users/alice@example.com/calendar").status, 200);
  EXPECT_EQ(call("POST", "/v1.0/users/bob@example.com/events", event).status, 201);
  EXPECT_EQ(call("POST", "/v1.0/users/alice@example.com/events", event, "app-b").status, 201);
  EXPECT_EQ(admin("/exsim/admin/graph/stats")["refused_upload_volume"], 1);
  std::this_thread::sleep_for(std::chrono::seconds(wait));
  EXPECT_EQ(call("POST", "/v1.0/users/alice@example.com/events", event).status, 201)
      << "the window slides";
}

TEST_F(GraphLimitsTest, SwitchUploadVolumeRelaxesTheVolume) {
  GraphLimits limits;
  limits.upload_bytes_per_mailbox = 100;
  ASSERT_TRUE(relax_graph_limit(limits, kRelaxUploadVolume));
  start(limits);
  const json event = {{"subject", std::string(500, 'u')},
                      {"start", {{"dateTime", "2030-01-02T09:00:00"}, {"timeZone", "UTC"}}},
                      {"end", {{"dateTime", "2030-01-02T10:00:00"}, {"timeZone", "UTC"}}}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(call("POST", "/v1.0/users/alice@example.com/events", event).status, 201);
  }
  EXPECT_EQ(admin("/exsim/admin/graph/limits")["upload_volume"]["enforced"], false);
}

TEST(GraphLimitsConfig, UnknownSwitchIsAnError) {
  GraphLimits limits;
  auto error = read_graph_limits(json{{"relax", {"subscription-rate", "no-such"}}}, limits);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("no-such"), std::string::npos);
  EXPECT_FALSE(limits.subscription_rate);
  EXPECT_FALSE(read_graph_limits(json{{"limits", {{"writes_per_app", 5}}}}, limits).has_value());
  EXPECT_EQ(limits.writes_per_app, 5);
}

}  // namespace
}  // namespace exsim
