#include "token_service.h"

#include <gtest/gtest.h>

namespace exsim {
namespace {

TokenService make_service(std::chrono::seconds lifetime = std::chrono::seconds(3600)) {
  return TokenService({GraphAppConfig{"tenant-1", "app-1", "s3cret", {"Calendars.ReadWrite"}}},
                      lifetime);
}

const std::string kScope = "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default";

TEST(TokenService, SecretGrantIssuesSignedTokenWithRoles) {
  const auto service = make_service();
  const auto reply = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&" + kScope);
  ASSERT_EQ(reply.status, 200) << reply.body.dump();
  EXPECT_EQ(reply.body["token_type"], "Bearer");
  const auto claims = service.verify(reply.body["access_token"].get<std::string>());
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ((*claims)["tid"], "tenant-1");
  EXPECT_EQ((*claims)["appid"], "app-1");
  EXPECT_EQ((*claims)["roles"], nlohmann::json::array({"Calendars.ReadWrite"}));
}

TEST(TokenService, TamperedTokenFailsVerification) {
  const auto service = make_service();
  auto token = service
                   .handle_token_request("tenant-1",
                                         "grant_type=client_credentials&client_id=app-1&"
                                         "client_secret=s3cret&" +
                                             kScope)
                   .body["access_token"]
                   .get<std::string>();
  token[token.size() / 2] = token[token.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(service.verify(token).has_value());
  EXPECT_FALSE(make_service().verify(token).has_value()) << "another key must not verify it";
}

TEST(TokenService, ExpiredTokenFailsVerification) {
  const auto service = make_service(std::chrono::seconds(0));
  const auto token = service
                         .handle_token_request("tenant-1",
                                               "grant_type=client_credentials&client_id=app-1&"
                                               "client_secret=s3cret&" +
                                                   kScope)
                         .body["access_token"]
                         .get<std::string>();
  EXPECT_FALSE(service.verify(token).has_value());
}

TEST(TokenService, ErrorsAsEntraIdAnswers) {
  const auto service = make_service();
  auto wrong_secret = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-1&client_secret=nope&" + kScope);
  EXPECT_EQ(wrong_secret.status, 401);
  EXPECT_EQ(wrong_secret.body["error"], "invalid_client");
  EXPECT_EQ(wrong_secret.body["error_codes"][0], 7000215);
  EXPECT_EQ(wrong_secret.body.dump().find("nope"), std::string::npos) << "secret echoed";

  auto unknown_app = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-9&client_secret=s3cret&" + kScope);
  EXPECT_EQ(unknown_app.status, 400);
  EXPECT_EQ(unknown_app.body["error"], "unauthorized_client");
  EXPECT_EQ(unknown_app.body["error_codes"][0], 700016);

  auto unknown_tenant = service.handle_token_request(
      "tenant-9", "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&" + kScope);
  EXPECT_EQ(unknown_tenant.status, 400);
  EXPECT_EQ(unknown_tenant.body["error_codes"][0], 90002);

  auto bad_scope = service.handle_token_request(
      "tenant-1", "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&scope=x");
  EXPECT_EQ(bad_scope.body["error"], "invalid_scope");
}

TEST(TokenService, FormDecoding) {
  const auto form = parse_form("a=1+2&b=%2F%3d&c");
  ASSERT_EQ(form.size(), 3u);
  EXPECT_EQ(form[0].second, "1 2");
  EXPECT_EQ(form[1].second, "/=");
  EXPECT_EQ(form[2].first, "c");
}

}  // namespace
}  // namespace exsim
