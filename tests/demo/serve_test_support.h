#pragma once
/// Test-only helpers for the `agendasync serve` end-to-end tests: bounded polling, the REST API
/// over real HTTP, the daemon's log and metrics, a free loopback port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/world.h"

namespace agendasync::demotest {

/// Polls `condition` until it holds or `limit` passes (generous: CI machines are loaded).
template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

/// The change feed carries entity ids as text; the appointment API as numbers.
inline bool same_id(const nlohmann::json& id, std::int64_t expected) {
  return id.is_string() ? id.get<std::string>() == std::to_string(expected)
                        : id.is_number() && id.get<std::int64_t>() == expected;
}

/// How often `needle` occurs in `text`.
inline std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t found = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++found;
  }
  return found;
}

/// The daemon's REST API with one bearer token.
struct Api {
  httplib::Client client;
  std::string token;
  Api(int port, std::string bearer) : client("127.0.0.1", port), token(std::move(bearer)) {
    client.set_read_timeout(30, 0);
  }
  /// GET, or POST with a JSON body. Status 0 when the request failed; the body as JSON.
  std::pair<int, nlohmann::json> call(const std::string& method, const std::string& path,
                                      const nlohmann::json& body = nullptr) {
    auto [status, text] = raw(method, path, body);
    return {status, nlohmann::json::parse(text, nullptr, false)};
  }
  /// The same, with the body as text (/metrics).
  std::pair<int, std::string> raw(const std::string& method, const std::string& path,
                                  const nlohmann::json& body = nullptr) {
    httplib::Headers headers{{"Authorization", "Bearer " + token}};
    httplib::Result result = method == "GET"
                                 ? client.Get(path, headers)
                                 : client.Post(path, headers, body.dump(), "application/json");
    if (!result) return {0, {}};
    return {result->status, result->body};
  }
  /// A counter or gauge from /metrics with exactly these labels, in the order the daemon
  /// writes them; 0 when absent.
  double metric(const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& labels = {}) {
    auto [status, text] = raw("GET", "/metrics");
    EXPECT_EQ(status, 200);
    std::string wanted = name;
    bool first = true;
    for (const auto& [key, value] : labels) {
      wanted += (first ? "{" : ",") + key + "=\"" + value + "\"";
      first = false;
    }
    wanted += labels.empty() ? " " : "} ";
    for (auto at = text.find(wanted); at != std::string::npos; at = text.find(wanted, at + 1)) {
      if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + wanted.size()));
    }
    return 0;
  }
};

/// An integration token made with the real CLI.
inline std::string integration_token(e2e::World& world) {
  auto created = world.cli({"tokens", "create", "--role", "integration", "--label", "e2e"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  std::string token = created.out.substr(0, created.out.find('\n'));
  EXPECT_EQ(token.rfind("ast_", 0), 0u) << created.out;
  return token;
}

/// A loopback port nobody listens on right now, for a daemon whose address must be known
/// before it starts (Graph's notification URL in [server] public_url).
inline int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

}  // namespace agendasync::demotest
