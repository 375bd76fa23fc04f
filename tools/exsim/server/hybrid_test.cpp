// Hybrid mailboxes over real HTTP: what on-premises EWS, both Autodiscover forms and Graph
// answer for a mailbox on premises only, moved to Exchange Online, and moved back; and that a
// move keeps the items (one store behind both protocols).
#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "exsim/ews/streaming_test_support.h"

namespace exsim::testing {
namespace {

using nlohmann::json;

constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";

// Two mailboxes: m0 not placed (reachable both ways), m1 on premises only; a Graph app.
ServerConfig hybrid_config() {
  ServerConfig config = config_with_mailboxes(2);
  config.mailboxes[1].location = "onpremises";
  config.online_routing_domain = "contoso.mail.onmicrosoft.com";
  config.graph_apps = {
      GraphAppConfig{kTenant,
                     "app",
                     "secret",
                     {"Calendars.ReadWrite", "User.Read.All", "MailboxSettings.Read"},
                     {}}};
  return config;
}

class Hybrid : public ::testing::Test {
 protected:
  Hybrid() : exsim_(hybrid_config()), client_("127.0.0.1", exsim_.port()) {
    client_.set_read_timeout(30, 0);
    auto res = client_.Post(fmt::format("/{}/oauth2/v2.0/token", kTenant),
                            "grant_type=client_credentials&client_id=app&client_secret=secret&"
                            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
                            "application/x-www-form-urlencoded");
    EXPECT_TRUE(res && res->status == 200);
    if (res) token_ = json::parse(res->body).value("access_token", "");
  }

  Reply graph(const std::string& method, const std::string& path, const json& body = nullptr) {
    httplib::Headers headers{{"Authorization", "Bearer " + token_}};
    auto res = method == "GET"
                   ? client_.Get("/v1.0" + path, headers)
                   : client_.Post("/v1.0" + path, headers, body.dump(), "application/json");
    if (!res) return {};
    return Reply{res->status, res->body, res->headers};
  }

  Reply move(const std::string& address, const std::string& to) {
    return exsim_.admin(fmt::format("mailboxes/{}/move", address), json{{"to", to}}.dump());
  }

  std::string pox(const std::string& address) {
    httplib::Client client("127.0.0.1", exsim_.port());
    client.set_basic_auth(kService, kPassword);
    auto res = client.Post(
        "/autodiscover/autodiscover.xml",
        "<?xml version='1.0'?><Autodiscover xmlns='http://schemas.microsoft.com/exchange/"
        "autodiscover/outlook/requestschema/2006'><Request><EMailAddress>" +
            address + "</EMailAddress></Request></Autodiscover>",
        "text/xml");
    EXPECT_TRUE(res && res->status == 200);
    return res ? res->body : "";
  }

  std::string soap_autodiscover(const std::string& address) {
    httplib::Client client("127.0.0.1", exsim_.port());
    client.set_basic_auth(kService, kPassword);
    auto res = client.Post(
        "/autodiscover/autodiscover.svc",
        "<?xml version='1.0'?><s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/' "
        "xmlns:a='http://schemas.microsoft.com/exchange/2010/Autodiscover'><s:Body>"
        "<a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>" +
            address +
            "</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>ExternalEwsUrl"
            "</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage>"
            "</s:Body></s:Envelope>",
        "text/xml");
    EXPECT_TRUE(res && res->status == 200);
    return res ? res->body : "";
  }

  // CreateItem in `address`'s calendar as the impersonating service account.
  Reply create_item(const std::string& address, const std::string& subject) {
    return exsim_.ews(
        kService,
        envelope(fmt::format("<m:CreateItem SendMeetingInvitations=\"SendToNone\"><m:Items>"
                             "<t:CalendarItem><t:Subject>{}</t:Subject>"
                             "<t:Start>2030-05-06T09:00:00Z</t:Start>"
                             "<t:End>2030-05-06T10:00:00Z</t:End></t:CalendarItem>"
                             "</m:Items></m:CreateItem>",
                             subject),
                 address));
  }

  Reply get_item(const std::string& id, const std::string& impersonate) {
    return exsim_.ews(kService,
                      envelope(fmt::format("<m:GetItem><m:ItemShape><t:BaseShape>IdOnly"
                                           "</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId "
                                           "Id=\"{}\"/></m:ItemIds></m:GetItem>",
                                           id),
                               impersonate));
  }

  static std::string item_id(const std::string& xml) {
    auto at = xml.find("<t:ItemId Id=\"");
    if (at == std::string::npos) return "";
    at += 14;
    return xml.substr(at, xml.find('"', at) - at);
  }

  Exsim exsim_;
  httplib::Client client_;
  std::string token_;
};

TEST_F(Hybrid, AMailboxNotPlacedIsServedByBothProtocols) {
  EXPECT_EQ(element_text(create_item(mailbox(0), "Both").body, "ResponseCode"), "NoError");
  EXPECT_EQ(graph("GET", fmt::format("/users/{}/events", mailbox(0))).status, 200);
  EXPECT_NE(pox(mailbox(0)).find("<Action>settings</Action>"), std::string::npos);
  auto listing = json::parse(exsim_.admin("mailboxes").body);
  EXPECT_EQ(listing[0]["location"], "everywhere");
  EXPECT_EQ(listing[1]["location"], "onpremises");
}

TEST_F(Hybrid, GraphRefusesAMailboxOnPremisesWithMailboxNotEnabledForRestApi) {
  const std::string user = mailbox(1);
  EXPECT_EQ(element_text(create_item(user, "On premises").body, "ResponseCode"), "NoError");
  for (const char* tail : {"/events", "/calendar",
                           "/calendarView?startDateTime=2030-01-01T00:00:00Z"
                           "&endDateTime=2031-01-01T00:00:00Z",
                           "/mailboxSettings"}) {
    Reply r = graph("GET", "/users/" + user + tail);
    EXPECT_EQ(r.status, 404) << tail;
    auto error = json::parse(r.body, nullptr, false)["error"];
    EXPECT_EQ(error["code"], "MailboxNotEnabledForRESTAPI") << r.body;
    EXPECT_EQ(error["message"],
              "The mailbox is either inactive, soft-deleted, or is hosted on-premise.");
  }
  // The user object is in the directory all the same.
  EXPECT_EQ(graph("GET", "/users/" + user).status, 200);
  // Nor can Exchange Online watch it.
  Reply sub = graph("POST", "/subscriptions",
                    {{"changeType", "created"},
                     {"notificationUrl", "http://127.0.0.1:9/hook"},
                     {"resource", "users/" + user + "/events"},
                     {"expirationDateTime",
                      fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(
                                                               std::chrono::system_clock::now() +
                                                               std::chrono::hours(24)))}});
  EXPECT_EQ(sub.status, 404) << sub.body;
  EXPECT_NE(sub.body.find("MailboxNotEnabledForRESTAPI"), std::string::npos);
  // A $batch member is refused the same way.
  Reply batch = graph(
      "POST", "/$batch",
      {{"requests",
        json::array({{{"id", "1"}, {"method", "GET"}, {"url", "/users/" + user + "/events"}}})}});
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(json::parse(batch.body)["responses"][0]["status"], 404);
}

TEST_F(Hybrid, AMoveOnlineTurnsOnPremisesEwsAndAutodiscoverAwayAndGraphReadsTheSameItems) {
  const std::string user = mailbox(1);
  // Before: on premises only. EWS and Autodiscover serve it, Graph does not.
  Reply created = create_item(user, "Written over EWS before the move");
  ASSERT_EQ(element_text(created.body, "ResponseCode"), "NoError") << created.body;
  const std::string id = item_id(created.body);
  ASSERT_FALSE(id.empty());
  EXPECT_NE(pox(user).find("<Action>settings</Action>"), std::string::npos);
  EXPECT_NE(soap_autodiscover(user).find("<ErrorCode>NoError</ErrorCode><ErrorMessage>No error."),
            std::string::npos);
  EXPECT_EQ(graph("GET", "/users/" + user + "/events").status, 404);

  Reply moved = move(user, "online");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(json::parse(moved.body)["target_address"], "m1@contoso.mail.onmicrosoft.com");

  // After: impersonation finds no mailbox (a SOAP fault, as for any unknown address) ...
  Reply impersonated = exsim_.ews(kService, get_calendar(user, user));
  EXPECT_EQ(impersonated.status, 500);
  EXPECT_NE(impersonated.body.find("ErrorNonExistentMailbox"), std::string::npos);
  EXPECT_NE(impersonated.body.find("The SMTP address has no mailbox associated with it"),
            std::string::npos);
  // ... nor does a delegate naming the mailbox, nor an item id handed out before the move.
  Reply delegate = exsim_.ews(user, get_calendar(user));
  EXPECT_EQ(element_text(delegate.body, "ResponseCode"), "ErrorNonExistentMailbox")
      << delegate.body;
  EXPECT_EQ(element_text(get_item(id, "").body, "ResponseCode"), "ErrorNonExistentMailbox");
  // Autodiscover redirects to the target address, in both forms.
  const std::string pox_answer = pox(user);
  EXPECT_NE(pox_answer.find("<Account><Action>redirectAddr</Action><RedirectAddr>"
                            "m1@contoso.mail.onmicrosoft.com</RedirectAddr></Account>"),
            std::string::npos)
      << pox_answer;
  EXPECT_EQ(pox_answer.find("<User>"), std::string::npos);
  const std::string soap_answer = soap_autodiscover(user);
  EXPECT_NE(soap_answer.find("<UserResponse><ErrorCode>RedirectAddress</ErrorCode>"),
            std::string::npos)
      << soap_answer;
  EXPECT_NE(soap_answer.find("<RedirectTarget>m1@contoso.mail.onmicrosoft.com</RedirectTarget>"),
            std::string::npos);
  // Graph serves it now, with the item written over EWS before the move.
  Reply events = graph("GET", "/users/" + user + "/events");
  ASSERT_EQ(events.status, 200) << events.body;
  auto value = json::parse(events.body)["value"];
  ASSERT_EQ(value.size(), 1u);
  EXPECT_EQ(value[0]["subject"], "Written over EWS before the move");
  // The other mailbox is untouched.
  EXPECT_EQ(element_text(create_item(mailbox(0), "Still here").body, "ResponseCode"), "NoError");

  // And back on premises (offboarding): EWS serves it again, Graph refuses it.
  ASSERT_EQ(move(user, "onpremises").status, 200);
  EXPECT_EQ(element_text(get_item(id, user).body, "ResponseCode"), "NoError");
  EXPECT_NE(pox(user).find("<Action>settings</Action>"), std::string::npos);
  EXPECT_EQ(graph("GET", "/users/" + user + "/events").status, 404);
}

TEST_F(Hybrid, AMoveOnlineEndsTheMailboxsEwsSubscriptions) {
  const std::string user = mailbox(1);
  const std::string id = subscribe_id(exsim_, kService, user, user);
  ASSERT_FALSE(id.empty());
  Reply moved = move(user, "online");
  EXPECT_EQ(json::parse(moved.body)["ews_subscriptions_removed"], 1);
  // The service account's own budget still opens streams; the subscription is gone.
  Reply events = exsim_.ews(kService, get_streaming_events({id}));
  EXPECT_EQ(element_text(events.body, "ResponseCode"), "ErrorSubscriptionNotFound") << events.body;
}

TEST_F(Hybrid, TheMoveCallChecksItsInput) {
  EXPECT_EQ(move("nobody@example.com", "online").status, 404);
  EXPECT_EQ(move(mailbox(0), "cloud").status, 400);
  EXPECT_EQ(exsim_.admin(fmt::format("mailboxes/{}/move", mailbox(0)), "[]").status, 400);
  Reply given =
      exsim_.admin(fmt::format("mailboxes/{}/move", mailbox(0)),
                   R"({"to":"online","target_address":"alice@tenant.mail.onmicrosoft.com"})");
  ASSERT_EQ(given.status, 200);
  EXPECT_NE(pox(mailbox(0)).find("<RedirectAddr>alice@tenant.mail.onmicrosoft.com</RedirectAddr>"),
            std::string::npos);
}

}  // namespace
}  // namespace exsim::testing
