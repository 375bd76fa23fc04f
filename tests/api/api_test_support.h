#pragma once
// A real server on 127.0.0.1 (port 0) over a temporary SQLite agenda, a real HTTP client, and
// the suite-wide secret scan: every log line and every API response of the test process is
// captured and checked for the secret values the tests used (R9).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/server.h"

namespace agendasync::apitest {

using nlohmann::json;
using namespace std::chrono_literals;

/// Values that must never appear in a log line or an API response.
void never_reveal(const std::string& value);
/// Values that may appear in one API response by design (a created token) but never in logs.
void never_log(const std::string& value);
/// Every API response body seen so far (for the scan).
void record_response(const std::string& text);

struct Reply {
  int status = 0;
  httplib::Headers headers;
  std::string body;
  json json_body;  ///< parsed when the body is JSON, else null
  std::string header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
  }
};

/// Records which users' pairs ran, and can be slowed down.
struct FakeSync {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> runs;
  /// (organisation, user) of every run, in order.
  std::vector<std::pair<std::string, std::string>> pairs;
  std::chrono::milliseconds duration{0};
  std::atomic<int> in_flight{0};
  std::optional<Error> fail_with;
  service::PairSyncFn fn();
  int count(const std::string& user);
  std::vector<std::string> users();
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  /// Hook for suites that tune the options before the server starts.
  virtual void configure(service::ServerOptions&) {}

  Reply call(const std::string& method, const std::string& path, const std::string& token,
             const std::optional<json>& body = std::nullopt, httplib::Headers headers = {});
  Reply get(const std::string& path, const std::string& token) { return call("GET", path, token); }

  /// Creates an appointment as admin and returns its JSON (id, revision).
  json create_appointment(const std::string& owner, const std::string& subject,
                          std::vector<std::string> participants = {});
  /// Polls `condition` (bounded).
  template <class F>
  static bool eventually(F condition, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return condition();
  }

  std::filesystem::path dir_;
  std::unique_ptr<service::Server> server_;
  FakeSync sync_;
  std::string admin_, integration_, alice_, bob_, carol_;
};

/// The key ring text the tests use (also a secret for the scan).
const std::string& test_key_ring();

}  // namespace agendasync::apitest
