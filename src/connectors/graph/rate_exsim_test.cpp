// Outlook limits an app to 10,000 requests per mailbox in 10 minutes
// (learn.microsoft.com/graph/throttling-limits#outlook-service-limits); exsim enforces it by
// default and answers 429 ApplicationThrottled with Retry-After, $batch members one each. Here
// exsim's window is scaled down (15 requests per second) so that a run of writes meets it: the
// side waits out each Retry-After and every item lands exactly once.
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "connectors/ews/testing/exsim_process.h"
#include "connectors/graph/graph_side.h"
#include "connectors/graph/token.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;
using namespace std::chrono;
using namespace std::chrono_literals;

constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";
constexpr const char* kClient = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
constexpr const char* kSecret = "rate-test-s3cret";
constexpr const char* kMailbox = "rate@example.com";
constexpr int kItems = 30;

TEST(GraphRateExsim, WritesBeyondTheMailboxRequestRateWaitRetryAfterAndLandOnce) {
  const std::string config_path =
      ::testing::TempDir() + "exsim-graph-rate-" + std::to_string(::getpid()) + ".json";
  json apps = json::array({{{"tenant", kTenant},
                            {"client_id", kClient},
                            {"secret", kSecret},
                            {"roles", {"Calendars.ReadWrite", "User.Read.All"}}}});
  std::ofstream(config_path) << json{
      {"graph",
       {{"apps", apps},
        {"limits", {{"requests_per_mailbox", 15}, {"mailbox_request_window_seconds", 1}}}}}};
  ews::testing::ExsimProcess exsim({"--config", config_path, "--mailbox", kMailbox});
  net::ClientOptions options;
  options.tls.ca_bundle_path = exsim.ca_path();
  auto http = net::make_curl_client(options);
  AppCredentials app;
  app.authority = exsim.base_url();
  app.tenant = kTenant;
  app.client_id = kClient;
  app.client_secret = Secret(kSecret);
  TokenProvider tokens(*http, app);
  GraphSideOptions side_options;
  side_options.base_url = exsim.base_url() + "/v1.0";
  side_options.mailbox = kMailbox;
  side_options.app_id = kClient;
  GraphSide side(*http, tokens.credentials(), side_options);

  std::vector<Write> writes;
  const Instant first = floor<days>(system_clock::now()) + days{3} + 9h;
  for (int i = 0; i < kItems; ++i) {
    Write write;
    write.op = WriteOp::kCreate;
    write.key = IdempotencyKey(fmt::format("rate-{}", i));
    write.item.subject = fmt::format("Rate {}", i);
    write.item.start = first + hours{i};
    write.item.end = write.item.start + 30min;
    write.item.time_zone = "UTC";
    writes.push_back(std::move(write));
  }
  for (const auto& result : side.apply(writes)) {
    EXPECT_TRUE(result.outcome) << result.outcome.error().message;
  }

  net::Request items;
  items.method = "GET";
  items.url = exsim.base_url() + fmt::format("/exsim/admin/mailboxes/{}/items", kMailbox);
  items.headers = {{"X-Exsim-Admin-Token", exsim.admin_token()}};
  auto listed = http->send(items, net::Credentials{});
  ASSERT_TRUE(listed && listed->status == 200);
  std::multiset<std::string> subjects;
  for (const auto& item : json::parse(listed->body)) {
    if (item.value("folder", "") == "calendar") subjects.insert(item.value("subject", ""));
  }
  EXPECT_EQ(subjects.size(), static_cast<std::size_t>(kItems)) << "each item exactly once";
  // exsim did refuse requests: the side met the limit and lived within it.
  items.url = exsim.base_url() + "/exsim/admin/graph/stats";
  auto stats = http->send(items, net::Credentials{});
  ASSERT_TRUE(stats && stats->status == 200);
  EXPECT_GT(json::parse(stats->body).value("refused_mailbox_rate", 0), 0) << stats->body;
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(subjects.count(fmt::format("Rate {}", i)), 1u);
}

}  // namespace
}  // namespace agendasync::graph
