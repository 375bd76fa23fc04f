// Every refusal at the HTTP edge is application/problem+json with a detail saying which limit
// was hit and what to do, and leaves the agenda as it was (issue 13, part 4): 413, 414, 431,
// 400, 408, 503, 501, 404, and 400 for text that is not UTF-8 (the `PUT
// /api/v1/activity-types/%FF%FE` that stored a name every later listing failed on).
#include "api_test_support.h"
#include "raw_http.h"

namespace agendasync::apitest {
namespace {

class RefusalsApi : public ApiTest {
 protected:
  /// One raw request on its own connection; the response (status 0 when none came).
  RawResponse raw(const std::string& bytes, std::chrono::milliseconds limit = 5s) {
    RawConnection connection(server_->port());
    EXPECT_TRUE(connection.ok());
    connection.send(bytes);  // the server may refuse before reading it all
    auto response = connection.read_response(limit);
    EXPECT_TRUE(response) << "no answer to " << bytes.substr(0, 80);
    return response.value_or(RawResponse{});
  }

  /// What a refusal must not have changed.
  json state() {
    return json{{"types", get("/api/v1/activity-types", admin_).json_body},
                {"users", get("/api/v1/users", admin_).json_body},
                {"appointments", get("/api/v1/appointments", admin_).json_body}};
  }

  std::string auth() const { return "Authorization: Bearer " + admin_ + "\r\n"; }
};

/// Exact status, problem+json, a detail that names `mentions`.
void expect_problem(const RawResponse& response, int status, const std::string& mentions) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.header("content-type"), "application/problem+json");
  auto body = json::parse(response.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << response.body;
  EXPECT_EQ(body["status"], status);
  ASSERT_TRUE(body["detail"].is_string());
  std::string detail = body["detail"];
  EXPECT_FALSE(detail.empty());
  EXPECT_NE(detail.find(mentions), std::string::npos) << detail;
}

TEST_F(RefusalsApi, BodyOverTheLimitIs413BeforeItIsRead) {
  auto before = state();
  auto refused = raw("PUT /api/v1/activity-types/Big HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() +
                     "Content-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{");
  expect_problem(refused, 413, "4194304 bytes (4 MiB)");
  EXPECT_EQ(refused.header("connection"), "close");

  // Chunked: no length up front, so the limit is hit while reading.
  std::string chunked = "PUT /api/v1/activity-types/Big HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() +
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string chunk(64 * 1024, ' ');
  for (int i = 0; i < 70; ++i) chunked += "10000\r\n" + chunk + "\r\n";
  expect_problem(raw(chunked), 413, "send fewer or smaller items");
  EXPECT_EQ(state(), before);
}

TEST_F(RefusalsApi, TargetOverTheLimitIs414) {
  auto before = state();
  // Longer than the 8 KiB target limit, within the 64 KiB header limit.
  expect_problem(raw("GET /api/v1/users?filter=" + std::string(9000, 'a') +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() + "\r\n"),
                 414, "8192 bytes");
  // Longer than the whole header limit: still a long request line, so still 414.
  expect_problem(raw("GET /api/v1/users?filter=" + std::string(100000, 'a') +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
                 414, "shorten the query");
  EXPECT_EQ(state(), before);
}

TEST_F(RefusalsApi, HeaderOverTheLimitIs431) {
  auto before = state();
  std::string request = "GET /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth();
  for (int i = 0; i < 80; ++i) {
    request += "X-Padding-" + std::to_string(i) + ": " + std::string(1000, 'p') + "\r\n";
  }
  expect_problem(raw(request + "\r\n"), 431, "65536 bytes (64 KiB)");
  EXPECT_EQ(state(), before);
}

TEST_F(RefusalsApi, MalformedRequestsAre400) {
  auto before = state();
  expect_problem(raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n"), 400,
                 "not valid HTTP/1.1");
  expect_problem(raw("PUT /api/v1/activity-types/X HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() +
                     "Content-Length: twelve\r\n\r\n{}"),
                 400, "body framing");
  expect_problem(raw("GET /healthz HTTP/9.7\r\n\r\n"), 400, "not valid HTTP/1.1");
  EXPECT_EQ(state(), before);
}

TEST_F(RefusalsApi, UnknownMethodIs501AndUnknownRouteIs404) {
  auto before = state();
  expect_problem(raw("BREW /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 501, "BREW");
  expect_problem(raw("GET /api/v1/teapots HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 404,
                 "/api/v1/openapi.json");
  // A route that exists for another method: 404 as before (not 405).
  expect_problem(raw("PATCH /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"),
                 404, "no API route matches PATCH /healthz");
  EXPECT_EQ(state(), before);
}

// The bug this test is named for: a name that is not UTF-8 was stored, answered 500, and every
// later listing of activity types failed.
TEST_F(RefusalsApi, PathThatIsNotUtf8Is400AndNothingIsStored) {
  auto before = state();
  auto refused = raw("PUT /api/v1/activity-types/%FF%FE HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() +
                     "Content-Type: application/json\r\nContent-Length: 16\r\n\r\n"
                     "{\"synced\": true}");
  expect_problem(refused, 400, "the path segment \"%FF%FE\" is not valid UTF-8");
  auto listed = get("/api/v1/activity-types", admin_);
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(state(), before);
  // Raw bytes rather than escapes get the same answer.
  expect_problem(
      raw("GET /api/v1/users/\xC3\x28 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() + "\r\n"), 400,
      "the path segment \"%C3%28\"");
  // Well-formed UTF-8 in a path still works.
  auto accented = call("PUT", "/api/v1/activity-types/R%C3%A9union", admin_,
                       json{{"synced", true}, {"is_personal", false}});
  EXPECT_EQ(accented.status, 200) << accented.body;
  EXPECT_EQ(accented.json_body["name"], "R\xC3\xA9union");
}

TEST_F(RefusalsApi, QueryHeaderAndBodyThatAreNotUtf8Are400) {
  auto before = state();
  expect_problem(raw("GET /api/v1/appointments?user=%FFalice HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                     auth() + "\r\n"),
                 400, "the value of query parameter \"user\" is not valid UTF-8");
  expect_problem(
      raw("GET /api/v1/appointments?%C0%AF=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() + "\r\n"),
      400, "the query parameter name \"%C0%AF\"");
  expect_problem(raw("PUT /api/v1/activity-types/Meeting HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() +
                     "If-Match: \"\xFF\"\r\nContent-Length: 2\r\n\r\n{}"),
                 400, "the value of header If-Match is not valid UTF-8");
  std::string body = "{\"synced\": true, \"note\": \"\xED\xA0\x80\"}";
  expect_problem(raw("PUT /api/v1/activity-types/Other HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() +
                     "Content-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body),
                 400, "the request body is not valid UTF-8");
  EXPECT_EQ(state(), before);
}

class ConnectionCapApi : public RefusalsApi {
 protected:
  void configure(service::ServerOptions& options) override {
    options.http_limits.max_connections = 8;
  }
};

TEST_F(ConnectionCapApi, BeyondTheCapIs503AndAClosedConnectionFreesASlot) {
  auto before = state();
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 8; ++i) {
    auto& connection = held.emplace_back(std::make_unique<RawConnection>(server_->port()));
    // One answered request each proves the server has accepted (and counts) it.
    ASSERT_TRUE(connection->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    auto answer = connection->read_response(5s);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200);
  }
  auto refused = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  expect_problem(refused, 503, "max_connections");
  EXPECT_EQ(refused.header("retry-after"), "1");
  held.pop_back();
  EXPECT_TRUE(eventually([&] {
    RawConnection connection(server_->port());
    connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    auto answer = connection.read_response(2s);
    return answer && answer->status == 200;
  })) << "a closed connection frees its slot";
  held.clear();
  EXPECT_TRUE(eventually([&] { return state() == before; }));
}

class DeadlinesApi : public RefusalsApi {
 protected:
  void configure(service::ServerOptions& options) override {
    options.http_limits.header_timeout = 1s;
    options.http_limits.body_timeout = 1s;
    options.http_limits.idle_timeout = 1s;
  }
};

TEST_F(DeadlinesApi, SlowHeaderAndBodyGet408AndIdleConnectionsClose) {
  auto before = state();
  RawConnection header(server_->port()), body(server_->port()), idle(server_->port()),
      kept(server_->port());
  header.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n");
  body.send("PUT /api/v1/activity-types/Slow HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth() +
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
  kept.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(500ms);
  header.send("X-Still-Slow: 2\r\n");  // a trickle does not extend the deadline
  body.send(" ");

  auto header_answer = header.read_response(3s);
  ASSERT_TRUE(header_answer);
  expect_problem(*header_answer, 408, "the request header was not complete within 1 s");
  auto body_answer = body.read_response(3s);
  ASSERT_TRUE(body_answer);
  expect_problem(*body_answer, 408, "the request body did not arrive within 1 s");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
  EXPECT_TRUE(header.closed_within(3s));
  EXPECT_TRUE(body.closed_within(3s));
  EXPECT_TRUE(idle.closed_within(3s)) << "a connection that never sends is closed";
  auto first = kept.read_response(1s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_TRUE(kept.closed_within(3s)) << "an idle keep-alive connection is closed";
  EXPECT_EQ(state(), before);
}

}  // namespace
}  // namespace agendasync::apitest
