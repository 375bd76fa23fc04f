// Probes, metrics and the OpenAPI document (every registered route documented, and nothing
// documented that is not served).
#include <fstream>
#include <set>
#include <sstream>

#include "api_test_support.h"
#include "core/fencing.h"

namespace agendasync::apitest {
namespace {

class OpsApi : public ApiTest {};

TEST_F(OpsApi, HealthAndReadiness) {
  auto health = get("/healthz", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json_body["status"], "ok");
  auto ready = get("/readyz", "");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.json_body["database"], true);
  EXPECT_EQ(ready.json_body["workers"], true);
  server_->scheduler().stop();
  auto stopped = get("/readyz", "");
  EXPECT_EQ(stopped.status, 503);
  EXPECT_EQ(stopped.header("Content-Type"), "application/problem+json");
}

TEST_F(OpsApi, MetricsExposeSyncsRequestsQueueAndLag) {
  ASSERT_EQ(call("PUT", "/api/v1/users/alice/sync", alice_, json{{"enabled", true}}).status, 200);
  ASSERT_TRUE(
      eventually([&] { return get("/api/v1/users/alice/status", alice_).json_body["runs"] == 1; }));
  get("/api/v1/users", admin_);
  auto metrics = get("/metrics", integration_);
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.header("Content-Type").find("text/plain"), std::string::npos);
  for (const char* expected :
       {"agendasync_syncs_total{org=\"default\",result=\"synced\"} 1",
        "agendasync_items_written_total{org=\"default\",side=\"remote\",op=\"create\"} 1",
        "agendasync_http_request_duration_seconds_bucket{route=\"/api/v1/"
        "users\",method=\"GET\",le=",
        "agendasync_sync_queue_depth 0",
        "agendasync_mailbox_sync_lag_seconds{org=\"default\",user=\"alice\"}",
        "# TYPE agendasync_throttling_wait_seconds_total counter",
        "# TYPE agendasync_errors_total counter"}) {
    EXPECT_NE(metrics.body.find(expected), std::string::npos) << expected << "\n" << metrics.body;
  }
  EXPECT_EQ(get("/metrics", "").status, 401);
}

// Fencing (issue 17): a run whose batch was refused because the pair's lease passed to another
// node is counted and logged on its own, and is not the pair's failure: the status stays what
// the new holder's run recorded.
TEST_F(OpsApi, ARunRefusedByFencingIsCountedButIsNotThePairsFailure) {
  ASSERT_EQ(call("PUT", "/api/v1/users/alice/sync", alice_, json{{"enabled", true}}).status, 200);
  ASSERT_TRUE(
      eventually([&] { return get("/api/v1/users/alice/status", alice_).json_body["runs"] == 1; }));
  sync_.fail_with = Error::make(ErrorKind::kConflict,
                                "the lease on pair alice (node a, epoch 3) was lost; it is now "
                                "held by node b, epoch 4",
                                kLeaseLostCode);
  ASSERT_EQ(call("POST", "/api/v1/users/alice/sync-now", alice_, json::object()).status, 202);
  const std::string counted = "agendasync_sync_fenced_total{org=\"default\"} 1";
  ASSERT_TRUE(eventually([&] {
    return get("/metrics", integration_).body.find(counted) != std::string::npos;
  })) << get("/metrics", integration_).body;
  auto status = get("/api/v1/users/alice/status", alice_).json_body;
  EXPECT_EQ(status["runs"], 1) << status.dump();
  EXPECT_EQ(status["failures"], 0) << status.dump();
  EXPECT_EQ(status["last_outcome"], "synced") << status.dump();
  EXPECT_TRUE(status["errors"].empty()) << status.dump();
  EXPECT_EQ(get("/metrics", integration_).body.find("kind=\"conflict\""), std::string::npos);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(OpsApi, OpenApiDocumentsExactlyTheServedRoutes) {
  auto served = get("/api/v1/openapi.json", "");
  ASSERT_EQ(served.status, 200);
  ASSERT_TRUE(served.json_body.is_object());
  EXPECT_EQ(served.json_body["openapi"], "3.1.0");
  auto file =
      json::parse(read_file(AGENDASYNC_SOURCE_DIR "/src/service/openapi.json"), nullptr, false);
  // The served document is the file plus each organisation route's long form
  // (/api/v1/organisations/{org}/...), generated from its short form.
  json short_forms = served.json_body;
  for (const auto& [path, item] : served.json_body["paths"].items()) {
    const std::string prefix = "/api/v1/organisations/{org}/";
    if (!path.starts_with(prefix)) continue;
    const std::string alias = "/api/v1/" + path.substr(prefix.size());
    ASSERT_TRUE(file["paths"].contains(alias)) << path << " has no short form " << alias;
    for (const auto& [method, operation] : item.items()) {
      EXPECT_EQ(operation["parameters"][0]["name"], "org") << method << " " << path;
    }
    short_forms["paths"].erase(path);
  }
  EXPECT_EQ(short_forms, file) << "the embedded document is the file in the repository";

  std::set<std::pair<std::string, std::string>> routes, documented;
  for (const auto& route : server_->router().routes()) {
    std::string method = route.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    routes.emplace(route.path, method);
    // Public routes say so in the document (security: []); protected ones inherit bearer.
    auto operation = served.json_body["paths"][route.path][method];
    ASSERT_TRUE(operation.is_object()) << route.method << " " << route.path << " is undocumented";
    EXPECT_EQ(operation.contains("security") && operation["security"].empty(), !route.authenticated)
        << route.method << " " << route.path;
    if (route.authenticated) {
      EXPECT_TRUE(operation["responses"].contains("401")) << route.method << " " << route.path;
    }
  }
  for (const auto& [path, item] : served.json_body["paths"].items()) {
    for (const auto& [method, operation] : item.items()) documented.emplace(path, method);
  }
  EXPECT_EQ(routes, documented);
}

}  // namespace
}  // namespace agendasync::apitest
