// R41: on-premises Autodiscover tells a mailbox that moved to Exchange Online (a redirect to
// its target address) from one on premises (an EWS URL); the first base that answers decides.
#include "connectors/ews/mailbox_place.h"

#include <gtest/gtest.h>

#include "connectors/ews/testing/soap_envelope.h"

namespace agendasync::ews {
namespace {

constexpr const char* kPoxRedirect = R"(<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
<Account><Action>redirectAddr</Action>
<RedirectAddr>jdoe@contoso.mail.onmicrosoft.com</RedirectAddr></Account>
</Response></Autodiscover>)";

constexpr const char* kPoxSettings = R"(<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
<Account><AccountType>email</AccountType><Action>settings</Action>
<Protocol><Type>EXCH</Type><EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl></Protocol>
</Account></Response></Autodiscover>)";

net::Response ok(std::string body) {
  net::Response response;
  response.status = 200;
  response.body = std::move(body);
  return response;
}

TEST(MailboxPlace, BasesStartWithTheEwsServerThenTheMailDomain) {
  EXPECT_EQ(
      mailbox_place_bases("https://mail.contoso.com:8443/EWS/Exchange.asmx", "jdoe@contoso.com"),
      (std::vector<std::string>{"https://mail.contoso.com:8443", "https://contoso.com",
                                "https://autodiscover.contoso.com"}));
}

TEST(MailboxPlace, ARedirectToAnotherAddressMeansMovedOnline) {
  testing::FakeHttp http;
  http.handler = [](const net::Request&) -> Result<net::Response> { return ok(kPoxRedirect); };
  auto place = locate_mailbox(http, {}, "jdoe@contoso.com", {"https://mail.contoso.com"});
  ASSERT_TRUE(place) << place.error().message;
  EXPECT_TRUE(place->moved_online);
  EXPECT_EQ(place->redirect_address, "jdoe@contoso.mail.onmicrosoft.com");
}

TEST(MailboxPlace, AnEwsUrlMeansOnPremisesAndAFailingBaseIsOnlyListed) {
  testing::FakeHttp http;
  http.handler = [](const net::Request& request) -> Result<net::Response> {
    if (request.url.starts_with("https://down.contoso.com"))
      return fail(ErrorKind::kTransient, "could not connect");
    return ok(kPoxSettings);
  };
  auto place = locate_mailbox(http, {}, "jdoe@contoso.com",
                              {"https://down.contoso.com", "https://mail.contoso.com"});
  ASSERT_TRUE(place) << place.error().message;
  EXPECT_FALSE(place->moved_online);
  ASSERT_EQ(place->tried.size(), 2u);
  EXPECT_NE(place->tried[0].find("could not connect"), std::string::npos);
}

TEST(MailboxPlace, NoAnswerAnywhereIsAnErrorListingEveryAddress) {
  testing::FakeHttp http;
  http.handler = [](const net::Request&) -> Result<net::Response> {
    net::Response response;
    response.status = 404;
    return response;
  };
  auto place = locate_mailbox(http, {}, "jdoe@contoso.com", {"https://mail.contoso.com"});
  ASSERT_FALSE(place);
  EXPECT_NE(place.error().message.find("autodiscover.xml (POX): HTTP 404"), std::string::npos);
  EXPECT_NE(place.error().message.find("autodiscover.svc (SOAP): HTTP 404"), std::string::npos);
}

}  // namespace
}  // namespace agendasync::ews
