// The Graph connector's integration fixture: a real exsim process (its Entra ID token endpoint
// and its Graph v1.0 endpoints) over HTTPS on loopback with exsim's generated CA configured in
// the client, shared by every test of a suite; helpers that look at exsim's store as Outlook
// does. The tests are split by topic: exsim_reads_test, exsim_writes_test, exsim_series_test,
// exsim_auth_test. Every test ends by checking that no write sent mail (exsim's outbox, R39).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "connectors/graph/delta_cursor.h"
#include "connectors/graph/graph_side.h"
#include "connectors/graph/graph_time.h"
#include "connectors/graph/testing/test_cert.h"
#include "connectors/graph/token.h"
#include "core/expand.h"
#include "core/time_zone.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace agendasync::graph::exsim_testing {

using nlohmann::json;
using namespace std::chrono;
using namespace std::chrono_literals;

constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";
constexpr const char* kClient = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
constexpr const char* kNoCalendarsClient = "bbbbbbbb-cccc-dddd-eeee-ffffffffffff";
constexpr const char* kCertificateClient = "cccccccc-dddd-eeee-ffff-000000000000";
constexpr const char* kSecret = "graph-app-s3cret";

/// Forwards to the real client and counts what the connector sent, by kind.
class RecordingHttp final : public net::HttpClient {
 public:
  explicit RecordingHttp(std::unique_ptr<net::HttpClient> inner) : inner_(std::move(inner)) {}
  Result<net::Response> send(const net::Request& request,
                             const net::Credentials& credentials) override {
    count(request);
    return inner_->send(request, credentials);
  }
  void send_async(net::Request request, net::Credentials credentials,
                  std::function<void(Result<net::Response>)> done) override {
    count(request);
    inner_->send_async(std::move(request), std::move(credentials), std::move(done));
  }
  std::atomic<int> batches{0};
  std::atomic<int> delta_pages{0};
  std::atomic<int> view_pages{0};
  std::atomic<int> instance_reads{0};

  /// The members of every $batch sent since the last call, as "METHOD url" lines.
  std::vector<std::string> take_batch_members() {
    std::lock_guard lock(mutex_);
    return std::exchange(members_, {});
  }

 private:
  void count(const net::Request& request) {
    if (request.method == "POST" && request.url.ends_with("/$batch")) {
      ++batches;
      const auto body = json::parse(request.body, nullptr, false);
      std::lock_guard lock(mutex_);
      for (const auto& member : body.value("requests", json::array())) {
        members_.push_back(member.value("method", "") + " " + member.value("url", ""));
      }
    }
    if (request.url.find("/calendarView/delta") != std::string::npos) ++delta_pages;
    if (request.url.find("/calendarView?") != std::string::npos) ++view_pages;
    if (request.url.find("/instances?") != std::string::npos) ++instance_reads;
  }
  std::unique_ptr<net::HttpClient> inner_;
  std::mutex mutex_;
  std::vector<std::string> members_;
};

class GraphExsimTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    config_path_ = new std::string(::testing::TempDir() + "exsim-graph-integration-" +
                                   std::to_string(::getpid()) + ".json");
    json apps = json::array();
    apps.push_back({{"tenant", kTenant},
                    {"client_id", kClient},
                    {"secret", kSecret},
                    {"roles", {"Calendars.ReadWrite", "User.Read.All", "MailboxSettings.Read"}}});
    apps.push_back({{"tenant", kTenant},
                    {"client_id", kNoCalendarsClient},
                    {"secret", kSecret},
                    {"roles", {"User.Read.All", "MailboxSettings.Read"}}});
    certificate_ = new testing::TestCertificate(testing::make_certificate(-1, 30));
    apps.push_back({{"tenant", kTenant},
                    {"client_id", kCertificateClient},
                    {"certificates", {certificate_->certificate_pem}},
                    {"roles", {"Calendars.ReadWrite", "User.Read.All", "MailboxSettings.Read"}}});
    std::ofstream(*config_path_) << json{{"graph", {{"apps", apps}}}}.dump(2);
    exsim_ =
        new exsimtest::ExsimProcess({"--config", *config_path_, "--mailbox", "jdoe@example.com",
                                     "--mailbox", "paging@example.com", "--mailbox",
                                     "other@example.com", "--mailbox", "throttle@example.com"});
    net::ClientOptions options;
    options.tls.ca_bundle_path = exsim_->ca_path();
    http_ = new RecordingHttp(net::make_curl_client(options));
    admin_http_ = net::make_curl_client(options).release();
    tokens_ = new TokenProvider(*http_, app(kClient, kSecret));
  }
  static void TearDownTestSuite() {
    delete tokens_;
    delete admin_http_;
    delete http_;
    delete exsim_;
    std::remove(config_path_->c_str());
    delete config_path_;
    delete certificate_;
  }
  void SetUp() override { admin("POST", "/exsim/admin/outbox/clear"); }
  void TearDown() override {
    EXPECT_EQ(admin("GET", "/exsim/admin/outbox").size(), 0u) << "R39: writes sent mail";
  }

  static AppCredentials app(const std::string& client_id, const std::string& secret) {
    AppCredentials credentials;
    credentials.authority = exsim_->base_url();
    credentials.tenant = kTenant;
    credentials.client_id = client_id;
    credentials.client_secret = Secret(secret);
    return credentials;
  }

  /// The app signing in with a certificate (client assertion) instead of a secret.
  static AppCredentials certificate_app(const std::string& client_id,
                                        const testing::TestCertificate& certificate) {
    AppCredentials credentials = app(client_id, "");
    credentials.client_secret = Secret{};
    credentials.certificate_pem = certificate.certificate_pem;
    credentials.private_key_pem = Secret(certificate.private_key_pem);
    return credentials;
  }

  static GraphSideOptions options(const std::string& mailbox) {
    GraphSideOptions o;
    o.base_url = exsim_->base_url() + "/v1.0";
    o.mailbox = mailbox;
    return o;
  }

  static GraphSide side(const std::string& mailbox) {
    return GraphSide(*http_, tokens_->credentials(), options(mailbox));
  }

  /// exsim's admin endpoint: Outlook's view of the same mailboxes.
  static json admin(const std::string& method, const std::string& path,
                    const json& body = nullptr) {
    net::Request request;
    request.method = method;
    request.url = exsim_->base_url() + path;
    request.headers = {{"X-Exsim-Admin-Token", exsim_->admin_token()},
                       {"Content-Type", "application/json"}};
    if (!body.is_null()) request.body = body.dump();
    auto response = admin_http_->send(request, net::Credentials{});
    EXPECT_TRUE(response) << (response ? "" : response.error().message);
    if (!response) return json::array();
    EXPECT_LT(response->status, 300) << path << ": " << response->body;
    return json::parse(response->body, nullptr, false);
  }
  static std::vector<json> calendar(const std::string& mailbox) {
    std::vector<json> items;
    for (const auto& item : admin("GET", "/exsim/admin/mailboxes/" + mailbox + "/items"))
      if (item.value("folder", "") == "calendar") items.push_back(item);
    return items;
  }
  /// A Graph call as another client (Outlook on the web) makes it, with the app's token.
  static json graph_call(const std::string& method, const std::string& path,
                         const json& body = nullptr) {
    net::Request request;
    request.method = method;
    request.url = exsim_->base_url() + "/v1.0" + path;
    request.headers = {{"Content-Type", "application/json"},
                       {"Prefer", "outlook.timezone=\"UTC\""}};
    if (!body.is_null()) request.body = body.dump();
    auto response = http_->send(request, tokens_->credentials());
    EXPECT_TRUE(response) << (response ? "" : response.error().message);
    if (!response) return nullptr;
    EXPECT_LT(response->status, 300) << path << ": " << response->body;
    return response->body.empty() ? json(nullptr) : json::parse(response->body, nullptr, false);
  }
  /// The exsim store's view of one calendar item, by its Graph id (the EWS id, URL-safe).
  static json stored(const std::string& mailbox, const std::string& graph_id) {
    for (auto item : calendar(mailbox)) {
      std::string id = item.value("item_id", "");
      std::ranges::replace(id, '+', '-');
      std::ranges::replace(id, '/', '_');
      if (id == graph_id) return item;
    }
    return nullptr;
  }
  static long outlook_create(const std::string& mailbox, const std::string& subject, Instant at) {
    return admin("POST", "/exsim/admin/mailboxes/" + mailbox + "/items",
                 {{"subject", subject}, {"start", format_utc(at)}, {"end", format_utc(at + 1h)}})
        .value("id", -1L);
  }

  /// Day `n` from today at 09:00 UTC: inside the side's rolling window.
  static Instant day(int n, int hour = 9) {
    return floor<days>(system_clock::now()) + days{n} + hours{hour};
  }
  static TimeWindow window() {
    const Instant today = floor<days>(system_clock::now());
    return {today - days{30}, today + days{365}};
  }

  static Appointment timed(const std::string& subject, Instant start) {
    Appointment item;
    item.subject = subject;
    item.start = start;
    item.end = start + 1h;
    item.time_zone = "Europe/Amsterdam";
    return item;
  }
  /// `item` repeated `count` times every `interval` days.
  static Appointment daily(Appointment item, int count, int interval = 1) {
    item.recurrence = Recurrence{};
    item.recurrence->rule.freq = Frequency::kDaily;
    item.recurrence->rule.interval = interval;
    item.recurrence->rule.count = count;
    return item;
  }
  static Write create(Appointment item, const std::string& key) {
    Write write;
    write.op = WriteOp::kCreate;
    write.key = IdempotencyKey(key);
    write.item = std::move(item);
    return write;
  }
  /// Applies `writes`, failing the test on any failed write.
  static std::vector<SideItem> apply_all(GraphSide& graph, const std::vector<Write>& writes) {
    std::vector<SideItem> written;
    for (auto& result : graph.apply(writes)) {
      EXPECT_TRUE(result.outcome) << result.outcome.error().message;
      if (result.outcome) written.push_back(*result.outcome);
    }
    return written;
  }
  /// Follows changes_since until complete; the last batch's cursor is returned in `cursor`.
  static ChangeBatch drain(GraphSide& graph, Cursor& cursor) {
    ChangeBatch all;
    for (int round = 0; round < 50; ++round) {
      auto batch = graph.changes_since(cursor);
      EXPECT_TRUE(batch) << batch.error().message;
      if (!batch) break;
      all.changed.insert(all.changed.end(), batch->changed.begin(), batch->changed.end());
      all.deleted.insert(all.deleted.end(), batch->deleted.begin(), batch->deleted.end());
      cursor = batch->next;
      if (batch->complete) break;
    }
    return all;
  }

  static inline std::string* config_path_ = nullptr;
  static inline testing::TestCertificate* certificate_ = nullptr;  ///< for kCertificateClient
  static inline exsimtest::ExsimProcess* exsim_ = nullptr;
  static inline RecordingHttp* http_ = nullptr;
  static inline net::HttpClient* admin_http_ = nullptr;
  static inline TokenProvider* tokens_ = nullptr;
};

inline bool contains(const std::vector<ItemRef>& refs, const ItemRef& ref) {
  return std::ranges::find(refs, ref) != refs.end();
}

}  // namespace agendasync::graph::exsim_testing
