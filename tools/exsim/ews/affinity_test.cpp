// exsim's simulated Mailbox servers over real HTTP: GroupingInformation in Autodiscover,
// routing by X-BackEndOverrideCookie / X-AnchorMailbox + X-PreferServerAffinity / rotation,
// subscriptions held per server (ErrorSubscriptionIds for the others), server restarts, and
// the switch that relaxes affinity.
// learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exsim/ews/streaming_test_support.h"

namespace exsim::testing {
namespace {

using nlohmann::json;

ServerConfig four_servers(int mailboxes = 8) {
  ServerConfig config = config_with_mailboxes(mailboxes);
  config.mailbox_servers = 4;
  return config;
}

std::string soap_grouping(Exsim& exsim, const std::string& address) {
  std::string body =
      "<?xml version='1.0'?><s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/' "
      "xmlns:a='http://schemas.microsoft.com/exchange/2010/Autodiscover'><s:Body>"
      "<a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>" +
      address +
      "</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>GroupingInformation"
      "</a:Setting><a:Setting>ExternalEwsUrl</a:Setting></a:RequestedSettings></a:Request>"
      "</a:GetUserSettingsRequestMessage></s:Body></s:Envelope>";
  httplib::Client client("127.0.0.1", exsim.port());
  client.set_basic_auth(address, kPassword);
  auto res = client.Post("/autodiscover/autodiscover.svc", body, "text/xml");
  EXPECT_TRUE(res && res->status == 200);
  if (!res) return "";
  // <Name>GroupingInformation</Name><Value>...</Value>
  auto at = res->body.find("<Name>GroupingInformation</Name><Value>");
  EXPECT_NE(at, std::string::npos) << res->body;
  if (at == std::string::npos) return "";
  at += 39;
  EXPECT_NE(res->body.find("ExternalEwsUrl"), std::string::npos) << res->body;
  return res->body.substr(at, res->body.find('<', at) - at);
}

TEST(MailboxServers, SoapAutodiscoverGivesEachMailboxItsServersGroupingInformation) {
  Exsim exsim(four_servers());
  // Round robin over four servers: m0 and m4 share one, m1 is on another.
  std::string g0 = soap_grouping(exsim, mailbox(0));
  EXPECT_FALSE(g0.empty());
  EXPECT_EQ(g0, soap_grouping(exsim, mailbox(4)));
  EXPECT_NE(g0, soap_grouping(exsim, mailbox(1)));
  auto servers = json::parse(exsim.admin("mailbox-servers").body);
  ASSERT_EQ(servers.size(), 4u);
  EXPECT_EQ(servers[0]["grouping_information"], g0);
  EXPECT_EQ(servers[0]["mailboxes"], 2);
}

TEST(MailboxServers, PoxAutodiscoverCarriesGroupingInformationInTheExprProtocol) {
  Exsim exsim(four_servers());
  httplib::Client client("127.0.0.1", exsim.port());
  client.set_basic_auth(mailbox(1), kPassword);
  auto res =
      client.Post("/autodiscover/autodiscover.xml",
                  "<?xml version='1.0'?><Autodiscover xmlns='http://schemas.microsoft.com/exchange/"
                  "autodiscover/outlook/requestschema/2006'><Request><EMailAddress>" +
                      mailbox(1) + "</EMailAddress></Request></Autodiscover>",
                  "text/xml");
  ASSERT_TRUE(res && res->status == 200);
  auto expr = res->body.find("<Type>EXPR</Type>");
  ASSERT_NE(expr, std::string::npos) << res->body;
  EXPECT_NE(res->body.find("<GroupingInformation>EXSIM-MBX02</GroupingInformation>", expr),
            std::string::npos)
      << res->body;
  // Only the EXPR protocol carries it (groupinginformation-pox).
  EXPECT_EQ(res->body.find("<GroupingInformation>"), res->body.find("<GroupingInformation>", expr));
}

TEST(MailboxServers, OneServerByDefaultSoAClientWithoutAffinityStreams) {
  Exsim exsim(config_with_mailboxes(4));
  EXPECT_EQ(soap_grouping(exsim, mailbox(0)), soap_grouping(exsim, mailbox(3)));
  // The product's watcher today: one impersonated subscription per mailbox, no headers.
  std::string id = subscribe_id(exsim, kService, mailbox(2), mailbox(2));
  Stream stream(exsim.port(), kService, get_streaming_events({id}, 1, mailbox(2)));
  ASSERT_TRUE(stream.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  outlook_change(exsim, mailbox(2), "seen");
  EXPECT_TRUE(stream.wait_for_text("CreatedEvent"));
}

TEST(MailboxServers, AnchorAndPreferenceRouteToTheAnchorsServerAndSetTheCookie) {
  Exsim exsim(four_servers());
  Reply reply;
  subscribe_id(exsim, kService, mailbox(1), mailbox(1), affinity(mailbox(1)), &reply);
  std::string cookie = override_cookie(reply.headers);
  // "<fqdn>~<packed version>", as the affinity page's example; path=/ and HttpOnly.
  EXPECT_TRUE(cookie.starts_with("mbx02.exsim.local~")) << cookie;
  std::string set_cookie = reply.headers.find("Set-Cookie")->second;
  EXPECT_NE(set_cookie.find("path=/"), std::string::npos);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_EQ(set_cookie.find("secure"), std::string::npos) << "plain HTTP: a secure cookie "
                                                             "would never come back";
  auto servers = json::parse(exsim.admin("mailbox-servers").body);
  EXPECT_EQ(servers[1]["subscriptions"], 1);
  EXPECT_EQ(servers[1]["cookie"], "X-BackEndOverrideCookie=" + cookie);

  // With the cookie the request goes where the cookie says and gets no new cookie; without the
  // preference header nothing is sticky.
  subscribe_id(exsim, kService, mailbox(5), mailbox(5), affinity(mailbox(1), cookie), &reply);
  EXPECT_EQ(override_cookie(reply.headers), "");
  subscribe_id(exsim, kService, mailbox(2), mailbox(2), {{"X-AnchorMailbox", mailbox(1)}}, &reply);
  EXPECT_EQ(override_cookie(reply.headers), "");
  servers = json::parse(exsim.admin("mailbox-servers").body);
  EXPECT_EQ(servers[1]["subscriptions"], 2);
}

TEST(MailboxServers, TheCookieWinsOverTheAnchor) {
  Exsim exsim(four_servers());
  auto servers = json::parse(exsim.admin("mailbox-servers").body);
  std::string third = servers[2]["cookie"].get<std::string>().substr(24);
  subscribe_id(exsim, kService, mailbox(0), mailbox(0), affinity(mailbox(0), third));
  servers = json::parse(exsim.admin("mailbox-servers").body);
  EXPECT_EQ(servers[2]["subscriptions"], 1);
  EXPECT_EQ(servers[0]["subscriptions"], 0);
}

TEST(MailboxServers, AGroupSubscribesWithTheCookieAndStreamsOnOneConnection) {
  Exsim exsim(four_servers());
  // m0 and m4 share server 1: the anchor m0 subscribes first and gets the cookie.
  Reply reply;
  std::string anchor_id =
      subscribe_id(exsim, kService, mailbox(0), mailbox(0), affinity(mailbox(0)), &reply);
  std::string cookie = override_cookie(reply.headers);
  ASSERT_FALSE(cookie.empty());
  std::string other_id =
      subscribe_id(exsim, kService, mailbox(4), mailbox(4), affinity(mailbox(0), cookie));
  Stream stream(exsim.port(), kService, get_streaming_events({anchor_id, other_id}, 1, mailbox(0)),
                affinity(mailbox(0), cookie));
  ASSERT_TRUE(stream.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  outlook_change(exsim, mailbox(4), "in the group");
  ASSERT_TRUE(stream.wait_for_text(other_id));
  outlook_change(exsim, mailbox(0), "the anchor's");
  ASSERT_TRUE(stream.wait_for_text(anchor_id));
  for (const std::string& part : stream.parts()) {
    EXPECT_EQ(part.find("ResponseClass=\"Error\""), std::string::npos) << part;
  }
}

TEST(MailboxServers, AClientWithoutAffinityFailsWithinTwoRequests) {
  Exsim exsim(four_servers());
  // Subscribe lands on one server, the GetStreamingEvents after it on the next.
  std::string id = subscribe_id(exsim, kService, mailbox(3), mailbox(3));
  Reply reply = exsim.ews(kService, get_streaming_events({id}, 1, mailbox(3)));
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("ResponseClass=\"Error\""), std::string::npos) << reply.body;
  EXPECT_EQ(element_text(reply.body, "ResponseCode"), "ErrorSubscriptionNotFound");
  EXPECT_EQ(error_subscription_ids(reply.body), std::vector<std::string>{id}) << reply.body;
  EXPECT_EQ(element_text(reply.body, "ConnectionStatus"), "Closed");
}

TEST(MailboxServers, TheNoServerAffinitySwitchLetsAnyServerServeEverySubscription) {
  ServerConfig config = four_servers();
  config.server_affinity = false;
  Exsim exsim(config);
  std::string id = subscribe_id(exsim, kService, mailbox(3), mailbox(3));
  Stream stream(exsim.port(), kService, get_streaming_events({id}, 1, mailbox(3)));
  ASSERT_TRUE(stream.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  outlook_change(exsim, mailbox(3), "relaxed");
  EXPECT_TRUE(stream.wait_for_text("CreatedEvent"));
}

TEST(MailboxServers, IdsTheServerDoesNotHoldComeBackInErrorSubscriptionIdsAndTheOthersStream) {
  Exsim exsim(four_servers());
  Reply reply;
  std::string here =
      subscribe_id(exsim, kService, mailbox(0), mailbox(0), affinity(mailbox(0)), &reply);
  std::string cookie = override_cookie(reply.headers);
  std::string elsewhere =
      subscribe_id(exsim, kService, mailbox(1), mailbox(1), affinity(mailbox(1)));
  Stream stream(exsim.port(), kService,
                get_streaming_events({here, elsewhere, "bm90LWEtc3Vic2NyaXB0aW9u"}, 1, mailbox(0)),
                affinity(mailbox(0), cookie));
  ASSERT_TRUE(stream.wait_for_text("ErrorSubscriptionIds"));
  std::string first = stream.parts().front();
  EXPECT_EQ(element_text(first, "ResponseCode"), "ErrorSubscriptionNotFound") << first;
  EXPECT_EQ(error_subscription_ids(first),
            (std::vector<std::string>{elsewhere, "bm90LWEtc3Vic2NyaXB0aW9u"}));
  outlook_change(exsim, mailbox(0), "still streaming");
  EXPECT_TRUE(stream.wait_for_text("CreatedEvent"));
  outlook_change(exsim, mailbox(1), "not on this connection");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (const std::string& part : stream.parts()) {
    EXPECT_EQ(part.find("<t:SubscriptionId>" + elsewhere + "</t:SubscriptionId><t:Created"),
              std::string::npos);
  }
}

TEST(MailboxServers, ItemOperationsWorkFromAnyServer) {
  Exsim exsim(four_servers());
  // The Client Access role proxies everything but notifications: rotation does not matter.
  for (int i = 0; i < 8; ++i) {
    Reply reply = exsim.ews(mailbox(1), get_calendar(mailbox(1)));
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(element_text(reply.body, "ResponseCode"), "NoError") << reply.body;
  }
}

TEST(MailboxServers, UnsubscribeAndPullFollowTheSubscriptionsServer) {
  Exsim exsim(four_servers());
  std::string id = subscribe_id(exsim, kService, mailbox(2), mailbox(2), affinity(mailbox(2)));
  std::string unsubscribe = envelope(
      "<m:Unsubscribe><m:SubscriptionId>" + id + "</m:SubscriptionId></m:Unsubscribe>", mailbox(2));
  Reply wrong = exsim.ews(kService, unsubscribe, affinity(mailbox(3)));
  EXPECT_EQ(element_text(wrong.body, "ResponseCode"), "ErrorSubscriptionNotFound");
  Reply right = exsim.ews(kService, unsubscribe, affinity(mailbox(2)));
  EXPECT_EQ(element_text(right.body, "ResponseCode"), "NoError") << right.body;
}

TEST(MailboxServers, ARestartLosesThatServersSubscriptionsAndBreaksItsStreams) {
  Exsim exsim(four_servers());
  Reply reply;
  std::string on_first =
      subscribe_id(exsim, kService, mailbox(0), mailbox(0), affinity(mailbox(0)), &reply);
  std::string first_cookie = override_cookie(reply.headers);
  std::string on_second =
      subscribe_id(exsim, kService, mailbox(1), mailbox(1), affinity(mailbox(1)), &reply);
  std::string second_cookie = override_cookie(reply.headers);
  Stream broken(exsim.port(), kService, get_streaming_events({on_first}, 1, mailbox(0)),
                affinity(mailbox(0), first_cookie));
  Stream survivor(exsim.port(), kService, get_streaming_events({on_second}, 1, mailbox(1)),
                  affinity(mailbox(1), second_cookie));
  ASSERT_TRUE(broken.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  ASSERT_TRUE(survivor.wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));

  Reply restart = exsim.admin("mailbox-servers/1/restart", "{}");
  ASSERT_EQ(restart.status, 200) << restart.body;
  EXPECT_EQ(json::parse(restart.body)["subscriptions_removed"], 1);
  ASSERT_TRUE(broken.wait_until_over());
  EXPECT_FALSE(broken.complete()) << "a restart cuts the stream, it does not close it";
  for (const std::string& part : broken.parts()) EXPECT_EQ(part.find("Closed"), std::string::npos);

  Reply again = exsim.ews(kService, get_streaming_events({on_first}, 1, mailbox(0)),
                          affinity(mailbox(0), first_cookie));
  EXPECT_EQ(element_text(again.body, "ResponseCode"), "ErrorSubscriptionNotFound");
  outlook_change(exsim, mailbox(1), "the other server is fine");
  EXPECT_TRUE(survivor.wait_for_text("CreatedEvent"));
  EXPECT_EQ(exsim.admin("mailbox-servers/5/restart", "{}").status, 404);
}

}  // namespace
}  // namespace exsim::testing
