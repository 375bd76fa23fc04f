// Stray answers (issue 15 §5): a server writes `400 + Connection: close` on a kept-alive
// connection on its own, and libcurl reads it as the answer to the next request. The real
// client against a real relay (StrayAnswerProxy) in front of a cpp-httplib server on
// 127.0.0.1: upstream hit counts say what the server really received.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/local_server.h"
#include "net/testing/stray_answer_proxy.h"

namespace agendasync::net {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::LocalServer;
using testing::StrayAnswerProxy;
using When = StrayAnswerProxy::When;

/// The upstream server: counts what it received per path, answers "<path> <n>".
struct Upstream {
  httplib::Server server;
  std::atomic<int> reads{0};
  std::atomic<int> writes{0};
  Upstream() {
    server.Get("/read", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content("read " + std::to_string(++reads), "text/plain");
    });
    server.Post("/write", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content("write " + std::to_string(++writes), "text/plain");
    });
  }
};

/// "Our protocol's answers start with the path": anything else is not an answer.
bool recognises(const Response& response) {
  return response.body.starts_with("read") || response.body.starts_with("write");
}

Request read_request(const StrayAnswerProxy& proxy) {
  Request request;
  request.method = "GET";
  request.url = proxy.url("/read");
  request.recognises_answer = recognises;
  return request;
}

Request write_request(const StrayAnswerProxy& proxy) {
  Request request;
  request.method = "POST";
  request.url = proxy.url("/write");
  request.body = "payload";
  request.retry_allowed = false;  // not idempotent: the caller decides after a stray answer
  request.recognises_answer = recognises;
  return request;
}

ClientOptions options() {
  ClientOptions o;
  o.backoff_base = 10ms;
  return o;
}

class StrayAnswerTest : public testing::BothSends {
 protected:
  Upstream upstream;
  LocalServer<httplib::Server> running{upstream.server};
  StrayAnswerProxy proxy{running.port()};
  std::unique_ptr<HttpClient> client = make_client(options());

  /// Request 1: opens the connection the stray answer is then written on.
  void warm_up() {
    auto first = client->send(read_request(proxy), {});
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->body, "read 1");
  }
};
AGENDASYNC_FOR_BOTH_SENDS(StrayAnswerTest);

TEST_P(StrayAnswerTest, AReadIsSentOnceMoreOnANewConnection) {
  proxy.stray_answer_to(2, When::kBeforeForwarding);
  warm_up();
  auto got = client->send(read_request(proxy), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "read 2");
  EXPECT_EQ(got->attempts, 2);
  EXPECT_EQ(proxy.strays_written(), 1);
  EXPECT_EQ(proxy.connections(), 2) << "the retry went out on a new connection";
  EXPECT_EQ(upstream.reads.load(), 2) << "the stray-answered request never reached the server";
}

TEST_P(StrayAnswerTest, AReadTheServerAlreadyAnsweredIsSentOnceMore) {
  proxy.stray_answer_to(2, When::kAfterForwarding);
  warm_up();
  auto got = client->send(read_request(proxy), {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "read 3");
  EXPECT_EQ(got->attempts, 2);
  EXPECT_EQ(proxy.connections(), 2);
}

TEST_P(StrayAnswerTest, ASecondStrayAnswerOnTheNewConnectionIsAnErrorThatSaysSo) {
  proxy.stray_answer_to(2, When::kBeforeForwarding);
  proxy.stray_answer_to(3, When::kBeforeForwarding);
  warm_up();
  auto got = client->send(read_request(proxy), {});
  ASSERT_FALSE(got) << "status " << got->status;
  EXPECT_TRUE(is_stray_answer(got.error()));
  EXPECT_EQ(got.error().kind, ErrorKind::kTransient);
  const std::string& message = got.error().message;
  EXPECT_THAT(message, HasSubstr("127.0.0.1:" + std::to_string(proxy.port())));
  EXPECT_THAT(message, HasSubstr("HTTP 400"));
  EXPECT_THAT(message, HasSubstr("again on a new connection"));
  EXPECT_THAT(message, HasSubstr("load balancer"));  // what to check
  EXPECT_EQ(proxy.requests(), 3) << "one retry, not more";
  EXPECT_EQ(proxy.connections(), 2);
}

TEST_P(StrayAnswerTest, AWriteIsNotSentAgainButReportedAsAStrayAnswer) {
  proxy.stray_answer_to(2, When::kAfterForwarding);
  warm_up();
  auto got = client->send(write_request(proxy), {});
  ASSERT_FALSE(got) << "status " << got->status;
  EXPECT_TRUE(is_stray_answer(got.error()));
  EXPECT_THAT(got.error().message, HasSubstr("not sent again"));
  EXPECT_EQ(upstream.writes.load(), 1) << "the server applied it once, the client sent it once";
  EXPECT_EQ(proxy.requests(), 2);
}

TEST_P(StrayAnswerTest, AFreshConnectionRequestDoesNotReuseTheKeptAliveOne) {
  warm_up();
  Request request = write_request(proxy);
  request.fresh_connection = true;
  auto got = client->send(request, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "write 1");
  EXPECT_EQ(proxy.connections(), 2);
}

TEST_P(StrayAnswerTest, AnAnswerTheRequestRecognisesIsHandedBackAsItIs) {
  proxy.stray_answer_to(2, When::kBeforeForwarding);
  warm_up();
  Request request = read_request(proxy);
  request.recognises_answer = [](const Response&) { return true; };
  auto got = client->send(request, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 400);
  EXPECT_EQ(got->attempts, 1);
}

TEST_P(StrayAnswerTest, WithoutARecogniserA400IsTheServersAnswer) {
  proxy.stray_answer_to(2, When::kBeforeForwarding);
  warm_up();
  Request request = read_request(proxy);
  request.recognises_answer = nullptr;  // protocols that did not opt in keep today's behaviour
  auto got = client->send(request, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 400);
}

}  // namespace
}  // namespace agendasync::net
