#pragma once
/// Test-only helpers for the Graph daemon tests: Microsoft Graph as another application of the
/// tenant sees it (exsim's Graph v1.0 and its admin view of the subscription limits), and the
/// daemon's JSON log lines.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/graph/token.h"
#include "net/http.h"
#include "tests/demo/serve_process.h"
#include "tests/e2e/world.h"

namespace agendasync::demotest {

inline std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// Microsoft Graph as another application of the tenant sees it: exsim's Graph v1.0 with a
/// token from exsim's Entra ID endpoint (the same app registration the daemon uses).
class GraphAdmin {
 public:
  explicit GraphAdmin(e2e::World& world) : base_(world.exsim().base_url() + "/v1.0") {
    net::ClientOptions options;
    options.tls.ca_bundle_path = world.exsim().ca_path();
    options.max_attempts = 1;
    http_ = net::make_curl_client(options);
    graph::AppCredentials app;
    app.authority = world.exsim().base_url();
    app.tenant = e2e::GraphApp::kTenant;
    app.client_id = e2e::GraphApp::kClientId;
    app.client_secret = Secret(e2e::GraphApp::kSecret);
    tokens_ = std::make_unique<graph::TokenProvider>(*http_, std::move(app));
  }

  std::pair<long, nlohmann::json> call(const std::string& method, const std::string& path,
                                       const nlohmann::json& body = nullptr) {
    net::Request request;
    request.method = method;
    request.url = base_ + path;
    request.headers = {{"Accept", "application/json"}};
    if (!body.is_null()) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = body.dump();
    }
    auto response = http_->send(request, tokens_->credentials());
    EXPECT_TRUE(response) << (response ? "" : response.error().message);
    if (!response) return {0, nullptr};
    return {response->status, nlohmann::json::parse(response->body, nullptr, false)};
  }

  /// The subscription on `mailbox`'s events (addresses compare case-insensitively), if any.
  std::optional<nlohmann::json> subscription_of(const std::string& mailbox) {
    auto [status, listed] = call("GET", "/subscriptions");
    if (status != 200 || !listed.contains("value")) return std::nullopt;
    for (const auto& subscription : listed["value"]) {
      if (lower(subscription.value("resource", "")) == "/users/" + lower(mailbox) + "/events") {
        return subscription;
      }
    }
    return std::nullopt;
  }

  std::size_t subscription_count() {
    auto [status, listed] = call("GET", "/subscriptions");
    return status == 200 && listed.contains("value") ? listed["value"].size() : 0;
  }

 private:
  std::string base_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<graph::TokenProvider> tokens_;
};

/// The daemon's JSON log lines (other lines are skipped).
inline std::vector<nlohmann::json> log_lines(const ServeProcess& serve) {
  std::vector<nlohmann::json> lines;
  std::istringstream text(serve.log());
  for (std::string line; std::getline(text, line);) {
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (parsed.is_object() && parsed.contains("event")) lines.push_back(std::move(parsed));
  }
  return lines;
}

/// Log lines of `event` (for `user` when given), from line `from` on.
inline std::vector<nlohmann::json> events(const ServeProcess& serve, const std::string& event,
                                          const std::string& user = "", std::size_t from = 0) {
  std::vector<nlohmann::json> found;
  auto lines = log_lines(serve);
  for (std::size_t i = from; i < lines.size(); ++i) {
    if (lines[i].value("event", "") != event) continue;
    if (!user.empty() && lines[i].value("user", "") != user) continue;
    found.push_back(lines[i]);
  }
  return found;
}

}  // namespace agendasync::demotest
