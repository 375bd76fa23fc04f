#include "tests/e2e/serve_nodes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "store/database_locator.h"

namespace agendasync::e2e {

using nlohmann::json;

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::pair<int, json> http_request(int port, const std::string& method, const std::string& path,
                                  const json& body, const httplib::Headers& headers) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  const std::string text = body.is_null() ? std::string() : body.dump();
  httplib::Result result = method == "GET"      ? client.Get(path, headers)
                           : method == "DELETE" ? client.Delete(path, headers)
                           : method == "PUT" ? client.Put(path, headers, text, "application/json")
                           : method == "PATCH"
                               ? client.Patch(path, headers, text, "application/json")
                               : client.Post(path, headers, text, "application/json");
  if (!result) return {0, nullptr};
  return {result->status, json::parse(result->body, nullptr, false)};
}

json api_appointment(const std::string& owner, const std::string& subject, int day, int hour) {
  const std::string date = "2027-01-" + std::to_string(12 + day);
  const std::string at = (hour < 10 ? "0" : "") + std::to_string(hour);
  const std::string until = (hour + 1 < 10 ? "0" : "") + std::to_string(hour + 1);
  return {{"subject", subject},
          {"start", date + "T" + at + ":00:00Z"},
          {"end", date + "T" + until + ":00:00Z"},
          {"time_zone", "Europe/Amsterdam"},
          {"owner", owner},
          {"participants", json::array()}};
}

std::vector<std::string> sorted_subjects(const json& items) {
  std::vector<std::string> out;
  if (!items.is_array()) return out;
  for (const auto& item : items) out.push_back(item.value("subject", ""));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted_subjects(const std::vector<json>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.value("subject", ""));
  std::sort(out.begin(), out.end());
  return out;
}

void NodeCluster::set_up(World& world, NodeClusterOptions options) {
  world_ = &world;
  options_ = options;
  auto made = database_.create();
  ASSERT_TRUE(made) << made.error().message;
  conninfo_ = *made;
  // The world's [tls] (exsim's CA) with the database on the server instead; nothing for
  // organisation default's connection: each organisation gets its own through the API.
  std::string config = read_text(world.config_path());
  config = config.substr(config.find("[tls]"));
  std::ostringstream base;
  base << "database = \"" << conninfo_ << "\"\n" << config;
  base << "[cluster]\nlease_seconds = " << options.lease_seconds << "\n";
  if (options.graph_app) {
    // exsim stands in for Entra ID and Graph; the platform's app is its app registration.
    const auto secret = world.dir() / "platform-app-secret";
    std::ofstream(secret) << GraphApp::kSecret << "\n";
    base << "[graph]\nclient_id = \"" << GraphApp::kClientId << "\"\n"
         << "client_secret_file = \"" << secret.string() << "\"\n"
         << "graph_url = \"" << world.exsim().base_url() << "/v1.0\"\n"
         << "authority_url = \"" << world.exsim().base_url() << "\"\n";
  }
  base_config_ = base.str();
  config_ = world.dir() / "cluster.toml";
  std::ofstream(config_) << base_config_;
  auto init = cli({"init", "--mail-domain", "example.com"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto token = cli({"tokens", "create", "--role", "operator", "--label", "ops"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  operator_ = token.out.substr(0, token.out.find('\n'));
  auto key = cli({"secrets", "new-key", "--file", key_file().string()});
  ASSERT_EQ(key.exit_code, 0) << key.err;
}

std::filesystem::path NodeCluster::key_file() const { return world_->dir() / "keys"; }

CommandResult NodeCluster::cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{agendasync_binary(), "--config", config_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, world_->dir() / "cluster-cli.out", world_->dir() / "cluster-cli.err");
}

std::unique_ptr<demotest::ServeProcess> NodeCluster::start_node(
    const std::string& name, int port, const std::vector<std::string>& extra) {
  std::filesystem::path config = config_;
  if (options_.graph_app) {
    // Graph posts to the node that subscribed: each node says where it is reached.
    EXPECT_NE(port, 0) << "with the Graph app each node needs a fixed port";
    config = world_->dir() / (name + ".toml");
    std::ofstream(config) << base_config_ << "[server]\npublic_url = \"http://127.0.0.1:" << port
                          << "\"\n";
  }
  std::vector<std::string> args{"--config",
                                config.string(),
                                "serve",
                                "--listen",
                                "127.0.0.1:" + std::to_string(port),
                                "--secret-key-file",
                                key_file().string(),
                                "--node-name",
                                name,
                                "--safety-net-minutes",
                                "60",
                                "--watch-refresh-seconds",
                                "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  // Each life of a node logs to a file of its own, so a restarted node's earlier life stays
  // readable after it was killed.
  const int life = ++lives_[name];
  return std::make_unique<demotest::ServeProcess>(
      agendasync_binary(), args, world_->dir() / (name + "-" + std::to_string(life) + ".log"));
}

json NodeCluster::ews_connection() const {
  return {{"backend", "ews"},
          {"ews",
           {{"url", world_->exsim().ews_url()},
            {"auth", "basic"},
            {"user", "svc@example.com"},
            {"version", "2016"}}},
          {"secrets", {{"exchange_password", "s3cret"}}}};
}

json NodeCluster::graph_connection() const {
  return {{"backend", "graph"}, {"graph", {{"tenant_id", GraphApp::kTenant}}}};
}

std::string NodeCluster::create_organisation(int port, const std::string& id,
                                             const json& connection) {
  const auto as_operator = bearer(operator_);
  auto [created, body] = http_request(port, "POST", "/api/v1/organisations",
                                      {{"id", id}, {"name", id + " Ltd"}}, as_operator);
  EXPECT_EQ(created, 201) << body.dump();
  const std::string base = "/api/v1/organisations/" + id;
  auto [set, shown] = http_request(port, "PUT", base + "/connection", connection, as_operator);
  EXPECT_EQ(set, 200) << shown.dump();
  auto [token_status, token] = http_request(
      port, "POST", base + "/tokens", {{"role", "integration"}, {"label", "host"}}, as_operator);
  EXPECT_EQ(token_status, 201) << token.dump();
  if (created != 201 || set != 200 || token_status != 201) return "";
  return token.value("token", "");
}

bool NodeCluster::add_user(int port, const std::string& org, const std::string& user,
                           const std::string& mailbox, bool sync_enabled) {
  auto [status, body] =
      http_request(port, "POST", "/api/v1/organisations/" + org + "/users",
                   {{"user_name", user}, {"exchange_address", mailbox}, {"admin_managed", true}},
                   bearer(operator_));
  EXPECT_EQ(status, 201) << user << ": " << body.dump();
  if (status != 201) return false;
  return !sync_enabled || enable_sync(port, org, user);
}

bool NodeCluster::enable_sync(int port, const std::string& org, const std::string& user) {
  auto [status, body] =
      http_request(port, "PUT", "/api/v1/organisations/" + org + "/users/" + user + "/sync",
                   {{"enabled", true}}, bearer(operator_));
  EXPECT_EQ(status, 200) << user << ": " << body.dump();
  return status == 200;
}

std::unique_ptr<store::pg::Connection> NodeCluster::sql(const std::string& schema) const {
  auto db = store::pg::Connection::open({conninfo_, schema});
  EXPECT_TRUE(db) << db.error().message;
  return db ? std::move(*db) : nullptr;
}

std::string NodeCluster::org_schema(const std::string& org) {
  auto schema = store::organisation_schema(org);
  EXPECT_TRUE(schema) << schema.error().message;
  return schema ? *schema : std::string();
}

}  // namespace agendasync::e2e
