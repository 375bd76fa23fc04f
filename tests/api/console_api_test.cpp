// The admin console's server side (issue 18): static files with a strict CSP, the browser
// session (cookie attributes, a fresh id per sign-in, expiry, sign-out, revoked tokens),
// CSRF on every state change made with a cookie, login links, the users table's paging and
// the engine operations the pages call.
#include <regex>
#include <set>
#include <thread>

#include "api_test_support.h"
#include "platform/platform.h"
#include "service/console_assets.h"
#include "service/sync_progress.h"
#include "service/tenant.h"

namespace agendasync::apitest {
namespace {

/// The Set-Cookie header's session id ("" when none).
std::string session_id(const Reply& reply) {
  static const std::regex pattern("agendasync_session=([^;]*)");
  std::smatch match;
  const std::string cookie = reply.header("Set-Cookie");
  return std::regex_search(cookie, match, pattern) ? match[1].str() : std::string();
}

class ConsoleApi : public ApiTest {
 protected:
  void configure(service::ServerOptions& options) override {
    options.sessions.lifetime = lifetime_;
    options.sessions.login_link_lifetime = link_lifetime_;
    options.operations.test_connection =
        [](const std::string& org) -> Result<std::vector<service::ConnectionCheck>> {
      return std::vector<service::ConnectionCheck>{
          {"tls", true, false, "TLS 1.3 with a trusted certificate", ""},
          {"impersonation alice@example.com", false, false, "ErrorImpersonateUserDenied",
           "New-ManagementRoleAssignment -Role ApplicationImpersonation -User svc (" + org + ")"}};
    };
    options.operations.plan = [](const std::string&,
                                 const std::string& user) -> Result<service::PairPlan> {
      service::PairPlan plan;
      plan.outcome = "quarantined";
      plan.summary = "create 40 in Exchange";
      plan.operations = {"create in Exchange: Review (" + user + ")"};
      plan.quarantine_reason = "would create 40 items (80% of the calendar)";
      return plan;
    };
    options.operations.approve = [this](const std::string& org,
                                        const std::string& user) -> Result<void> {
      approved_.push_back(org + "/" + user);
      return {};
    };
    options.operations.offboard = [](const std::string&,
                                     const std::string&) -> Result<std::size_t> { return 3; };
  }

  /// Signs in with `token`; the session id and CSRF token.
  std::pair<std::string, std::string> sign_in(const std::string& token) {
    auto reply = call("POST", "/api/v1/session", "", json{{"token", token}});
    EXPECT_EQ(reply.status, 201) << reply.body;
    return {session_id(reply), reply.json_body.value("csrf_token", "")};
  }

  Reply with_cookie(const std::string& method, const std::string& path, const std::string& id,
                    const std::string& csrf = "", const std::optional<json>& body = std::nullopt,
                    httplib::Headers headers = {}) {
    headers.emplace("Cookie", "theme=dark; agendasync_session=" + id);
    if (!csrf.empty()) headers.emplace("X-CSRF-Token", csrf);
    return call(method, path, "", body, headers);
  }

  std::chrono::seconds lifetime_{std::chrono::hours(1)};
  std::chrono::seconds link_lifetime_{std::chrono::minutes(5)};
  std::vector<std::string> approved_;
};

TEST_F(ConsoleApi, PagesAreServedWithAStrictContentSecurityPolicy) {
  auto index = get("/admin/", "");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.header("Content-Type"), "text/html; charset=utf-8");
  const std::string csp = index.header("Content-Security-Policy");
  for (const char* directive :
       {"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
        "frame-ancestors 'none'", "base-uri 'none'"}) {
    EXPECT_NE(csp.find(directive), std::string::npos) << directive << " missing from " << csp;
  }
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(index.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(index.header("X-Frame-Options"), "DENY");
  EXPECT_NE(index.body.find("<script type=\"module\" src=\"app.js\">"), std::string::npos);

  auto script = get("/admin/app.js", "");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_FALSE(script.header("Content-Security-Policy").empty());
  EXPECT_EQ(get("/admin/style.css", "").header("Content-Type"), "text/css; charset=utf-8");

  auto bare = get("/admin", "");
  EXPECT_EQ(bare.status, 308);
  EXPECT_EQ(bare.header("Location"), "/admin/");
  EXPECT_EQ(get("/admin/nothing.js", "").status, 404);
  EXPECT_EQ(get("/admin/..%2Fagenda.db", "").status, 404);
}

// What the strict CSP forbids must not be in the files: it would fail silently in the browser.
// And every module a file imports must be embedded, or the console breaks at load.
TEST_F(ConsoleApi, EmbeddedFilesNeedNoInlineCodeAndImportOnlyEmbeddedModules) {
  std::set<std::string> names;
  for (const auto& asset : service::console_assets()) names.emplace(asset.name);
  ASSERT_TRUE(names.contains("index.html"));
  ASSERT_GE(names.size(), 5u);
  const std::regex import_pattern(R"((?:from |import\()'\./([^']+)')");
  for (const auto& asset : service::console_assets()) {
    const std::string text(asset.bytes);
    EXPECT_EQ(text.find("style=\""), std::string::npos) << asset.name << " has an inline style";
    EXPECT_EQ(text.find("innerHTML"), std::string::npos) << asset.name << " uses innerHTML";
    EXPECT_EQ(text.find("<script>"), std::string::npos) << asset.name << " has an inline script";
    EXPECT_EQ(text.find("http://"), std::string::npos) << asset.name << " loads from elsewhere";
    EXPECT_EQ(text.find("https://cdn"), std::string::npos) << asset.name << " uses a CDN";
    for (std::sregex_iterator it(text.begin(), text.end(), import_pattern), end; it != end; ++it) {
      EXPECT_TRUE(names.contains((*it)[1].str()))
          << asset.name << " imports " << (*it)[1].str() << ", which is not embedded";
    }
  }
}

TEST_F(ConsoleApi, SignInSetsAHardenedCookieWithAFreshIdEachTime) {
  auto first = call("POST", "/api/v1/session", "", json{{"token", admin_}});
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string cookie = first.header("Set-Cookie");
  for (const char* attribute : {"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=3600"}) {
    EXPECT_NE(cookie.find(attribute), std::string::npos) << attribute << " missing: " << cookie;
  }
  // The daemon's public URL is not https here: a Secure cookie would never come back.
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find(admin_), std::string::npos) << "the token must not ride in the cookie";
  EXPECT_EQ(first.json_body["role"], "admin");
  EXPECT_EQ(first.json_body["org"], "default");
  EXPECT_EQ(first.header("Cache-Control"), "no-store");
  const std::string old_id = session_id(first);
  ASSERT_EQ(old_id.size(), 64u);

  // Signing in again from the same browser gives a new id and ends the old one.
  auto second = call("POST", "/api/v1/session", "", json{{"token", admin_}},
                     {{"Cookie", "agendasync_session=" + old_id}});
  ASSERT_EQ(second.status, 201);
  const std::string new_id = session_id(second);
  EXPECT_NE(new_id, old_id);
  EXPECT_NE(second.json_body["csrf_token"], first.json_body["csrf_token"]);
  EXPECT_EQ(with_cookie("GET", "/api/v1/users", old_id).status, 401);
  auto who = with_cookie("GET", "/api/v1/session", new_id);
  ASSERT_EQ(who.status, 200);
  EXPECT_EQ(who.json_body["csrf_token"], second.json_body["csrf_token"]);
  EXPECT_EQ(with_cookie("GET", "/api/v1/users", new_id).status, 200);
}

TEST_F(ConsoleApi, SignInRefusesBadTokensFormsAndOtherSites) {
  EXPECT_EQ(call("POST", "/api/v1/session", "", json{{"token", "ast_nope_nope"}}).status, 401);
  EXPECT_EQ(call("POST", "/api/v1/session", "", json{{"password", "x"}}).status, 422);
  // A cross-site form can post text/plain without a preflight; the server wants JSON.
  httplib::Client client("127.0.0.1", server_->port());
  auto form = client.Post("/api/v1/session", json{{"token", admin_}}.dump(), "text/plain");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);
  auto cross = call("POST", "/api/v1/session", "", json{{"token", admin_}},
                    {{"Origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403);
  EXPECT_TRUE(cross.header("Set-Cookie").empty());
}

TEST_F(ConsoleApi, StateChangesWithACookieNeedTheSessionsCsrfToken) {
  auto [id, csrf] = sign_in(admin_);
  const json body = {{"user_name", "dave"}};
  auto missing = with_cookie("POST", "/api/v1/users", id, "", body);
  EXPECT_EQ(missing.status, 403) << missing.body;
  EXPECT_EQ(missing.json_body["type"], "urn:agendasync:problem:csrf");
  std::string tampered = csrf;
  tampered[0] = tampered[0] == '0' ? '1' : '0';  // always another token (CI drew one starting '0')
  EXPECT_EQ(with_cookie("POST", "/api/v1/users", id, tampered, body).status, 403);
  auto [other_id, other_csrf] = sign_in(admin_);
  EXPECT_EQ(with_cookie("POST", "/api/v1/users", id, other_csrf, body).status, 403)
      << "another session's token is not this one's";
  EXPECT_EQ(
      with_cookie("POST", "/api/v1/users", id, csrf, body, {{"Origin", "https://evil.example"}})
          .status,
      403);
  EXPECT_FALSE(*server_->store().user("dave"));
  EXPECT_EQ(with_cookie("POST", "/api/v1/users", id, csrf, body).status, 201);
  EXPECT_TRUE(*server_->store().user("dave"));
  // Reads need no CSRF token; a bearer token needs none either (not an ambient credential).
  EXPECT_EQ(with_cookie("GET", "/api/v1/users/dave", id).status, 200);
  EXPECT_EQ(call("PATCH", "/api/v1/users/dave", admin_, json{{"display_name", "Dave"}}).status,
            200);
}

TEST_F(ConsoleApi, SignOutEndsTheSessionAndClearsTheCookie) {
  auto [id, csrf] = sign_in(admin_);
  EXPECT_EQ(with_cookie("DELETE", "/api/v1/session", id).status, 403) << "sign-out needs CSRF";
  auto out = with_cookie("DELETE", "/api/v1/session", id, csrf);
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  auto after = with_cookie("GET", "/api/v1/users", id);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(with_cookie("GET", "/api/v1/session", id).status, 401);
}

TEST_F(ConsoleApi, RevokingTheTokenEndsItsSessions) {
  auto created = call("POST", "/api/v1/tokens", admin_, json{{"role", "admin"}});
  ASSERT_EQ(created.status, 201);
  never_log(created.json_body["token"].get<std::string>());
  auto [id, csrf] = sign_in(created.json_body["token"].get<std::string>());
  EXPECT_EQ(with_cookie("GET", "/api/v1/users", id).status, 200);
  ASSERT_EQ(
      call("DELETE", "/api/v1/tokens/" + created.json_body["id"].get<std::string>(), admin_).status,
      204);
  EXPECT_EQ(with_cookie("GET", "/api/v1/users", id).status, 401);
}

TEST_F(ConsoleApi, LoginLinksOpenOneUsersProfileOnce) {
  EXPECT_EQ(call("POST", "/api/v1/users/alice/login-link", alice_).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/users/nobody/login-link", integration_).status, 404);
  auto minted = call("POST", "/api/v1/users/alice/login-link", integration_);
  ASSERT_EQ(minted.status, 201) << minted.body;
  const std::string path = minted.json_body["path"];
  ASSERT_TRUE(path.starts_with("/admin/#/login/")) << path;
  const std::string code = path.substr(std::string("/admin/#/login/").size());
  never_log(code);
  EXPECT_EQ(minted.header("Cache-Control"), "no-store");

  auto opened = call("POST", "/api/v1/session", "", json{{"login_code", code}});
  ASSERT_EQ(opened.status, 201) << opened.body;
  EXPECT_EQ(opened.json_body["role"], "user:alice");
  EXPECT_EQ(opened.json_body["user_name"], "alice");
  const std::string id = session_id(opened);
  const std::string csrf = opened.json_body["csrf_token"];
  EXPECT_EQ(with_cookie("GET", "/api/v1/users/alice", id).status, 200);
  EXPECT_EQ(with_cookie("GET", "/api/v1/users/bob", id).status, 403);
  EXPECT_EQ(with_cookie("GET", "/api/v1/users", id).status, 403);
  // R11: the user turns their own sync on.
  EXPECT_EQ(
      with_cookie("PUT", "/api/v1/users/alice/sync", id, csrf, json{{"enabled", true}}).status,
      200);
  EXPECT_TRUE((*server_->store().user("alice"))->sync_enabled);
  // Single use.
  EXPECT_EQ(call("POST", "/api/v1/session", "", json{{"login_code", code}}).status, 401);
}

class ShortLivedConsole : public ConsoleApi {
 protected:
  void configure(service::ServerOptions& options) override {
    lifetime_ = std::chrono::seconds(1);
    link_lifetime_ = std::chrono::seconds(1);
    ConsoleApi::configure(options);
  }
};

TEST_F(ShortLivedConsole, ExpiredSessionsAndLoginLinksAreRefused) {
  auto [id, csrf] = sign_in(admin_);
  auto minted = call("POST", "/api/v1/users/bob/login-link", integration_);
  ASSERT_EQ(minted.status, 201);
  const std::string code =
      minted.json_body["path"].get<std::string>().substr(std::string("/admin/#/login/").size());
  never_log(code);
  EXPECT_EQ(with_cookie("GET", "/api/v1/users", id).status, 200);
  std::this_thread::sleep_for(1200ms);
  auto expired = with_cookie("GET", "/api/v1/users", id);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.json_body["detail"].get<std::string>().find("sign in"), std::string::npos);
  EXPECT_EQ(with_cookie("POST", "/api/v1/users", id, csrf, json{{"user_name", "x"}}).status, 401);
  EXPECT_EQ(call("POST", "/api/v1/session", "", json{{"login_code", code}}).status, 401);
}

class HttpsConsole : public ConsoleApi {
 protected:
  void configure(service::ServerOptions& options) override {
    config::Config node;
    node.server.public_url = "https://sync.example.com/";
    node.sync.direction = SyncDirection::kToExchange;
    options.node = node;
    ConsoleApi::configure(options);
  }
};

TEST_F(HttpsConsole, CookiesAreSecureAndLinksAbsoluteBehindAnHttpsPublicUrl) {
  auto signed_in = call("POST", "/api/v1/session", "", json{{"token", admin_}});
  ASSERT_EQ(signed_in.status, 201);
  EXPECT_NE(signed_in.header("Set-Cookie").find("; Secure"), std::string::npos);
  auto minted = call("POST", "/api/v1/users/alice/login-link", integration_);
  ASSERT_EQ(minted.status, 201);
  never_log(minted.json_body["path"].get<std::string>().substr(15));
  EXPECT_TRUE(minted.json_body["url"].get<std::string>().starts_with(
      "https://sync.example.com/admin/#/login/"))
      << minted.json_body["url"];
}

// The sync settings page shows each value in effect and where it comes from (R12).
TEST_F(HttpsConsole, SettingsSayWhereEachValueComesFrom) {
  ASSERT_EQ(call("PUT", "/api/v1/settings", admin_, json{{"first_sync_approval", true}}).status,
            200);
  auto shown = get("/api/v1/settings", admin_);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(shown.json_body["sources"]["default_direction"], "config file");
  EXPECT_EQ(shown.json_body["effective"]["default_direction"], "to-exchange");
  EXPECT_EQ(shown.json_body["sources"]["first_sync_approval"], "organisation");
  EXPECT_EQ(shown.json_body["effective"]["first_sync_approval"], "true");
  EXPECT_EQ(shown.json_body["sources"]["breaker_share"], "built-in");
  EXPECT_EQ(shown.json_body["effective"]["breaker_share"], "20");
  EXPECT_TRUE(shown.json_body["default_direction"].is_null()) << "the organisation's own layer";
}

TEST_F(ConsoleApi, UsersArePagedSearchedAndFilteredOnTheServer) {
  for (int i = 0; i < 120; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "user%03d", i);
    ASSERT_TRUE(server_->store().add_user(
        User{name, i % 10 == 0 ? "Tenth Person" : "Someone", "", i % 7 == 0, false, {}}));
  }
  auto page = get("/api/v1/users?limit=50&offset=0", admin_);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.json_body["total"], 123);
  EXPECT_EQ(page.json_body["users"].size(), 50u);
  EXPECT_TRUE(page.json_body["users"][0].contains("last_success"));
  auto last = get("/api/v1/users?limit=50&offset=100", admin_);
  EXPECT_EQ(last.json_body["users"].size(), 23u);
  auto searched = get("/api/v1/users?q=tenth", admin_);
  EXPECT_EQ(searched.json_body["total"], 12);
  auto blocked = get("/api/v1/users?state=blocked&limit=500", admin_);
  EXPECT_EQ(blocked.json_body["total"], 18);
  for (const auto& user : blocked.json_body["users"]) EXPECT_TRUE(user["blocked"].get<bool>());
  EXPECT_EQ(get("/api/v1/users?limit=0", admin_).status, 400);
  EXPECT_EQ(get("/api/v1/users?state=sleeping", admin_).status, 400);
  EXPECT_EQ(get("/api/v1/users?limit=5", alice_).status, 403);
  // Without paging parameters: the whole directory, as before.
  EXPECT_EQ(get("/api/v1/users", admin_).json_body["users"].size(), 123u);
}

TEST_F(ConsoleApi, FailingFilterFindsUsersWhoseLastRunFailed) {
  ASSERT_TRUE(server_->tenant("default"));
  auto& status = server_->tenant("default")->status();
  ASSERT_TRUE(
      status.record("bob", std::unexpected(Error::make(ErrorKind::kAuth, "401 from EWS")), 1, 2));
  ASSERT_TRUE(status.record("carol", service::SyncResult{}, 1, 2));
  auto failing = get("/api/v1/users?state=failing", admin_);
  ASSERT_EQ(failing.status, 200);
  ASSERT_EQ(failing.json_body["total"], 1);
  EXPECT_EQ(failing.json_body["users"][0]["user_name"], "bob");
  EXPECT_NE(failing.json_body["users"][0]["last_error"].get<std::string>().find("401 from EWS"),
            std::string::npos);
}

TEST_F(ConsoleApi, TestConnectionPlanApproveAndOffboardReachTheEngine) {
  auto tested = call("POST", "/api/v1/connection/test", admin_);
  ASSERT_EQ(tested.status, 200) << tested.body;
  EXPECT_FALSE(tested.json_body["passed"].get<bool>());
  ASSERT_EQ(tested.json_body["checks"].size(), 2u);
  EXPECT_NE(tested.json_body["checks"][1]["remedy"].get<std::string>().find(
                "New-ManagementRoleAssignment"),
            std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/connection/test", integration_).status, 403);

  auto plan = get("/api/v1/users/alice/plan", admin_);
  ASSERT_EQ(plan.status, 200) << plan.body;
  EXPECT_EQ(plan.json_body["outcome"], "quarantined");
  EXPECT_EQ(plan.json_body["operations"].size(), 1u);
  EXPECT_EQ(get("/api/v1/users/nobody/plan", admin_).status, 404);
  EXPECT_EQ(get("/api/v1/users/alice/plan", alice_).status, 403);

  EXPECT_EQ(call("POST", "/api/v1/users/alice/approve", admin_).status, 200);
  EXPECT_EQ(approved_, std::vector<std::string>{"default/alice"});

  auto offboarded = call("POST", "/api/v1/users/bob/offboard", admin_);
  ASSERT_EQ(offboarded.status, 200);
  EXPECT_EQ(offboarded.json_body["removed"], 3);
  EXPECT_TRUE((*server_->store().user("bob"))->blocked) << "blocked before offboarding";
}

TEST_F(ConsoleApi, ALoginLinkOfOneOrganisationNeverReachesAnother) {
  ASSERT_TRUE(server_->platform().create("beta", "Beta Ltd"));
  ASSERT_TRUE(server_->refresh_organisation("beta"));
  auto beta = server_->tenant("beta");
  ASSERT_TRUE(beta->store().add_user(User{"alice", "Alice of Beta", "", false, false, {}}));
  const std::string beta_integration = beta->tokens().create("integration", "t")->value.reveal();
  never_reveal(beta_integration);
  // Beta's integration cannot mint a link for default's users, even by the long route.
  EXPECT_EQ(
      call("POST", "/api/v1/organisations/default/users/alice/login-link", beta_integration).status,
      404);
  auto minted = call("POST", "/api/v1/users/alice/login-link", beta_integration);
  ASSERT_EQ(minted.status, 201);
  const std::string code = minted.json_body["path"].get<std::string>().substr(15);
  never_log(code);
  auto opened = call("POST", "/api/v1/session", "", json{{"login_code", code}});
  ASSERT_EQ(opened.status, 201);
  EXPECT_EQ(opened.json_body["org"], "beta");
  const std::string id = session_id(opened);
  auto own = with_cookie("GET", "/api/v1/users/alice", id);
  ASSERT_EQ(own.status, 200);
  EXPECT_EQ(own.json_body["display_name"], "Alice of Beta");
  EXPECT_EQ(with_cookie("GET", "/api/v1/organisations/default/users/alice", id).status, 404);
}

TEST_F(ConsoleApi, StatusShowsARunningSyncsProgress) {
  auto idle = get("/api/v1/users/alice/status", admin_);
  ASSERT_EQ(idle.status, 200);
  EXPECT_TRUE(idle.json_body["progress"].is_null());
  ASSERT_NE(server_->scheduler().progress(), nullptr);
  server_->scheduler().progress()->set("default", "Alice", {"writing", 120, 300});
  auto running = get("/api/v1/users/alice/status", alice_);
  ASSERT_EQ(running.status, 200);
  EXPECT_EQ(running.json_body["progress"],
            json({{"phase", "writing"}, {"done", 120}, {"total", 300}}));
  // Only that user's pair runs.
  EXPECT_TRUE(get("/api/v1/users/bob/status", admin_).json_body["progress"].is_null());
  // The scheduler clears it when the pair's run ends.
  ASSERT_TRUE(server_->store().update_user(User{"alice", "alice", "", false, true, {}}));
  ASSERT_EQ(call("POST", "/api/v1/users/alice/sync-now", admin_).status, 202);
  EXPECT_TRUE(eventually(
      [&] { return get("/api/v1/users/alice/status", admin_).json_body["progress"].is_null(); }));
}

TEST_F(ConsoleApi, AppointmentsAreFoundByWordsOfTheirSubject) {
  create_appointment("alice", "Quarterly Review");
  create_appointment("alice", "Lunch");
  create_appointment("bob", "review of plans");
  auto found = get("/api/v1/appointments?subject=REVIEW", admin_);
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.json_body["appointments"].size(), 2u);
  // A user still sees only their own.
  auto own = get("/api/v1/appointments?subject=review", alice_);
  ASSERT_EQ(own.json_body["appointments"].size(), 1u);
  EXPECT_EQ(own.json_body["appointments"][0]["subject"], "Quarterly Review");
}

class ConsoleWithoutEngine : public ApiTest {};

TEST_F(ConsoleWithoutEngine, EngineOperationsAnswer501) {
  EXPECT_EQ(call("POST", "/api/v1/connection/test", admin_).status, 501);
  EXPECT_EQ(get("/api/v1/users/alice/plan", admin_).status, 501);
  EXPECT_EQ(call("POST", "/api/v1/users/alice/approve", admin_).status, 501);
}

}  // namespace
}  // namespace agendasync::apitest
