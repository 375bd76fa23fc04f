// Autodiscover: documented POX and SOAP answers parse; the search goes POX then SOAP and a
// failure lists every address tried.
#include "connectors/ews/autodiscover.h"

#include <gtest/gtest.h>

#include "connectors/ews/testing/soap_envelope.h"
#include "connectors/ews/testing/xsd_validator.h"

namespace agendasync::ews {
namespace {

std::string example(const std::string& name) {
  return testing::read_file(testing::conformance_dir() + "/ews-examples/" + name);
}

TEST(Autodiscover, DocumentedPoxAnswerGivesTheInternalEwsUrl) {
  const auto url = parse_pox_autodiscover(
      example("pox-autodiscover-response-for-exchange__01__Autodiscover.xml"));
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(*url, "https://mail.contoso.com/ews/exchange.asmx");
}

TEST(Autodiscover, DocumentedPoxErrorIsReported) {
  const auto url = parse_pox_autodiscover(
      example("pox-autodiscover-response-for-exchange__02__Autodiscover-600.xml"));
  ASSERT_FALSE(url);
  EXPECT_NE(url.error().message.find("600"), std::string::npos);
}

TEST(Autodiscover, DocumentedSoapAnswersAndRedirects) {
  const auto url = parse_soap_autodiscover(example(
      "use-autodiscover-to-find-connection-points__04__GetUserSettingsResponseMessage.xml"));
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(*url, "https://server.Contoso.com/ews/exchange.asmx");
  const auto redirect = parse_soap_autodiscover(
      example("use-autodiscover-to-find-connection-points__02__GetUserSettingsResponseMessage-"
              "RedirectAddress.xml"));
  ASSERT_TRUE(redirect);
  EXPECT_EQ(*redirect, "redirect:User1@mail.Contoso.com");
}

TEST(Autodiscover, CandidatesFromTheMailDomain) {
  EXPECT_EQ(autodiscover_bases("jdoe@contoso.com"),
            (std::vector<std::string>{"https://contoso.com", "https://autodiscover.contoso.com"}));
}

TEST(Autodiscover, TriesPoxThenSoapAndListsEveryAddress) {
  testing::FakeHttp http;
  const std::string soap_answer =
      example("use-autodiscover-to-find-connection-points__04__GetUserSettingsResponseMessage.xml");
  http.handler = [&](const net::Request& request) -> Result<net::Response> {
    net::Response response;
    if (request.url.starts_with("https://contoso.com"))
      return fail(ErrorKind::kTransient, "could not connect");
    if (request.url.ends_with(".xml")) {
      response.status = 404;
      return response;
    }
    response.status = 200;
    response.body = soap_answer;
    return response;
  };
  const auto found = autodiscover(http, net::Credentials{}, "jdoe@contoso.com");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->ews_url, "https://server.Contoso.com/ews/exchange.asmx");
  ASSERT_EQ(found->tried.size(), 4u);
  EXPECT_NE(found->tried[0].find("https://contoso.com/autodiscover/autodiscover.xml"),
            std::string::npos);
  EXPECT_NE(found->tried[1].find("HTTP 404"), std::string::npos);
  EXPECT_NE(found->tried[3].find("SOAP"), std::string::npos);
}

TEST(Autodiscover, FailureNamesEveryAddressTried) {
  testing::FakeHttp http;
  http.handler = [](const net::Request&) -> Result<net::Response> {
    return fail(ErrorKind::kTransient, "no route to host");
  };
  const auto found = autodiscover(http, net::Credentials{}, "jdoe@contoso.com");
  ASSERT_FALSE(found);
  for (const char* url : {"https://contoso.com/autodiscover/autodiscover.xml",
                          "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                          "https://contoso.com/autodiscover/autodiscover.svc",
                          "https://autodiscover.contoso.com/autodiscover/autodiscover.svc"}) {
    EXPECT_NE(found.error().message.find(url), std::string::npos) << url;
  }
  EXPECT_NE(found.error().message.find("EWS URL"), std::string::npos);
}

}  // namespace
}  // namespace agendasync::ews
