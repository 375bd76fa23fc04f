// Exchange's limits on streaming notifications, enforced by exsim by default and relaxed by
// their switches: HangingConnectionLimit (charged to the impersonated mailbox or the caller,
// apart from the request concurrency budget), EWSMaxSubscriptions, 200 ids per
// GetStreamingEvents, ConnectionTimeout 1..30, lost events (ErrorMissedNotificationEvents),
// expiry of unread subscriptions, and a worker pool that streams cannot starve.
// learn.microsoft.com/exchange/client-developer/exchange-web-services/handling-notification-related-errors-in-ews-in-exchange
// learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exsim/ews/notifications.h"
#include "exsim/ews/streaming_test_support.h"

namespace exsim::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::unique_ptr<Stream> open_stream(Exsim& exsim, const std::string& user,
                                    const std::vector<std::string>& ids,
                                    const std::string& impersonate) {
  auto stream =
      std::make_unique<Stream>(exsim.port(), user, get_streaming_events(ids, 1, impersonate));
  EXPECT_TRUE(stream->wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  return stream;
}

std::string fault_code(const std::string& body) {
  auto at = body.find("<faultcode");
  if (at == std::string::npos) return "";
  at = body.find("a:", at) + 2;
  return body.substr(at, body.find('<', at) - at);
}

// Waits (bounded) until exsim counts `n` open streams.
bool open_streams_reach(Exsim& exsim, int n) {
  for (int i = 0; i < 100; ++i) {
    if (json::parse(exsim.admin("streaming").body)["open_streams"] == n) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// Each stream reads subscriptions of its own: a newer connection naming a subscription takes it
// over and the older one closes (ErrorNewEventStreamConnectionOpened).
TEST(HangingConnections, ThreePerImpersonatedMailboxByDefault) {
  Exsim exsim(config_with_mailboxes(2));
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  std::vector<std::unique_ptr<Stream>> open;
  for (int i = 0; i < 3; ++i)
    open.push_back(open_stream(
        exsim, kService, {subscribe_id(exsim, kService, mailbox(0), mailbox(0))}, mailbox(0)));
  Reply refused = exsim.ews(kService, get_streaming_events({id}, 1, mailbox(0)));
  EXPECT_EQ(refused.status, 500);
  EXPECT_EQ(fault_code(refused.body), "ErrorExceededConnectionCount") << refused.body;
  EXPECT_NE(refused.body.find("exceeded the available concurrent connections"), std::string::npos);
  auto streaming = json::parse(exsim.admin("streaming").body);
  EXPECT_EQ(streaming["hanging_connections"]["impersonation:m0@example.com"], 3);
  EXPECT_EQ(streaming["hanging_connection_limit"], 3);

  // Another impersonated mailbox has a budget of its own.
  std::string other = subscribe_id(exsim, kService, mailbox(1), mailbox(1));
  open.push_back(open_stream(exsim, kService, {other}, mailbox(1)));
  // A closed stream frees its slot.
  open.front()->close();
  ASSERT_TRUE(open.front()->wait_until_over());
  ASSERT_TRUE(open_streams_reach(exsim, 3));
  open.push_back(open_stream(exsim, kService, {id}, mailbox(0)));
}

TEST(HangingConnections, WithoutImpersonationTheCallerIsCharged) {
  Exsim exsim(config_with_mailboxes(2));
  // The owner opens its own streams: charged to its account. The service account
  // impersonating the same mailbox uses the mailbox's copied budget, not the owner's.
  std::string own = subscribe_id(exsim, mailbox(0), mailbox(0), "");
  std::vector<std::unique_ptr<Stream>> open;
  for (int i = 0; i < 3; ++i)
    open.push_back(
        open_stream(exsim, mailbox(0), {subscribe_id(exsim, mailbox(0), mailbox(0), "")}, ""));
  EXPECT_EQ(fault_code(exsim.ews(mailbox(0), get_streaming_events({own})).body),
            "ErrorExceededConnectionCount");
  std::string impersonated = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  open.push_back(open_stream(exsim, kService, {impersonated}, mailbox(0)));
  EXPECT_EQ(
      json::parse(exsim.admin("streaming").body)["hanging_connections"]["account:m0@example.com"],
      3);
}

TEST(HangingConnections, TheOnlineProfileAllowsTenAndZeroLiftsTheLimit) {
  ServerConfig online = config_with_mailboxes(1);
  ASSERT_TRUE(apply_profile(online, "online"));
  EXPECT_EQ(online.hanging_connection_limit, 10);
  EXPECT_EQ(online.max_subscriptions, 20);
  {
    Exsim exsim(online);
    std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
    std::vector<std::unique_ptr<Stream>> open;
    for (int i = 0; i < 10; ++i)
      open.push_back(open_stream(
          exsim, kService, {subscribe_id(exsim, kService, mailbox(0), mailbox(0))}, mailbox(0)));
    EXPECT_EQ(fault_code(exsim.ews(kService, get_streaming_events({id}, 1, mailbox(0))).body),
              "ErrorExceededConnectionCount");
  }
  ServerConfig unlimited = config_with_mailboxes(1);
  unlimited.hanging_connection_limit = 0;
  Exsim exsim(unlimited);
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  std::vector<std::unique_ptr<Stream>> open;
  for (int i = 0; i < 12; ++i)
    open.push_back(open_stream(
        exsim, kService, {subscribe_id(exsim, kService, mailbox(0), mailbox(0))}, mailbox(0)));
}

TEST(HangingConnections, StreamsDoNotUseTheRequestConcurrencyBudget) {
  Exsim exsim(config_with_mailboxes(1));
  // EWSMaxConcurrency-like limit of one request in flight per account (fault injection).
  ASSERT_EQ(exsim.admin("faults", R"({"max_concurrent_per_account": 1})").status, 200);
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  std::vector<std::unique_ptr<Stream>> open;
  for (int i = 0; i < 3; ++i)
    open.push_back(open_stream(
        exsim, kService, {subscribe_id(exsim, kService, mailbox(0), mailbox(0))}, mailbox(0)));
  Reply reply = exsim.ews(kService, get_calendar(mailbox(0), mailbox(0)));
  EXPECT_EQ(element_text(reply.body, "ResponseCode"), "NoError") << reply.body;
}

TEST(HangingConnections, OpeningAStreamTakesNoRequestConcurrencySlot) {
  Exsim exsim(config_with_mailboxes(1));
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  ASSERT_EQ(
      exsim.admin("faults", R"({"max_concurrent_per_account": 1, "latency_ms": 1500})").status,
      200);
  // A slow ordinary request holds the account's only slot; the stream opens all the same.
  std::thread slow([&] { exsim.ews(kService, get_calendar(mailbox(0), mailbox(0))); });
  std::this_thread::sleep_for(300ms);
  Stream stream(exsim.port(), kService, get_streaming_events({id}, 1, mailbox(0)));
  EXPECT_TRUE(stream.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  slow.join();
}

TEST(HangingConnections, OnlyTheOperationElementOpensAStream) {
  EXPECT_TRUE(opens_stream("<s:Body><m:GetStreamingEvents><m:SubscriptionIds>"));
  EXPECT_TRUE(opens_stream("<Body><GetStreamingEvents xmlns=\"x\">"));
  EXPECT_FALSE(opens_stream("<t:Subject>GetStreamingEvents</t:Subject>"));
  EXPECT_FALSE(opens_stream("<m:GetStreamingEventsResponse>"));
  EXPECT_FALSE(opens_stream("<m:GetEvents>"));
}

TEST(MaxSubscriptions, ChargedToTheImpersonatedMailboxOrTheCaller) {
  ServerConfig online = config_with_mailboxes(2);
  apply_profile(online, "online");  // EWSMaxSubscriptions 20
  Exsim exsim(online);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(subscribe_id(exsim, kService, mailbox(0), mailbox(0)));
  Reply refused = exsim.ews(kService, subscribe(mailbox(0), mailbox(0)));
  EXPECT_EQ(element_text(refused.body, "ResponseCode"), "ErrorExceededSubscriptionCount")
      << refused.body;
  EXPECT_NE(refused.body.find("ResponseClass=\"Error\""), std::string::npos);
  // Other budgets: another impersonated mailbox, and the owner without impersonation.
  subscribe_id(exsim, kService, mailbox(1), mailbox(1));
  subscribe_id(exsim, mailbox(0), mailbox(0), "");
  // Unsubscribing frees one.
  Reply gone = exsim.ews(kService, envelope("<m:Unsubscribe><m:SubscriptionId>" + ids.front() +
                                                "</m:SubscriptionId></m:Unsubscribe>",
                                            mailbox(0)));
  EXPECT_EQ(element_text(gone.body, "ResponseCode"), "NoError") << gone.body;
  subscribe_id(exsim, kService, mailbox(0), mailbox(0));
}

TEST(MaxSubscriptions, FiveThousandByDefault) {
  Exsim exsim(config_with_mailboxes(1));
  EXPECT_EQ(ServerConfig{}.max_subscriptions, 5000);
  for (int i = 0; i < 5000; ++i) {
    Reply r = exsim.ews(kService, subscribe(mailbox(0), mailbox(0)));
    ASSERT_EQ(element_text(r.body, "ResponseCode"), "NoError") << i << r.body;
  }
  EXPECT_EQ(
      element_text(exsim.ews(kService, subscribe(mailbox(0), mailbox(0))).body, "ResponseCode"),
      "ErrorExceededSubscriptionCount");
}

TEST(MaxSubscriptions, ZeroLiftsTheLimit) {
  ServerConfig config = config_with_mailboxes(1);
  apply_profile(config, "online");
  config.max_subscriptions = 0;
  Exsim exsim(config);
  for (int i = 0; i < 25; ++i) subscribe_id(exsim, kService, mailbox(0), mailbox(0));
}

std::vector<std::string> subscriptions(Exsim& exsim, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(subscribe_id(exsim, kService, mailbox(0), mailbox(0)));
  return ids;
}

TEST(SubscriptionIdsPerRequest, AtMostTwoHundred) {
  Exsim exsim(config_with_mailboxes(1));
  std::vector<std::string> ids = subscriptions(exsim, 201);
  Reply refused = exsim.ews(kService, get_streaming_events(ids, 1, mailbox(0)));
  EXPECT_EQ(refused.status, 200);
  EXPECT_EQ(element_text(refused.body, "ResponseCode"), "ErrorInvalidRequest") << refused.body;
  EXPECT_NE(refused.body.find("at most 200"), std::string::npos);
  ids.pop_back();
  auto stream = open_stream(exsim, kService, ids, mailbox(0));
  outlook_change(exsim, mailbox(0), "two hundred subscriptions");
  EXPECT_TRUE(stream->wait_for_text(ids.back()));
}

TEST(SubscriptionIdsPerRequest, ZeroLiftsTheLimit) {
  ServerConfig config = config_with_mailboxes(1);
  config.max_subscription_ids = 0;
  Exsim exsim(config);
  auto stream = open_stream(exsim, kService, subscriptions(exsim, 201), mailbox(0));
}

TEST(ConnectionTimeout, OneToThirtyMinutes) {
  Exsim exsim(config_with_mailboxes(1));
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  for (int minutes : {0, 31}) {
    Reply r = exsim.ews(kService, get_streaming_events({id}, minutes, mailbox(0)));
    EXPECT_EQ(element_text(r.body, "ResponseCode"), "ErrorInvalidRequest") << r.body;
  }
  auto stream =
      std::make_unique<Stream>(exsim.port(), kService, get_streaming_events({id}, 30, mailbox(0)));
  EXPECT_TRUE(stream->wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
}

TEST(MissedEvents, LostChangesAreReportedAsErrorMissedNotificationEvents) {
  Exsim exsim(config_with_mailboxes(2));
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  std::string other = subscribe_id(exsim, kService, mailbox(1), mailbox(1));
  auto stream = std::make_unique<Stream>(exsim.port(), kService,
                                         get_streaming_events({id, other}, 1, mailbox(0)));
  ASSERT_TRUE(stream->wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  Reply drop = exsim.admin("mailboxes/" + mailbox(0) + "/drop-events", R"({"next": 1})");
  ASSERT_EQ(drop.status, 200) << drop.body;
  EXPECT_EQ(json::parse(drop.body)["subscriptions"], 1);
  outlook_change(exsim, mailbox(0), "lost");
  ASSERT_TRUE(stream->wait_for_text("ErrorMissedNotificationEvents"));
  for (const std::string& part : stream->parts()) {
    if (part.find("ErrorMissedNotificationEvents") == std::string::npos) {
      EXPECT_EQ(part.find("CreatedEvent"), std::string::npos) << "the lost change was reported";
      continue;
    }
    EXPECT_EQ(error_subscription_ids(part), std::vector<std::string>{id}) << part;
    EXPECT_NE(part.find("ResponseClass=\"Error\""), std::string::npos);
  }
  // The subscription lives on: the next change arrives.
  outlook_change(exsim, mailbox(0), "after the loss");
  EXPECT_TRUE(stream->wait_for_text("CreatedEvent"));
}

TEST(NewConnection, TakesTheSubscriptionsOverAndTheOlderOneNeverDeliversTheirEvents) {
  // A client reopens its stream with a new set of ids while the old connection is still
  // open: every change goes to the newer connection, and the older one is told
  // ErrorNewEventStreamConnectionOpened for the ids it lost (and closes when none are left).
  Exsim exsim(config_with_mailboxes(2));
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  std::string other = subscribe_id(exsim, kService, mailbox(1), mailbox(1));
  Stream old_stream(exsim.port(), kService, get_streaming_events({id}, 1, mailbox(0)));
  ASSERT_TRUE(old_stream.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  Stream new_stream(exsim.port(), kService, get_streaming_events({id, other}, 1, mailbox(0)));
  ASSERT_TRUE(new_stream.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  for (int i = 0; i < 5; ++i) outlook_change(exsim, mailbox(0), "change " + std::to_string(i));
  ASSERT_TRUE(new_stream.wait_for([](const std::vector<std::string>& parts) {
    int created = 0;
    for (const auto& part : parts) {
      for (auto at = part.find("CreatedEvent"); at != std::string::npos;
           at = part.find("CreatedEvent", at + 1))
        ++created;
    }
    return created >= 10;  // an opening and a closing tag per event
  })) << "every change reaches the newer connection";
  ASSERT_TRUE(old_stream.wait_for_text("ErrorNewEventStreamConnectionOpened"));
  EXPECT_TRUE(old_stream.wait_until_over());
  for (const std::string& part : old_stream.parts()) {
    EXPECT_EQ(part.find("CreatedEvent"), std::string::npos) << "the older connection delivered";
    if (part.find("ErrorNewEventStreamConnectionOpened") != std::string::npos) {
      EXPECT_EQ(error_subscription_ids(part), std::vector<std::string>{id}) << part;
      EXPECT_NE(part.find("<m:ConnectionStatus>Closed</m:ConnectionStatus>"), std::string::npos);
    }
  }
}

TEST(MissedEvents, ALossWhileNoStreamIsOpenIsReportedByTheNextOne) {
  Exsim exsim(config_with_mailboxes(1));
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  exsim.admin("mailboxes/" + mailbox(0) + "/drop-events", "{}");
  outlook_change(exsim, mailbox(0), "lost while nobody listened");
  Stream stream(exsim.port(), kService, get_streaming_events({id}, 1, mailbox(0)));
  ASSERT_TRUE(stream.wait_for_text("ErrorMissedNotificationEvents"));
  EXPECT_EQ(exsim.admin("mailboxes/nobody@example.com/drop-events", "{}").status, 404);
}

TEST(Expiry, UnreadSubscriptionsExpireAndOpenStreamsKeepThemAlive) {
  ServerConfig config = config_with_mailboxes(1);
  config.subscription_lifetime_seconds = 1;
  Exsim exsim(config);
  std::string unread = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  std::string read = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  {
    auto stream = open_stream(exsim, kService, {read}, mailbox(0));
    std::this_thread::sleep_for(2500ms);
  }
  Reply gone = exsim.ews(kService, get_streaming_events({unread}, 1, mailbox(0)));
  EXPECT_EQ(element_text(gone.body, "ResponseCode"), "ErrorSubscriptionNotFound") << gone.body;
  auto again = open_stream(exsim, kService, {read}, mailbox(0));
}

TEST(Expiry, ZeroKeepsSubscriptionsForever) {
  ServerConfig config = config_with_mailboxes(1);
  config.subscription_lifetime_seconds = 0;
  Exsim exsim(config);
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  std::this_thread::sleep_for(1500ms);
  auto stream = open_stream(exsim, kService, {id}, mailbox(0));
}

TEST(WorkerPool, StreamsCannotStarveOtherRequests) {
  ServerConfig config = config_with_mailboxes(1);
  config.threads = 2;
  config.hanging_connection_limit = 0;
  Exsim exsim(config);
  std::string id = subscribe_id(exsim, kService, mailbox(0), mailbox(0));
  std::vector<std::unique_ptr<Stream>> open;
  for (int i = 0; i < 24; ++i)
    open.push_back(open_stream(
        exsim, kService, {subscribe_id(exsim, kService, mailbox(0), mailbox(0))}, mailbox(0)));
  Reply reply = exsim.ews(kService, get_calendar(mailbox(0), mailbox(0)));
  EXPECT_EQ(element_text(reply.body, "ResponseCode"), "NoError");
}

}  // namespace
}  // namespace exsim::testing
