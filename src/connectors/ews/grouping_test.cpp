// Streaming groups: Autodiscover's GroupingInformation for many mailboxes per request, and
// the affinity headers and cookie of a group's requests.
#include "connectors/ews/grouping.h"

#include <gtest/gtest.h>

#include "connectors/ews/affinity.h"

namespace agendasync::ews {
namespace {

std::string user_response(const std::string& code, const std::string& grouping,
                          const std::string& url) {
  return "<UserResponse><ErrorCode>" + code + "</ErrorCode><ErrorMessage/>" +
         (code == "NoError"
              ? "<UserSettings><UserSetting i:type=\"StringSetting\"><Name>GroupingInformation</"
                "Name><Value>" +
                    grouping +
                    "</Value></UserSetting><UserSetting i:type=\"StringSetting\"><Name>"
                    "ExternalEwsUrl</Name><Value>" +
                    url + "</Value></UserSetting></UserSettings>"
              : std::string()) +
         "</UserResponse>";
}

std::string answer(const std::string& users) {
  return R"(<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses>)" +
         users +
         "</UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>";
}

TEST(Grouping, TheRequestAsksForEveryMailboxAndTheGroupingSetting) {
  const std::vector<std::string> mailboxes{"a@example.com", "b&c@example.com"};
  const std::string body =
      build_grouping_request(mailboxes, "https://x/autodiscover/autodiscover.svc");
  EXPECT_NE(body.find("<a:Mailbox>a@example.com</a:Mailbox>"), std::string::npos);
  EXPECT_NE(body.find("<a:Mailbox>b&amp;c@example.com</a:Mailbox>"), std::string::npos);
  EXPECT_NE(body.find("<a:Setting>GroupingInformation</a:Setting>"), std::string::npos);
}

TEST(Grouping, AnswersAreReadUserByUserInTheOrderAsked) {
  const std::vector<std::string> mailboxes{"a@x", "b@x", "c@x"};
  auto read = parse_grouping_response(
      answer(user_response("NoError", "DAG-1", "https://mail/EWS/Exchange.asmx") +
             user_response("InvalidUser", "", "") +
             user_response("NoError", "DAG-2", "https://mail/EWS/Exchange.asmx")),
      mailboxes);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->found.at("a@x").grouping, "DAG-1");
  EXPECT_EQ(read->found.at("c@x").grouping, "DAG-2");
  EXPECT_EQ(read->found.at("c@x").ews_url, "https://mail/EWS/Exchange.asmx");
  ASSERT_TRUE(read->missing.contains("b@x"));
  EXPECT_NE(read->missing.at("b@x").find("InvalidUser"), std::string::npos);
}

TEST(Grouping, EndpointsStartWithTheEwsServerItself) {
  const auto endpoints = grouping_endpoints("https://mail.corp:8443/EWS/Exchange.asmx", "corp.com");
  ASSERT_EQ(endpoints.size(), 3u);
  EXPECT_EQ(endpoints[0], "https://mail.corp:8443/autodiscover/autodiscover.svc");
  EXPECT_EQ(endpoints[1], "https://corp.com/autodiscover/autodiscover.svc");
  EXPECT_EQ(endpoints[2], "https://autodiscover.corp.com/autodiscover/autodiscover.svc");
}

TEST(Grouping, NoEndpointAnsweringIsAnErrorNamingEachAddress) {
  struct Refusing : net::HttpClient {
    Result<net::Response> send(const net::Request&, const net::Credentials&) override {
      net::Response response;
      response.status = 404;
      return response;
    }
    void send_async(net::Request, net::Credentials,
                    std::function<void(Result<net::Response>)> done) override {
      done(std::unexpected(Error::make(ErrorKind::kTransient, "no")));
    }
  } http;
  const std::vector<std::string> endpoints{"https://one/autodiscover/autodiscover.svc"};
  const std::vector<std::string> mailboxes{"a@x"};
  auto found = lookup_grouping(http, {}, endpoints, mailboxes);
  ASSERT_FALSE(found);
  EXPECT_NE(found.error().message.find("https://one/autodiscover/autodiscover.svc: HTTP 404"),
            std::string::npos);
}

TEST(Affinity, HeadersNameTheAnchorAskForAffinityAndCarryTheCookie) {
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "text/xml"},
                                                           {"X-AnchorMailbox", "member@x"}};
  add_affinity_headers(headers, Affinity{"anchor@x", "srv-2~abc"});
  auto value = [&](const std::string& name) {
    std::string found;
    int count = 0;
    for (const auto& [n, v] : headers) {
      if (n == name) {
        found = v;
        ++count;
      }
    }
    EXPECT_EQ(count, 1) << name;
    return found;
  };
  EXPECT_EQ(value("X-AnchorMailbox"), "anchor@x");
  EXPECT_EQ(value("X-PreferServerAffinity"), "true");
  EXPECT_EQ(value("Cookie"), "X-BackEndOverrideCookie=srv-2~abc");
}

TEST(Affinity, TheCookieIsReadFromSetCookie) {
  EXPECT_EQ(backend_override_cookie({{"set-cookie", "other=1; path=/"},
                                     {"set-cookie", "X-BackEndOverrideCookie=MBX2~x=y; path=/"}}),
            "MBX2~x=y");
  EXPECT_EQ(backend_override_cookie({{"content-type", "text/xml"}}), "");
}

}  // namespace
}  // namespace agendasync::ews
