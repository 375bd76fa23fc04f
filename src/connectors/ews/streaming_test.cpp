// Streaming notifications: the envelope splitter takes the stream in any chunking, and a
// group's envelope says which subscriptions changed, were lost, or failed.
#include "connectors/ews/streaming.h"

#include <gtest/gtest.h>

#include "connectors/ews/testing/soap_envelope.h"

namespace agendasync::ews {
namespace {

using testing::FakeHttp;
using testing::soap_envelope;

std::string streaming_envelope(const std::string& status, const std::string& events) {
  return soap_envelope(
      "<m:GetStreamingEventsResponse><m:ResponseMessages><m:GetStreamingEventsResponseMessage "
      "ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>" +
      (events.empty() ? std::string()
                      : "<m:Notifications><m:Notification><t:SubscriptionId>SUB</"
                        "t:SubscriptionId>" +
                            events + "</m:Notification></m:Notifications>") +
      "<m:ConnectionStatus>" + status +
      "</m:ConnectionStatus></m:GetStreamingEventsResponseMessage></m:ResponseMessages></"
      "m:GetStreamingEventsResponse>");
}

const std::string kCreated =
    "<t:CreatedEvent><t:Watermark>W1</t:Watermark><t:TimeStamp>2024-01-01T00:00:00Z</"
    "t:TimeStamp><t:ItemId Id=\"I1\" ChangeKey=\"C\"/><t:ParentFolderId Id=\"F\"/></"
    "t:CreatedEvent>";

TEST(EnvelopeSplitter, YieldsEachEnvelopeWhateverTheChunking) {
  const std::string one = streaming_envelope("OK", kCreated);
  const std::string two = streaming_envelope("Closed", "");
  const std::string stream = one + "\r\n" + two;
  for (const std::size_t chunk :
       {std::size_t{1}, std::size_t{7}, std::size_t{100}, stream.size()}) {
    EnvelopeSplitter splitter;
    std::vector<std::string> envelopes;
    for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
      auto got = splitter.feed(std::string_view(stream).substr(pos, chunk));
      ASSERT_TRUE(got);
      envelopes.insert(envelopes.end(), got->begin(), got->end());
    }
    ASSERT_EQ(envelopes.size(), 2u) << chunk;
    EXPECT_EQ(envelopes[0], one);
    EXPECT_NE(envelopes[1].find("Closed"), std::string::npos);
    EXPECT_LE(splitter.pending(), 2u);
  }
}

TEST(EnvelopeSplitter, RefusesGarbageAndOversizedEnvelopes) {
  EnvelopeSplitter splitter;
  EXPECT_FALSE(splitter.feed("HTTP/1.1 200 OK"));
  EnvelopeSplitter small(64);
  EXPECT_FALSE(small.feed("<s:Envelope>" + std::string(100, 'x')));
}

}  // namespace
}  // namespace agendasync::ews

namespace agendasync::ews {
namespace {

Error plain_error(const ResponseMessage& message) {
  return error_from_response_code(message.response_code, message.message_text,
                                  ErrorContext{"svc", "anchor@example.com", "NTLM"},
                                  message.back_off);
}

std::string group_message(const std::string& klass, const std::string& code,
                          const std::string& inner) {
  return soap_envelope(
      "<m:GetStreamingEventsResponse><m:ResponseMessages><m:GetStreamingEventsResponseMessage "
      "ResponseClass=\"" +
      klass + "\"><m:ResponseCode>" + code + "</m:ResponseCode>" + inner +
      "</m:GetStreamingEventsResponseMessage></m:ResponseMessages></"
      "m:GetStreamingEventsResponse>");
}

TEST(GroupEnvelope, EachNotificationWakesItsOwnSubscription) {
  const std::string two =
      "<m:Notifications><m:Notification><t:SubscriptionId>S1</t:SubscriptionId>" + kCreated +
      "</m:Notification><m:Notification><t:SubscriptionId>S7</t:SubscriptionId>" + kCreated +
      "</m:Notification><m:Notification><t:SubscriptionId>S9</t:SubscriptionId>"
      "<t:StatusEvent><t:Watermark>W</t:Watermark></t:StatusEvent></m:Notification>"
      "</m:Notifications><m:ConnectionStatus>OK</m:ConnectionStatus>";
  auto news = read_group_envelope(group_message("Success", "NoError", two), plain_error);
  ASSERT_TRUE(news) << news.error().message;
  EXPECT_EQ(news->changed, (std::set<std::string>{"S1", "S7"}));  // a StatusEvent is no change
  EXPECT_TRUE(news->lost.empty());
  EXPECT_FALSE(news->all_lost);
  EXPECT_FALSE(news->closed);
  EXPECT_FALSE(news->failure);
}

TEST(GroupEnvelope, ErrorSubscriptionIdsLoseOnlyThoseSubscriptions) {
  const std::string inner =
      "<m:MessageText>Subscriptions not found on this server.</m:MessageText>"
      "<m:ErrorSubscriptionIds><t:SubscriptionId>S2</t:SubscriptionId>"
      "<t:SubscriptionId>S3</t:SubscriptionId></m:ErrorSubscriptionIds>"
      "<m:ConnectionStatus>OK</m:ConnectionStatus>";
  auto news =
      read_group_envelope(group_message("Error", "ErrorSubscriptionNotFound", inner), plain_error);
  ASSERT_TRUE(news) << news.error().message;
  EXPECT_EQ(news->lost, (std::set<std::string>{"S2", "S3"}));
  EXPECT_FALSE(news->all_lost);
  EXPECT_FALSE(news->failure);
}

TEST(GroupEnvelope, ANewerConnectionTakingTheSubscriptionsOverLosesNothing) {
  // The subscriptions stream on the newer connection; they are neither lost nor to be made
  // again, and this older stream is simply over.
  const std::string inner =
      "<m:ErrorSubscriptionIds><t:SubscriptionId>S2</t:SubscriptionId></m:ErrorSubscriptionIds>"
      "<m:ConnectionStatus>Closed</m:ConnectionStatus>";
  auto news = read_group_envelope(
      group_message("Error", "ErrorNewEventStreamConnectionOpened", inner), plain_error);
  ASSERT_TRUE(news) << news.error().message;
  EXPECT_TRUE(news->lost.empty());
  EXPECT_FALSE(news->all_lost);
  EXPECT_FALSE(news->failure);
  EXPECT_TRUE(news->closed);
}

TEST(GroupEnvelope, MissedEventsWithoutIdsLoseEverySubscriptionOfTheStream) {
  auto news = read_group_envelope(group_message("Error", "ErrorMissedNotificationEvents",
                                                "<m:ConnectionStatus>Closed</m:ConnectionStatus>"),
                                  plain_error);
  ASSERT_TRUE(news) << news.error().message;
  EXPECT_TRUE(news->all_lost);
  EXPECT_TRUE(news->closed);
  EXPECT_FALSE(news->failure);
}

TEST(GroupEnvelope, TheConnectionBudgetIsAFailureOfTheStreamNotLostSubscriptions) {
  auto news =
      read_group_envelope(group_message("Error", "ErrorExceededConnectionCount", ""), plain_error);
  ASSERT_TRUE(news) << news.error().message;
  ASSERT_TRUE(news->failure);
  EXPECT_EQ(news->failure->kind, ErrorKind::kThrottled);
  EXPECT_EQ(news->failure->protocol_code, "ErrorExceededConnectionCount");
  EXPECT_FALSE(news->all_lost);
}

TEST(GroupEnvelope, NotSoapIsAnError) {
  EXPECT_FALSE(read_group_envelope("<html>proxy error</html>", plain_error));
}

}  // namespace
}  // namespace agendasync::ews
