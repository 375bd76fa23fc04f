// What an admin meets signing the app in against exsim's token endpoint: a missing role, a
// wrong secret, certificates (valid, expired, not uploaded), and a token Graph rejects
// (refreshed once, then Graph's error naming the settings).
#include <gtest/gtest.h>

#include "connectors/graph/testing/graph_exsim_fixture.h"

namespace agendasync::graph::exsim_testing {
namespace {

TEST_F(GraphExsimTest, MissingCalendarsRoleIsNamedWithWhereToGrantIt) {
  TokenProvider limited(*http_, app(kNoCalendarsClient, kSecret));
  auto roles = limited.roles();
  ASSERT_TRUE(roles) << roles.error().message;
  auto checked = check_roles(*roles, limited.app());
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::kPermission);
  EXPECT_NE(checked.error().message.find("Calendars.ReadWrite"), std::string::npos);
  EXPECT_NE(checked.error().message.find("API permissions"), std::string::npos);

  GraphSide graph(*http_, limited.credentials(), options("jdoe@example.com"));
  auto listed = graph.list(window());
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().kind, ErrorKind::kPermission) << listed.error().message;
  EXPECT_NE(listed.error().message.find("Calendars.ReadWrite"), std::string::npos)
      << listed.error().message;
}

TEST_F(GraphExsimTest, WrongSecretSaysWhichSettingToFixWithoutEchoingIt) {
  TokenProvider wrong(*http_, app(kClient, "not-the-secret"));
  auto token = wrong.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth) << token.error().message;
  EXPECT_NE(token.error().message.find("secret"), std::string::npos) << token.error().message;
  EXPECT_EQ(token.error().message.find("not-the-secret"), std::string::npos);
}

TEST_F(GraphExsimTest, ExpiredCertificateIsRefusedBeforeAnyRequest) {
  const auto expired = testing::make_certificate(-30, -1);
  TokenProvider provider(*http_, certificate_app(kClient, expired));
  auto token = provider.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth);
  EXPECT_NE(token.error().message.find("expired"), std::string::npos) << token.error().message;
}

/// A token exsim signed, with its signature spoilt: what Graph sees of an expired or
/// tampered token.
std::string spoilt(const Secret& token) {
  std::string text = token.reveal();
  text.back() = text.back() == 'A' ? 'B' : 'A';
  text[text.size() - 2] = text[text.size() - 2] == 'A' ? 'B' : 'A';
  return text;
}

/// Bearer credentials that send a spoilt token first and, after Graph's 401, what `refresh`
/// gives; `refreshed` counts the refreshes.
net::Credentials spoilt_first(const Secret& good, std::function<Result<Secret>()> refresh,
                              std::atomic<int>& refreshed) {
  net::Credentials credentials;
  credentials.method = net::AuthMethod::kBearer;
  credentials.bearer_token = [text = spoilt(good)]() -> Result<Secret> { return Secret(text); };
  credentials.bearer_token_refresh = [refresh = std::move(refresh), &refreshed] {
    ++refreshed;
    return refresh();
  };
  return credentials;
}

TEST_F(GraphExsimTest, RejectedTokenIsRefreshedOnceThenTheReadSucceeds) {
  auto good = tokens_->token();
  ASSERT_TRUE(good) << good.error().message;
  std::atomic<int> refreshed{0};
  const auto credentials = spoilt_first(
      *good, [] { return tokens_->refresh(); }, refreshed);
  GraphSide graph(*http_, credentials, options("other@example.com"));
  auto changes = graph.changes_since(Cursor{});
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_EQ(refreshed.load(), 1);
}

TEST_F(GraphExsimTest, TokenRejectedAfterTheRefreshIsGraphsErrorNamingTheSettings) {
  auto good = tokens_->token();
  ASSERT_TRUE(good) << good.error().message;
  std::atomic<int> refreshed{0};
  const auto credentials = spoilt_first(
      *good, [bad = spoilt(*good)]() -> Result<Secret> { return Secret(bad); }, refreshed);
  GraphSide graph(*http_, credentials, options("other@example.com"));
  auto listed = graph.list(window());
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(refreshed.load(), 1) << "one refresh, then the error";
  const std::string& message = listed.error().message;
  EXPECT_NE(message.find("InvalidAuthenticationToken"), std::string::npos) << message;
  EXPECT_NE(message.find("tenant_id"), std::string::npos) << message;
  EXPECT_NE(message.find("client_id"), std::string::npos) << message;
  EXPECT_EQ(message.find(good->reveal()), std::string::npos) << "never the token";

  // Writes go through $batch: the same answer, the same error, nothing written.
  const auto before = calendar("other@example.com").size();
  auto written = graph.apply(std::vector<Write>{create(timed("Not written", day(6)), "key-x")});
  ASSERT_EQ(written.size(), 1u);
  ASSERT_FALSE(written[0].outcome);
  EXPECT_EQ(written[0].outcome.error().kind, ErrorKind::kAuth);
  EXPECT_NE(written[0].outcome.error().message.find("tenant_id"), std::string::npos);
  EXPECT_EQ(calendar("other@example.com").size(), before);
}

TEST_F(GraphExsimTest, ValidCertificateGetsATokenThenReadsAndWrites) {
  TokenProvider provider(*http_, certificate_app(kCertificateClient, *certificate_));
  auto roles = provider.roles();
  ASSERT_TRUE(roles) << roles.error().message;
  EXPECT_TRUE(check_roles(*roles, provider.app()));

  GraphSide graph(*http_, provider.credentials(), options("other@example.com"));
  auto created = apply_all(graph, {create(timed("Signed in by certificate", day(8)), "key-cert")});
  ASSERT_EQ(created.size(), 1u);
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  const auto found = std::ranges::find(listed->first, created[0].ref, &SideItem::ref);
  ASSERT_NE(found, listed->first.end());
  EXPECT_EQ(found->item.subject, "Signed in by certificate");
  EXPECT_EQ(found->idempotency_key, IdempotencyKey("key-cert"));

  Write rename;
  rename.op = WriteOp::kUpdate;
  rename.ref = created[0].ref;
  rename.expected = found->version;
  rename.previous = found->item;
  rename.item = found->item;
  rename.item.subject = "Renamed by certificate";
  ASSERT_EQ(apply_all(graph, {rename}).size(), 1u);
  const json stored_item = stored("other@example.com", created[0].ref.str());
  ASSERT_TRUE(stored_item.is_object());
  EXPECT_EQ(stored_item["subject"], "Renamed by certificate");
}

TEST_F(GraphExsimTest, CertificateNotUploadedNamesWhereToUploadIt) {
  // A valid certificate Entra ID does not know for the app: AADSTS700027 in a JSON 401,
  // which now reaches the token error table.
  const auto other = testing::make_certificate(-1, 30);
  TokenProvider provider(*http_, certificate_app(kCertificateClient, other));
  auto token = provider.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(token.error().protocol_code, "AADSTS700027") << token.error().message;
  EXPECT_NE(token.error().message.find("Certificates & secrets"), std::string::npos)
      << token.error().message;
}

}  // namespace
}  // namespace agendasync::graph::exsim_testing
