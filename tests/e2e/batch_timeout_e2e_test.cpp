// EWS limits a batch request's execution time to one minute ("EWS throttling in Exchange",
// "Throttling implications for EWS batch requests": the call "could time out"), and documents
// no answer for it: a client only sees a batch that never answers in time. EWS CreateItem does
// not deduplicate, so the product must never create a batch twice after such a timeout. Here
// exsim applies a CreateItem batch but answers after the client's timeout (fault
// `response_delay_ms` for that one request); the sync fails the batch as transient, and the
// next sync looks the batch's idempotency keys up before creating anything: every item exists
// exactly once.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "net/http.h"
#include "tests/e2e/world.h"

namespace agendasync::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMailbox = "jdoe@example.com";

/// The app's HTTP client, with each CreateItem answered late: exsim holds the answer of an
/// applied batch for `delay`, and the client gives up after `timeout`.
class LateCreateItem final : public net::HttpClient {
 public:
  LateCreateItem(World& world, std::chrono::milliseconds timeout, std::chrono::milliseconds delay)
      : world_(world), timeout_(timeout), delay_(delay) {
    net::ClientOptions options;
    options.tls.ca_bundle_path = world.exsim().ca_path();
    inner_ = net::make_curl_client(options);
  }
  Result<net::Response> send(const net::Request& request,
                             const net::Credentials& credentials) override {
    if (!late || request.body.find("<m:CreateItem") == std::string::npos) {
      return inner_->send(request, credentials);
    }
    world_.set_faults({{"response_delay_ms", delay_.count()}});
    net::Request timed = request;
    timed.timeout = timeout_;
    auto result = inner_->send(timed, credentials);
    world_.set_faults({{"response_delay_ms", 0}});
    if (!result) ++timed_out;
    return result;
  }
  void send_async(net::Request request, net::Credentials credentials,
                  std::function<void(Result<net::Response>)> done) override {
    inner_->send_async(std::move(request), std::move(credentials), std::move(done));
  }
  std::atomic<bool> late{true};
  std::atomic<int> timed_out{0};

 private:
  World& world_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds delay_;
  std::unique_ptr<net::HttpClient> inner_;
};

TEST(BatchTimeout, ABatchAnsweredAfterTheClientsTimeoutIsNeverCreatedTwice) {
  World world;
  world.add_user("jdoe");
  const Instant base = Instant(std::chrono::hours(500'100));
  for (int i = 0; i < 30; ++i)
    world.add_appointment("jdoe", fmt::format("Host {:02}", i), base + std::chrono::hours(i));

  auto http = std::make_shared<LateCreateItem>(world, 500ms, 1500ms);
  app::AppOptions options;
  options.http = http;
  // Through the app, not World::sync: this run's failed batch is expected.
  auto late_app = world.app(options);
  ASSERT_TRUE(late_app);
  const auto first = late_app->sync_user("jdoe", false);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_GE(http->timed_out.load(), 1) << "the CreateItem batch was answered in time";
  ASSERT_TRUE(first->report);
  ASSERT_FALSE(first->report->errors.empty()) << "a batch without an answer is not a success";
  EXPECT_NE(first->report->errors.front().find("did not answer"), std::string::npos)
      << first->report->errors.front();
  late_app.reset();
  // exsim applied the batch all the same: Exchange holds the 30 items already.
  std::this_thread::sleep_for(1200ms);  // the late answer has gone out
  ASSERT_EQ(world.exchange_items(kMailbox).size(), 30u);

  http->late = false;
  const auto second = world.sync("jdoe", false, options);
  ASSERT_EQ(second.outcome, app::UserRun::Outcome::kSynced)
      << (second.error ? second.error->message : "");
  const auto exchange = world.exchange_items(kMailbox);
  std::map<std::string, int> subjects;
  for (const auto& item : exchange) ++subjects[item.value("subject", "")];
  EXPECT_EQ(exchange.size(), 30u) << "no item created twice";
  for (const auto& [subject, count] : subjects) EXPECT_EQ(count, 1) << subject;
  EXPECT_EQ(world.host_items("jdoe").size(), 30u);
  const auto quiet = world.sync("jdoe", false, options);
  ASSERT_TRUE(quiet.report);
  EXPECT_TRUE(quiet.report->plan.operations.empty());
}

}  // namespace
}  // namespace agendasync::e2e
