// Organisations end to end (issue 16): one `agendasync serve` process for four customers,
// each with its own Exchange and its own credentials —
//   default    the node's own agenda, on exsim A over EWS (the configuration file's [exchange]);
//   fabrikam   on exsim B (another process, another tenant) over Microsoft Graph, through the
//              platform's app (the node file's [graph]) that the tenant consented to;
//   tailspin   on exsim A over EWS with a wrong password;
//   contoso    hybrid on exsim B: EWS (its own service account) for a mailbox on premises,
//              Graph (the platform's app) for one in Exchange Online, each found by
//              Autodiscover, each watched in real time where it lives.
// Deleting an organisation with offboard=true first removes what the sync created in its
// mailboxes.
// Each syncs to its own mailboxes only; a token of one organisation gets 404 for another's
// resources; the broken password shows in tailspin's status and doctor only; suspending an
// organisation stops it and refuses its tokens; Graph notifications reach the right
// organisation through its own notification URL.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/demo/graph_test_support.h"
#include "tests/demo/serve_process.h"
#include "tests/demo/serve_test_support.h"
#include "tests/e2e/serve_nodes.h"
#include "tests/e2e/world.h"

namespace agendasync::demotest {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using e2e::read_text;

/// Any method with a JSON body; status 0 when the request failed.
std::pair<int, json> request(int port, const std::string& token, const std::string& method,
                             const std::string& path, const json& body = nullptr) {
  return e2e::http_request(port, method, path, body, e2e::bearer(token));
}

json appointment(const std::string& owner, const std::string& subject) {
  return {{"subject", subject},
          {"start", "2027-01-12T09:00:00Z"},
          {"end", "2027-01-12T10:00:00Z"},
          {"time_zone", "Europe/Amsterdam"},
          {"owner", owner},
          {"participants", json::array()}};
}

bool has_subject(const std::vector<json>& items, const std::string& subject) {
  for (const auto& item : items) {
    if (item.value("subject", "") == subject) return true;
  }
  return false;
}

struct Organisations : ::testing::Test {
  e2e::World ews_world;                          // exsim A; its configuration file is the node's
  e2e::World graph_world{e2e::Backend::kGraph};  // exsim B
  int port = free_loopback_port();
  std::string operator_token;
  std::string default_token;
  std::unique_ptr<ServeProcess> serve;

  void SetUp() override {
    ews_world.add_user("JDOE");
    default_token = integration_token(ews_world);
    auto made = ews_world.cli({"tokens", "create", "--role", "operator", "--label", "ops"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    operator_token = made.out.substr(0, made.out.find('\n'));
    auto key = ews_world.cli({"secrets", "new-key", "--file", key_file().string()});
    ASSERT_EQ(key.exit_code, 0) << key.err;

    // Both exsims' CAs, the platform's Graph app (exsim B's app registration), and the
    // address Graph posts notifications to.
    const auto bundle = ews_world.dir() / "ca-bundle.pem";
    std::ofstream(bundle) << read_text(ews_world.exsim().ca_path())
                          << read_text(graph_world.exsim().ca_path());
    std::string config = read_text(ews_world.config_path());
    config = config.substr(0, config.find("[tls]"));
    std::ofstream(ews_world.dir() / "platform-app-secret") << e2e::GraphApp::kSecret << "\n";
    std::ofstream(ews_world.config_path())
        << config << "[tls]\nca_bundle = \"" << bundle.string() << "\"\n"
        << "[graph]\nclient_id = \"" << e2e::GraphApp::kClientId << "\"\n"
        << "client_secret_file = \"" << (ews_world.dir() / "platform-app-secret").string() << "\"\n"
        << "graph_url = \"" << graph_world.exsim().base_url() << "/v1.0\"\n"
        << "authority_url = \"" << graph_world.exsim().base_url() << "\"\n"
        << "[server]\npublic_url = \"http://127.0.0.1:" << port << "\"\n";

    serve = std::make_unique<ServeProcess>(
        e2e::agendasync_binary(),
        std::vector<std::string>{"--config", ews_world.config_path().string(), "serve", "--listen",
                                 "127.0.0.1:" + std::to_string(port), "--secret-key-file",
                                 key_file().string(), "--safety-net-minutes", "60",
                                 "--watch-refresh-seconds", "1"},
        ews_world.dir() / "serve.log");
  }

  std::filesystem::path key_file() const { return ews_world.dir() / "keys"; }
  std::pair<int, json> as(const std::string& token, const std::string& method,
                          const std::string& path, const json& body = nullptr) {
    return request(port, token, method, path, body);
  }

  /// Creates the organisation with `connection`, a synced user, and returns an integration
  /// token of it.
  std::string organisation(const std::string& id, const json& connection, const std::string& user,
                           const std::string& mailbox) {
    auto [created, body] =
        as(operator_token, "POST", "/api/v1/organisations", {{"id", id}, {"name", id + " Ltd"}});
    EXPECT_EQ(created, 201) << body.dump();
    auto [set, shown] =
        as(operator_token, "PUT", "/api/v1/organisations/" + id + "/connection", connection);
    EXPECT_EQ(set, 200) << shown.dump();
    auto [token_status, token] =
        as(operator_token, "POST", "/api/v1/organisations/" + id + "/tokens",
           {{"role", "integration"}, {"label", "host"}});
    EXPECT_EQ(token_status, 201) << token.dump();
    const std::string base = "/api/v1/organisations/" + id;
    auto [user_status, user_body] =
        as(operator_token, "POST", base + "/users",
           {{"user_name", user}, {"exchange_address", mailbox}, {"admin_managed", true}});
    EXPECT_EQ(user_status, 201) << user_body.dump();
    auto [sync_status, sync_body] =
        as(operator_token, "PUT", base + "/users/" + user + "/sync", {{"enabled", true}});
    EXPECT_EQ(sync_status, 200) << sync_body.dump();
    return token.value("token", "");
  }
};

TEST_F(Organisations, EachSyncsWithItsOwnConnectionAndSeesOnlyItself) {
  const std::string fabrikam = organisation(
      "fabrikam", {{"backend", "graph"}, {"graph", {{"tenant_id", e2e::GraphApp::kTenant}}}},
      "asmith", "asmith@example.com");
  const std::string tailspin =
      organisation("tailspin",
                   {{"backend", "ews"},
                    {"ews",
                     {{"url", ews_world.exsim().ews_url()},
                      {"auth", "basic"},
                      {"user", "svc@example.com"},
                      {"version", "2016"}}},
                    {"secrets", {{"exchange_password", "not-the-password"}}}},
                   "bwayne", "bwayne@example.com");
  ASSERT_FALSE(fabrikam.empty());
  ASSERT_FALSE(tailspin.empty());
  // contoso's mailboxes: one stays on premises, one moved to Exchange Online.
  graph_world.admin("POST", "/exsim/admin/mailboxes/ckent@example.com/move",
                    {{"to", "onpremises"}});
  graph_world.admin("POST", "/exsim/admin/mailboxes/diana.prince@example.com/move",
                    {{"to", "online"}});
  const std::string contoso = organisation("contoso",
                                           {{"backend", "hybrid"},
                                            {"ews",
                                             {{"url", graph_world.exsim().ews_url()},
                                              {"auth", "basic"},
                                              {"user", "svc@example.com"},
                                              {"version", "2016"}}},
                                            {"graph", {{"tenant_id", e2e::GraphApp::kTenant}}},
                                            {"secrets", {{"exchange_password", "s3cret"}}}},
                                           "ckent", "ckent@example.com");
  ASSERT_FALSE(contoso.empty());
  const std::string contoso_base = "/api/v1/organisations/contoso";
  ASSERT_EQ(as(operator_token, "POST", contoso_base + "/users",
               {{"user_name", "diana"},
                {"exchange_address", "diana.prince@example.com"},
                {"admin_managed", true}})
                .first,
            201);
  ASSERT_EQ(
      as(operator_token, "PUT", contoso_base + "/users/diana/sync", {{"enabled", true}}).first,
      200);

  // The connection is shown without its secret, with the tenant's admin-consent link.
  auto [shown_status, shown] =
      as(operator_token, "GET", "/api/v1/organisations/tailspin/connection");
  ASSERT_EQ(shown_status, 200);
  EXPECT_EQ(shown["ews"]["password_set"], true);
  EXPECT_EQ(shown.dump().find("not-the-password"), std::string::npos);
  auto [graph_shown_status, graph_shown] = as(fabrikam, "GET", "/api/v1/connection");
  ASSERT_EQ(graph_shown_status, 403) << "an integration token may not read the connection";
  auto [consent_status, consent] =
      as(operator_token, "GET", "/api/v1/organisations/fabrikam/connection");
  ASSERT_EQ(consent_status, 200);
  EXPECT_NE(consent.value("admin_consent_url", "").find(e2e::GraphApp::kTenant), std::string::npos);

  // Each organisation's appointment reaches its own mailbox, and only that one.
  ASSERT_EQ(
      as(default_token, "POST", "/api/v1/appointments", appointment("JDOE", "Default's meeting"))
          .first,
      201);
  ASSERT_EQ(
      as(fabrikam, "POST", "/api/v1/appointments", appointment("asmith", "Fabrikam's meeting"))
          .first,
      201);
  ASSERT_EQ(
      as(tailspin, "POST", "/api/v1/appointments", appointment("bwayne", "Tailspin's meeting"))
          .first,
      201);
  ASSERT_TRUE(eventually([&] {
    return has_subject(ews_world.exchange_items("jdoe@example.com"), "Default's meeting") &&
           has_subject(graph_world.exchange_items("asmith@example.com"), "Fabrikam's meeting");
  })) << serve->log();
  EXPECT_FALSE(has_subject(ews_world.exchange_items("asmith@example.com"), "Fabrikam's meeting"));
  EXPECT_FALSE(has_subject(graph_world.exchange_items("jdoe@example.com"), "Default's meeting"));

  // Hybrid: each of contoso's users is synced where the mailbox lives (R41): Autodiscover
  // routed ckent to EWS and diana to Graph, and each is watched there in real time (the
  // safety net is an hour away), so an Outlook change in either reaches the host.
  ASSERT_EQ(as(contoso, "POST", "/api/v1/appointments", appointment("ckent", "Contoso on premises"))
                .first,
            201);
  ASSERT_EQ(
      as(contoso, "POST", "/api/v1/appointments", appointment("diana", "Contoso online")).first,
      201);
  ASSERT_TRUE(eventually([&] {
    return has_subject(graph_world.exchange_items("ckent@example.com"), "Contoso on premises") &&
           has_subject(graph_world.exchange_items("diana.prince@example.com"), "Contoso online");
  })) << serve->log();
  for (const auto& [user, backend] : {std::pair{std::string("ckent"), std::string("ews")},
                                      std::pair{std::string("diana"), std::string("graph")}}) {
    ASSERT_TRUE(eventually([&] {
      auto [code, body] = as(contoso, "GET", "/api/v1/users/" + user + "/status");
      return code == 200 && body.value("backend", json()) == json(backend);
    })) << user
        << " not routed to " << backend << "\n"
        << as(contoso, "GET", "/api/v1/users/" + user + "/status").second.dump();
  }
  graph_world.outlook_create("ckent@example.com", "Outlook on premises", e2e::future(4));
  graph_world.outlook_create("diana.prince@example.com", "Outlook online", e2e::future(4));
  const auto host_has = [&](const std::string& user, const std::string& subject) {
    auto [code, body] = as(contoso, "GET", "/api/v1/appointments?user=" + user);
    if (code != 200) return false;
    for (const auto& item : body["appointments"]) {
      if (item.value("subject", "") == subject) return true;
    }
    return false;
  };
  ASSERT_TRUE(eventually([&] {
    return host_has("ckent", "Outlook on premises") && host_has("diana", "Outlook online");
  })) << serve->log();

  // The wrong password: tailspin's status says so, its mailbox got nothing; the others'
  // statuses are clean.
  json tailspin_status;
  ASSERT_TRUE(eventually([&] {
    auto [code, body] = as(tailspin, "GET", "/api/v1/users/bwayne/status");
    tailspin_status = body;
    return code == 200 && body.value("failures", 0) > 0;
  })) << serve->log();
  EXPECT_FALSE(has_subject(ews_world.exchange_items("bwayne@example.com"), "Tailspin's meeting"));
  for (const auto& [token, user] : {std::pair{default_token, std::string("JDOE")},
                                    std::pair{fabrikam, std::string("asmith")}}) {
    auto [code, body] = as(token, "GET", "/api/v1/users/" + user + "/status");
    ASSERT_EQ(code, 200) << body.dump();
    EXPECT_EQ(body.value("failures", -1), 0) << user << ": " << body.dump();
  }

  // Isolation: another organisation's resources answer as if they did not exist.
  auto [own_code, own_users] = as(fabrikam, "GET", "/api/v1/users");
  ASSERT_EQ(own_code, 200);
  ASSERT_EQ(own_users["users"].size(), 1u);
  EXPECT_EQ(own_users["users"][0]["user_name"], "asmith");
  EXPECT_EQ(as(fabrikam, "GET", "/api/v1/organisations/default/users").first, 404);
  EXPECT_EQ(as(fabrikam, "GET", "/api/v1/organisations/tailspin/appointments/1").first, 404);
  EXPECT_EQ(as(default_token, "GET", "/api/v1/organisations/fabrikam/users/asmith").first, 404);
  EXPECT_EQ(as(tailspin, "GET", "/api/v1/organisations/nonexistent/users").first, 404);
  EXPECT_EQ(as(fabrikam, "GET", "/api/v1/organisations").first, 403);
  // An operator names the organisation; the short form is refused with the long one named.
  auto [alias_code, alias] = as(operator_token, "GET", "/api/v1/users");
  EXPECT_EQ(alias_code, 400);
  EXPECT_NE(alias.value("detail", "").find("/api/v1/organisations/{org}/users"), std::string::npos);

  // Doctor: tailspin's connection fails on its credentials, fabrikam's passes.
  const std::string ring = read_text(key_file());
  ::setenv("AGENDASYNC_SECRET_KEY", ring.c_str(), 1);
  auto broken = ews_world.cli({"--org", "tailspin", "doctor"});
  auto fine = ews_world.cli({"--org", "fabrikam", "doctor"});
  ::unsetenv("AGENDASYNC_SECRET_KEY");
  EXPECT_NE(broken.exit_code, 0) << broken.out;
  EXPECT_EQ(fine.exit_code, 0) << fine.out << fine.err;
  EXPECT_EQ(broken.out.find("not-the-password"), std::string::npos);
  auto listed = ews_world.cli({"orgs", "list"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("fabrikam"), std::string::npos);
  EXPECT_NE(listed.out.find("graph"), std::string::npos);
  auto ambiguous = ews_world.cli({"users", "list"});
  EXPECT_NE(ambiguous.exit_code, 0);
  EXPECT_NE(ambiguous.err.find("--org"), std::string::npos);

  // Graph tells the daemon about an Outlook change through fabrikam's own notification URL.
  ASSERT_TRUE(eventually([&] {
    return serve->log().find("/api/v1/organisations/fabrikam/notifications/graph") !=
               std::string::npos &&
           serve->log().find("graph_subscription_created") != std::string::npos;
  })) << serve->log();
  graph_world.outlook_create("asmith@example.com", "Booked in Outlook", e2e::future(3));
  ASSERT_TRUE(eventually([&] {
    auto [code, body] = as(fabrikam, "GET", "/api/v1/appointments?user=asmith");
    if (code != 200) return false;
    for (const auto& item : body["appointments"]) {
      if (item.value("subject", "") == "Booked in Outlook") return true;
    }
    return false;
  })) << serve->log();
  auto [default_code, default_items] = as(default_token, "GET", "/api/v1/appointments");
  ASSERT_EQ(default_code, 200);
  for (const auto& item : default_items["appointments"]) {
    EXPECT_NE(item.value("subject", ""), "Booked in Outlook");
  }

  // Suspending stops the organisation and refuses its tokens; resuming lets it sync again.
  auto [suspend_code, suspended] =
      as(operator_token, "PATCH", "/api/v1/organisations/fabrikam", {{"state", "suspended"}});
  ASSERT_EQ(suspend_code, 200) << suspended.dump();
  auto [refused_code, refused] = as(fabrikam, "GET", "/api/v1/users");
  EXPECT_EQ(refused_code, 403);
  EXPECT_NE(refused.value("detail", "").find("suspended"), std::string::npos);
  ASSERT_EQ(as(operator_token, "POST", "/api/v1/organisations/fabrikam/appointments",
               appointment("asmith", "While suspended"))
                .first,
            201);
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(has_subject(graph_world.exchange_items("asmith@example.com"), "While suspended"));
  ASSERT_EQ(
      as(operator_token, "PATCH", "/api/v1/organisations/fabrikam", {{"state", "active"}}).first,
      200);
  ASSERT_TRUE(eventually([&] {
    return has_subject(graph_world.exchange_items("asmith@example.com"), "While suspended");
  })) << serve->log();

  // Deleting needs the id again; then the organisation, its tokens and its files are gone.
  EXPECT_EQ(as(operator_token, "DELETE", "/api/v1/organisations/tailspin").first, 422);
  EXPECT_EQ(as(operator_token, "DELETE", "/api/v1/organisations/tailspin?confirm=tailspin").first,
            204);
  EXPECT_EQ(as(tailspin, "GET", "/api/v1/users").first, 401);
  EXPECT_FALSE(std::filesystem::exists(ews_world.dir() / "organisations" / "tailspin"));
  // Offboarding first (R40) removes what the sync created in the mailbox, never what the
  // person made in Outlook.
  ASSERT_EQ(
      as(operator_token, "DELETE", "/api/v1/organisations/fabrikam?confirm=fabrikam&offboard=true")
          .first,
      204)
      << serve->log();
  const auto left = graph_world.exchange_items("asmith@example.com");
  EXPECT_FALSE(has_subject(left, "Fabrikam's meeting"));
  EXPECT_FALSE(has_subject(left, "While suspended"));
  EXPECT_TRUE(has_subject(left, "Booked in Outlook"));

  EXPECT_EQ(serve->stop(SIGTERM), 0) << serve->log();
  // No secret of any organisation reached the log.
  const std::string log = serve->log();
  EXPECT_EQ(log.find("not-the-password"), std::string::npos);
  EXPECT_EQ(log.find(e2e::GraphApp::kSecret), std::string::npos);
  EXPECT_EQ(log.find("s3cret"), std::string::npos);
}

/// Threads of process `pid` (the Threads: line of /proc/PID/status); -1 when unreadable.
int threads_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  }
  return -1;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// A node of many Exchange Online customers: each Graph organisation's subscription keeper runs
// on the node's shared keeper threads with one client. Before, each held ten threads of its
// own (a planner, four workers, a client's loop and pool), 10,000 on a node of 1,000 customers.
TEST_F(Organisations, ManyGraphOrganisationsShareTheNodesThreads) {
  const json graph_connection = {{"backend", "graph"},
                                 {"graph", {{"tenant_id", e2e::GraphApp::kTenant}}}};
  const std::vector<std::string> mailboxes = {"asmith", "ckent", "diana.prince", "bwayne", "jdoe"};
  ASSERT_FALSE(organisation("first", graph_connection, "u0", "asmith@example.com").empty());
  ASSERT_TRUE(eventually(
      [&] { return occurrences(serve->log(), "\"graph_subscription_created\"") >= 1; }, 30s))
      << serve->log();
  std::this_thread::sleep_for(1s);  // the first organisation's catch-up run ends
  const int one = threads_of(serve->pid());
  ASSERT_GT(one, 0);

  constexpr int kMore = 12;
  for (int i = 1; i <= kMore; ++i) {
    const std::string& mailbox = mailboxes[static_cast<std::size_t>(i) % mailboxes.size()];
    ASSERT_FALSE(organisation("graph" + std::to_string(i), graph_connection,
                              "u" + std::to_string(i), mailbox + "@example.com")
                     .empty());
  }
  ASSERT_TRUE(eventually(
      [&] { return occurrences(serve->log(), "\"graph_subscription_created\"") >= 1 + kMore; },
      60s))
      << "every organisation's mailbox subscribed";
  std::this_thread::sleep_for(1s);
  const int many = threads_of(serve->pid());
  std::printf("threads: one organisation %d, %d organisations %d\n", one, 1 + kMore, many);
  EXPECT_LT(many - one, kMore) << one << " threads with one Graph organisation, " << many
                               << " with " << 1 + kMore << ": threads grow with organisations";
}

}  // namespace
}  // namespace agendasync::demotest
