// Slow and idle clients cannot take the API down (issue 13, part 3): 100 connections trickling
// header lines, 100 trickling a promised body and 100 idle keep-alive connections are open
// while probes, Graph's validation handshake, a notification and an authenticated call are
// answered in time. cpp-httplib held a worker thread per connection, so this failed there:
// every worker sat in a trickling read and /healthz timed out.
#include <thread>

#include "api_test_support.h"
#include "raw_http.h"

namespace agendasync::apitest {
namespace {

class SlowClientsApi : public ApiTest {};

using Clock = std::chrono::steady_clock;

/// Milliseconds that `call` took.
template <class F>
long long timed_ms(F&& call) {
  auto started = Clock::now();
  call();
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
}

TEST_F(SlowClientsApi, TricklingAndIdleConnectionsLeaveTheApiServing) {
  constexpr int kEach = 100;
  const int port = server_->port();
  std::vector<std::unique_ptr<RawConnection>> headers, bodies, idle;
  for (int i = 0; i < kEach; ++i) {
    auto& header = headers.emplace_back(std::make_unique<RawConnection>(port));
    ASSERT_TRUE(header->ok());
    header->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    auto& body = bodies.emplace_back(std::make_unique<RawConnection>(port));
    ASSERT_TRUE(body->ok());
    // Within the 4 MiB body limit, so only the body deadline can end it.
    body->send(
        "POST /api/v1/notifications/graph HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{");
    auto& keep = idle.emplace_back(std::make_unique<RawConnection>(port));
    ASSERT_TRUE(keep->ok());
  }
  // The idle ones each finish one request first, then stay open saying nothing. (Their
  // answers may queue behind the tricklers on a thread-per-connection server; bounded wait.)
  for (auto& keep : idle) keep->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

  std::atomic<bool> done{false};
  std::thread trickler([&] {
    // One header line every 2 s per header trickler, one body byte a second per body trickler.
    for (int second = 0; !done; ++second) {
      for (auto& body : bodies) body->send(" ");
      if (second % 2 == 0) {
        for (int i = 0; i < kEach; ++i) {
          headers[static_cast<std::size_t>(i)]->send("X-Trickle-" + std::to_string(second) + ": " +
                                                     std::to_string(i) + "\r\n");
        }
      }
      for (int tick = 0; tick < 10 && !done; ++tick) std::this_thread::sleep_for(100ms);
    }
  });

  // Three rounds over ~6 s, so the tricklers are well into their requests.
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(round == 0 ? 500ms : 2s);
    SCOPED_TRACE("round " + std::to_string(round));
    Reply health;
    EXPECT_LT(timed_ms([&] { health = get("/healthz", ""); }), 1000);
    EXPECT_EQ(health.status, 200);

    Reply validation;
    EXPECT_LT(timed_ms([&] {
                // %20, not +: cpp-httplib's client sends a + in the target as %2B.
                validation = call("POST",
                                  "/api/v1/notifications/graph?validationToken=Validation%3A%20"
                                  "Testing%20client%20application%20reachability%20for%20"
                                  "subscription%20Request-Id%3A%20a1b2" +
                                      std::to_string(round),
                                  "", json::object());
              }),
              3000);
    EXPECT_EQ(validation.status, 200);
    EXPECT_EQ(validation.body,
              "Validation: Testing client application reachability for subscription Request-Id: "
              "a1b2" +
                  std::to_string(round));

    Reply notification;
    EXPECT_LT(timed_ms([&] {
                notification =
                    call("POST", "/api/v1/notifications/graph", "", json{{"value", json::array()}});
              }),
              3000);
    EXPECT_EQ(notification.status / 100, 2) << notification.body;

    Reply users;
    EXPECT_LT(timed_ms([&] { users = get("/api/v1/users", admin_); }), 3000);
    EXPECT_EQ(users.status, 200) << users.body;
    EXPECT_EQ(users.json_body["users"].size(), 3u) << users.body;
  }
  done = true;
  trickler.join();
  // The idle connections were served and are still open (their keep-alive timeout is longer).
  int answered = 0;
  for (auto& keep : idle) {
    if (auto reply = keep->read_response(100ms); reply && reply->status == 200) ++answered;
  }
  EXPECT_EQ(answered, kEach);
}

// Bytes of a second request that arrived with the first are not lost while the first runs on a
// worker; HEAD announces the GET body's length and sends none.
TEST_F(SlowClientsApi, PipelinedRequestsAreAnsweredInOrderAndHeadHasNoBody) {
  RawConnection connection(server_->port());
  ASSERT_TRUE(
      connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                      "GET /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                      admin_ + "\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto health = connection.read_response(5s);
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  auto users = connection.read_response(5s);
  ASSERT_TRUE(users);
  EXPECT_EQ(users->status, 200);
  EXPECT_EQ(json::parse(users->body)["users"].size(), 3u);
  auto head = connection.read_response(5s, /*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), std::to_string(health->body.size()));
  // No body bytes follow: the next answer starts right after the HEAD answer's header.
  ASSERT_TRUE(connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto next = connection.read_response(5s);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, health->body);
}

}  // namespace
}  // namespace agendasync::apitest
