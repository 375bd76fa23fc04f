// Outgoing webhooks over real HTTP: signed deliveries verified by a receiver that recomputes
// the HMAC, retries with growing back-off, dead letters, redelivery; the change feed.
#include <optional>

#include <openssl/hmac.h>

#include "api_test_support.h"

namespace agendasync::apitest {
namespace {

const std::string kHookSecret = "whsec-test-3f9a7c1e5b";

/// A loopback receiver that answers with `status_` and records what it got.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      times_.push_back(std::chrono::steady_clock::now());
      response.status = status_;
    });
    // One request per connection: stop() then need not wait for idle keep-alive connections.
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void answer(int status) {
    std::lock_guard lock(mutex_);
    status_ = status;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  std::vector<httplib::Request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::chrono::steady_clock::time_point> times() {
    std::lock_guard lock(mutex_);
    return times_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  int status_ = 200;
  std::vector<httplib::Request> requests_;
  std::vector<std::chrono::steady_clock::time_point> times_;
};

/// The receiver's own check, written independently of the server's signing code.
bool signature_valid(const httplib::Request& request, const std::string& secret) {
  std::string header = request.get_header_value("X-AgendaSync-Signature");
  auto comma = header.find(",v1=");
  if (!header.starts_with("t=") || comma == std::string::npos) return false;
  std::string timestamp = header.substr(2, comma - 2);
  std::string given = header.substr(comma + 4);
  std::string message = timestamp + "." + request.body;
  unsigned char digest[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  char hex[65];
  for (unsigned i = 0; i < 32; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  long age = std::time(nullptr) - std::stol(timestamp);
  return given == std::string(hex, 64) && age >= 0 && age < 60;
}

class WebhooksApi : public ApiTest {};

TEST_F(WebhooksApi, DeliversSignedEventsForChanges) {
  never_reveal(kHookSecret);
  // An organisation without webhooks holds no delivery thread (a node serves many), also
  // after its feed published the fixture's changes.
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(server_->webhooks().delivering());
  Receiver receiver;
  auto registered = call("POST", "/api/v1/webhooks", integration_,
                         json{{"url", receiver.url()}, {"secret", kHookSecret}});
  ASSERT_EQ(registered.status, 201) << registered.body;
  EXPECT_FALSE(registered.json_body.contains("secret"));
  auto listed = get("/api/v1/webhooks", integration_);
  ASSERT_EQ(listed.json_body["webhooks"].size(), 1u);
  EXPECT_EQ(listed.body.find(kHookSecret), std::string::npos);

  json created = create_appointment("alice", "Hooked");
  // The feed also carries the fixture's user changes; which of them the webhook still sees
  // depends on when its feed position was taken, so look for the appointment's event.
  auto appointment_event = [&]() -> std::optional<httplib::Request> {
    for (const auto& r : receiver.requests()) {
      if (json::parse(r.body)["type"] == "appointment.upsert") return r;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(eventually([&] { return appointment_event().has_value(); }));
  EXPECT_TRUE(server_->webhooks().delivering());
  auto request = *appointment_event();
  EXPECT_TRUE(signature_valid(request, kHookSecret))
      << request.get_header_value("X-AgendaSync-Signature");
  EXPECT_FALSE(signature_valid(request, "some-other-secret-value"));
  auto event = json::parse(request.body);
  EXPECT_EQ(event["type"], "appointment.upsert");
  EXPECT_EQ(event["data"]["id"], std::to_string(created["id"].get<int>()));
  EXPECT_EQ(event["data"]["users"], json({"alice"}));
  EXPECT_EQ(request.get_header_value("X-AgendaSync-Event-Id"), event["id"]);

  // A tampered body fails the receiver's check.
  auto tampered = request;
  tampered.body[tampered.body.size() / 2] ^= 1;
  EXPECT_FALSE(signature_valid(tampered, kHookSecret));

  std::string id = std::to_string(registered.json_body["id"].get<int>());
  EXPECT_EQ(call("DELETE", "/api/v1/webhooks/" + id, admin_).status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/webhooks/" + id, admin_).status, 404);
}

TEST_F(WebhooksApi, RetriesWithBackoffThenDeadLettersAndRedelivers) {
  never_reveal(kHookSecret);
  Receiver receiver;
  receiver.answer(503);
  ASSERT_EQ(call("POST", "/api/v1/webhooks", admin_,
                 json{{"url", receiver.url()}, {"secret", kHookSecret}})
                .status,
            201);
  create_appointment("bob", "Unlucky");
  // The feed also carries the fixture's user changes, which this webhook may or may not see
  // depending on when the feed loop last ran; follow the appointment's event alone.
  auto is_appointment = [](const std::string& body) {
    return json::parse(body)["type"] == "appointment.upsert";
  };
  auto appointment_requests = [&] {
    std::vector<std::chrono::steady_clock::time_point> times;
    auto requests = receiver.requests();
    auto all_times = receiver.times();
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (is_appointment(requests[i].body)) times.push_back(all_times[i]);
    }
    return times;
  };
  auto appointment_letter = [&]() -> std::optional<json> {
    const auto listed = get("/api/v1/webhooks/dead-letters", admin_);
    for (const auto& letter : listed.json_body["dead_letters"]) {
      if (letter["event"]["type"] == "appointment.upsert") return letter;
    }
    return std::nullopt;
  };
  // max_attempts = 3 in the test options: three tries, then the dead-letter list.
  ASSERT_TRUE(eventually([&] { return appointment_letter().has_value(); }));
  auto times = appointment_requests();
  ASSERT_EQ(times.size(), 3u);
  auto first_gap = times[1] - times[0], second_gap = times[2] - times[1];
  EXPECT_GE(first_gap, 18ms) << "back-off base is 20 ms";
  EXPECT_GE(second_gap, 38ms) << "and doubles";
  for (const auto& request : receiver.requests())
    EXPECT_TRUE(signature_valid(request, kHookSecret));

  auto letter = *appointment_letter();
  EXPECT_EQ(letter["attempts"], 3);
  EXPECT_NE(letter["last_error"].get<std::string>().find("503"), std::string::npos);
  EXPECT_EQ(get("/api/v1/webhooks/dead-letters", bob_).status, 403);

  receiver.answer(204);
  std::string id = std::to_string(letter["id"].get<int>());
  EXPECT_EQ(call("POST", "/api/v1/webhooks/dead-letters/" + id + "/redeliver", admin_).status, 202);
  ASSERT_TRUE(eventually([&] { return appointment_requests().size() == 4; }));
  EXPECT_FALSE(appointment_letter().has_value());
  EXPECT_EQ(call("POST", "/api/v1/webhooks/dead-letters/" + id + "/redeliver", admin_).status, 404);
}

TEST_F(WebhooksApi, RefusesBadRegistrations) {
  EXPECT_EQ(
      call("POST", "/api/v1/webhooks", admin_, json{{"url", "ftp://x"}, {"secret", kHookSecret}})
          .status,
      422);
  EXPECT_EQ(call("POST", "/api/v1/webhooks", admin_,
                 json{{"url", "http://127.0.0.1:1/h"}, {"secret", "short"}})
                .status,
            422);
  EXPECT_EQ(call("POST", "/api/v1/webhooks", admin_, json{{"url", "http://127.0.0.1:1/h"}}).status,
            422);
}

TEST_F(WebhooksApi, ChangeFeedPages) {
  for (int i = 0; i < 5; ++i) create_appointment("alice", "Item " + std::to_string(i));
  auto first = get("/api/v1/changes?since=0&limit=3", integration_);
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.json_body["changes"].size(), 3u);
  EXPECT_EQ(first.json_body["more"], true);
  std::int64_t next = first.json_body["next"];
  auto rest = get("/api/v1/changes?since=" + std::to_string(next) + "&limit=100", integration_);
  EXPECT_EQ(rest.json_body["more"], false);
  std::size_t appointments = 0;
  for (const auto& page : {first.json_body["changes"], rest.json_body["changes"]}) {
    for (const auto& change : page) {
      EXPECT_GT(change["revision"].get<std::int64_t>(), 0);
      if (change["entity"] == "appointment") ++appointments;
    }
  }
  EXPECT_EQ(appointments, 5u);
  auto bobs = get("/api/v1/changes?since=0&user=bob", integration_);
  for (const auto& change : bobs.json_body["changes"]) EXPECT_NE(change["entity"], "appointment");
  EXPECT_EQ(get("/api/v1/changes?since=-4", integration_).status, 400);
  EXPECT_EQ(get("/api/v1/changes?limit=0", integration_).status, 400);
}

}  // namespace
}  // namespace agendasync::apitest
