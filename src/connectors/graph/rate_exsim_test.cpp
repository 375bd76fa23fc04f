// Outlook limits an app to 10,000 requests per mailbox in 10 minutes
// (learn.microsoft.com/graph/throttling-limits#outlook-service-limits); exsim enforces it by
// default and answers 429 ApplicationThrottled with Retry-After, $batch members one each. Here
// exsim's window is scaled down (15 requests per second) so that a run of writes meets it: the
// side waits out each Retry-After and every item lands exactly once.
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "connectors/graph/graph_side.h"
#include "connectors/graph/token.h"
#include "tools/exsim/launcher/exsim_process.h"

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

/// exsim with its per-mailbox window scaled to `requests` per `window_seconds`, and a Graph
/// side on it for one mailbox.
struct RateRig {
  std::string config_path;
  std::unique_ptr<exsimtest::ExsimProcess> exsim;
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<TokenProvider> tokens;

  RateRig(int requests, int window_seconds)
      : RateRig(json{{"requests_per_mailbox", requests},
                     {"mailbox_request_window_seconds", window_seconds}}) {}

  explicit RateRig(json limits) {
    config_path = ::testing::TempDir() + "exsim-graph-rate-" + std::to_string(::getpid()) + ".json";
    json apps = json::array({{{"tenant", kTenant},
                              {"client_id", kClient},
                              {"secret", kSecret},
                              {"roles", {"Calendars.ReadWrite", "User.Read.All"}}}});
    std::ofstream(config_path) << json{{"graph", {{"apps", apps}, {"limits", limits}}}};
    exsim = std::make_unique<exsimtest::ExsimProcess>(
        std::vector<std::string>{"--config", config_path, "--mailbox", kMailbox});
    net::ClientOptions options;
    options.tls.ca_bundle_path = exsim->ca_path();
    http = net::make_curl_client(options);
    AppCredentials app;
    app.authority = exsim->base_url();
    app.tenant = kTenant;
    app.client_id = kClient;
    app.client_secret = Secret(kSecret);
    tokens = std::make_unique<TokenProvider>(*http, app);
  }

  GraphSideOptions side_options() const {
    GraphSideOptions options;
    options.base_url = exsim->base_url() + "/v1.0";
    options.mailbox = kMailbox;
    options.app_id = kClient;
    return options;
  }

  json admin(const std::string& path) {
    net::Request request;
    request.method = "GET";
    request.url = exsim->base_url() + path;
    request.headers = {{"X-Exsim-Admin-Token", exsim->admin_token()}};
    auto answer = http->send(request, net::Credentials{});
    EXPECT_TRUE(answer && answer->status == 200);
    return answer ? json::parse(answer->body) : json();
  }

  std::multiset<std::string> subjects() {
    std::multiset<std::string> out;
    for (const auto& item : admin(fmt::format("/exsim/admin/mailboxes/{}/items", kMailbox))) {
      if (item.value("folder", "") == "calendar") out.insert(item.value("subject", ""));
    }
    return out;
  }

  int refused() { return admin("/exsim/admin/graph/stats").value("refused_mailbox_rate", -1); }
};

std::vector<Write> creates(int count, std::size_t subject_length = 0) {
  std::vector<Write> writes;
  const Instant first = floor<days>(system_clock::now()) + days{3} + 9h;
  for (int i = 0; i < count; ++i) {
    Write write;
    write.op = WriteOp::kCreate;
    write.key = IdempotencyKey(fmt::format("rate-{}", i));
    write.item.subject = fmt::format("Rate {}", i);
    if (subject_length > write.item.subject.size()) write.item.subject.resize(subject_length, '.');
    write.item.start = first + hours{i};
    write.item.end = write.item.start + 30min;
    write.item.time_zone = "UTC";
    writes.push_back(std::move(write));
  }
  return writes;
}

TEST(GraphRateExsim, WritesBeyondTheMailboxRequestRateWaitRetryAfterAndLandOnce) {
  RateRig rig(15, 1);
  auto options = rig.side_options();
  options.request_rate = {};  // not paced: the side meets exsim's 429s
  GraphSide side(*rig.http, rig.tokens->credentials(), options);
  for (const auto& result : side.apply(creates(kItems))) {
    EXPECT_TRUE(result.outcome) << result.outcome.error().message;
  }
  const auto subjects = rig.subjects();
  EXPECT_EQ(subjects.size(), static_cast<std::size_t>(kItems)) << "each item exactly once";
  // exsim did refuse requests: the side met the limit and lived within it.
  EXPECT_GT(rig.refused(), 0);
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(subjects.count(fmt::format("Rate {}", i)), 1u);
}

// The product paces itself: with the side's rate set to exsim's (scaled) window, a run of
// writes three times the window's size is never refused, and still lands whole.
TEST(GraphRateExsim, APacedSideStaysWithinTheRateAndIsNeverRefused) {
  constexpr int kRequests = 25;
  constexpr int kWindowSeconds = 2;
  constexpr int kPacedItems = 60;
  RateRig rig(kRequests, kWindowSeconds);
  auto options = rig.side_options();
  options.request_rate = {kRequests, seconds(kWindowSeconds)};
  GraphSide side(*rig.http, rig.tokens->credentials(), options);
  const auto started = steady_clock::now();
  for (const auto& result : side.apply(creates(kPacedItems))) {
    EXPECT_TRUE(result.outcome) << result.outcome.error().message;
  }
  EXPECT_EQ(rig.refused(), 0) << "the side waited instead of meeting a 429";
  EXPECT_GE(steady_clock::now() - started, seconds(2 * kWindowSeconds))
      << "three batches of 20 at 25 per window take two windows of waiting";
  const auto subjects = rig.subjects();
  EXPECT_EQ(subjects.size(), static_cast<std::size_t>(kPacedItems));
  for (int i = 0; i < kPacedItems; ++i) EXPECT_EQ(subjects.count(fmt::format("Rate {}", i)), 1u);
  EXPECT_GT(rig.http->stats().paced_wait_ms, 0u);
}

// Outlook's upload volume (150 MB per 5 minutes per app and mailbox), scaled to 4,000 bytes
// per 2 s: writes whose bodies exceed it meet 429s, wait out Retry-After and land once each.
TEST(GraphRateExsim, UploadsBeyondTheVolumeWaitRetryAfterAndLandOnce) {
  RateRig rig(json{{"upload_bytes_per_mailbox", 4000}, {"upload_window_seconds", 2}});
  GraphSide side(*rig.http, rig.tokens->credentials(), rig.side_options());
  constexpr int kLarge = 6;
  for (const auto& result : side.apply(creates(kLarge, 1000))) {
    EXPECT_TRUE(result.outcome) << result.outcome.error().message;
  }
  EXPECT_GT(rig.admin("/exsim/admin/graph/stats").value("refused_upload_volume", 0), 0)
      << "the writes met the volume limit";
  std::map<std::string, int> landed;
  for (const auto& subject : rig.subjects()) ++landed[subject.substr(0, subject.find('.'))];
  ASSERT_EQ(landed.size(), static_cast<std::size_t>(kLarge));
  for (const auto& [subject, count] : landed) EXPECT_EQ(count, 1) << subject;
}

}  // namespace
}  // namespace agendasync::graph
