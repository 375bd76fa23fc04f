// The Graph connector against a real exsim process over HTTPS on loopback (its Entra ID token
// endpoint and its Graph v1.0 endpoints; exsim's generated CA configured in the client):
// delta from scratch and incrementally with paging, create/update/delete through $batch,
// all-day without a shift, the idempotency key, and the errors an admin meets: a missing role, a
// wrong secret, an expired certificate, an expired delta token. Writes never send mail (exsim's
// outbox).
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

#include "connectors/ews/testing/exsim_process.h"
#include "connectors/graph/delta_cursor.h"
#include "connectors/graph/graph_side.h"
#include "connectors/graph/graph_time.h"
#include "connectors/graph/testing/test_cert.h"
#include "connectors/graph/token.h"
#include "core/expand.h"
#include "core/time_zone.h"

namespace agendasync::graph {
namespace {

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
        new ews::testing::ExsimProcess({"--config", *config_path_, "--mailbox", "jdoe@example.com",
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

  static std::string* config_path_;
  static testing::TestCertificate* certificate_;  ///< registered for kCertificateClient
  static ews::testing::ExsimProcess* exsim_;
  static RecordingHttp* http_;
  static net::HttpClient* admin_http_;
  static TokenProvider* tokens_;
};

std::string* GraphExsimTest::config_path_ = nullptr;
testing::TestCertificate* GraphExsimTest::certificate_ = nullptr;
ews::testing::ExsimProcess* GraphExsimTest::exsim_ = nullptr;
RecordingHttp* GraphExsimTest::http_ = nullptr;
net::HttpClient* GraphExsimTest::admin_http_ = nullptr;
TokenProvider* GraphExsimTest::tokens_ = nullptr;

bool contains(const std::vector<ItemRef>& refs, const ItemRef& ref) {
  return std::ranges::find(refs, ref) != refs.end();
}

TEST_F(GraphExsimTest, TokenCarriesTheGrantedRoles) {
  auto roles = tokens_->roles();
  ASSERT_TRUE(roles) << roles.error().message;
  EXPECT_TRUE(check_roles(*roles, tokens_->app()));
}

TEST_F(GraphExsimTest, FullListingFollowsEveryPageThenDeltaIsQuiet) {
  admin("POST", "/exsim/admin/mailboxes/paging@example.com/seed",
        {{"count", 230}, {"start", format_utc(day(1))}, {"subject_prefix", "Paged"}});
  auto graph = side("paging@example.com");
  const int pages_before = http_->delta_pages;
  const int view_pages_before = http_->view_pages;
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->first.size(), 230u);
  std::set<std::string> subjects;
  for (const auto& item : listed->first) subjects.insert(item.item.subject);
  EXPECT_EQ(subjects.size(), 230u) << "no duplicates across pages";
  EXPECT_GE(http_->delta_pages - pages_before, 3) << "100 events per page: at least 3 pages";
  EXPECT_GE(http_->view_pages - view_pages_before, 3) << "calendarView pages followed";

  Cursor cursor = listed->second;
  auto quiet = drain(graph, cursor);
  EXPECT_TRUE(quiet.changed.empty());
  EXPECT_TRUE(quiet.deleted.empty());
}

TEST_F(GraphExsimTest, IncrementalDeltaReportsOutlookCreatesUpdatesAndDeletes) {
  auto graph = side("other@example.com");
  const long kept = outlook_create("other@example.com", "Kept", day(2));
  const long edited = outlook_create("other@example.com", "Edited", day(3));
  const long removed = outlook_create("other@example.com", "Removed", day(4));
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->first.size(), 3u);
  std::map<std::string, ItemRef> refs;
  for (const auto& item : listed->first) refs[item.item.subject] = item.ref;

  admin("POST", fmt::format("/exsim/admin/mailboxes/other@example.com/items/{}/update", edited),
        {{"subject", "Edited in Outlook"}});
  admin("POST", fmt::format("/exsim/admin/mailboxes/other@example.com/items/{}/delete", removed));
  outlook_create("other@example.com", "New in Outlook", day(5));
  Cursor cursor = listed->second;
  auto changes = drain(graph, cursor);
  EXPECT_TRUE(contains(changes.changed, refs["Edited"]));
  EXPECT_TRUE(contains(changes.deleted, refs["Removed"]));
  EXPECT_FALSE(contains(changes.changed, refs["Kept"]));
  auto fetched = graph.fetch(changes.changed);
  ASSERT_TRUE(fetched) << fetched.error().message;
  std::set<std::string> subjects;
  for (const auto& item : *fetched) subjects.insert(item.item.subject);
  EXPECT_EQ(subjects, (std::set<std::string>{"Edited in Outlook", "New in Outlook"}));
  (void)kept;

  // Nothing new: the next round is empty.
  auto quiet = drain(graph, cursor);
  EXPECT_TRUE(quiet.changed.empty());
  EXPECT_TRUE(quiet.deleted.empty());
}

TEST_F(GraphExsimTest, CreateUpdateDeleteThroughBatchWithTheIdempotencyKey) {
  auto graph = side("jdoe@example.com");
  std::vector<Write> writes;
  for (int i = 0; i < 25; ++i) {
    auto item = timed(fmt::format("Batch {:02}", i), day(10 + i / 8, 8 + i % 8));
    // R39: attendees of a synced item never become a meeting request.
    if (i == 0) item.attendees.push_back({{"Ann", "ann@example.org"}, AttendeeRole::kRequired, {}});
    writes.push_back(create(std::move(item), fmt::format("key-batch-{}", i)));
  }
  const int batches_before = http_->batches;
  auto created = apply_all(graph, writes);
  ASSERT_EQ(created.size(), 25u);
  EXPECT_EQ(http_->batches - batches_before, 2) << "25 writes: two $batch POSTs of at most 20";
  int with_key = 0;
  for (const auto& item : calendar("jdoe@example.com")) {
    if (item.value("subject", "").starts_with("Batch ")) {
      with_key += item.dump().find("key-batch-") != std::string::npos;
    }
  }
  EXPECT_EQ(with_key, 25);

  auto found = graph.find_by_key(IdempotencyKey("key-batch-7"));
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->ref, created[7].ref);
  EXPECT_EQ((*found)->item.subject, "Batch 07");

  Write update;
  update.op = WriteOp::kUpdate;
  update.ref = created[7].ref;
  update.expected = created[7].version;
  update.previous = created[7].item;
  update.item = created[7].item;
  update.item.subject = "Batch 07 (moved)";
  update.item.location = "Room 4";
  auto updated = apply_all(graph, {update});
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_NE(updated[0].version, created[7].version);
  EXPECT_EQ(updated[0].item.start, created[7].item.start) << "a subject edit moves nothing";

  // The old version no longer matches: If-Match refuses it (no lost update).
  Write stale = update;
  stale.item.subject = "Stale";
  auto refused = graph.apply(std::vector<Write>{stale});
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_FALSE(refused[0].outcome);
  EXPECT_EQ(refused[0].outcome.error().kind, ErrorKind::kConflict);

  Write remove;
  remove.op = WriteOp::kDelete;
  remove.ref = created[8].ref;
  remove.expected = created[8].version;
  apply_all(graph, {remove});
  std::set<std::string> subjects;
  for (const auto& item : calendar("jdoe@example.com")) subjects.insert(item.value("subject", ""));
  EXPECT_TRUE(subjects.contains("Batch 07 (moved)"));
  EXPECT_FALSE(subjects.contains("Batch 08"));
  EXPECT_FALSE(subjects.contains("Stale"));
}

TEST_F(GraphExsimTest, AllDayComesBackOnTheSameDatesWhateverTheZone) {
  auto graph = side("jdoe@example.com");
  std::vector<Write> writes;
  int n = 0;
  for (const char* zone : {"Pacific/Auckland", "America/Los_Angeles", "UTC"}) {
    Appointment item;
    item.subject = fmt::format("Holiday {}", zone);
    item.all_day = true;
    item.start = floor<days>(day(20 + n));
    item.end = item.start + days{2};
    item.time_zone = zone;
    writes.push_back(create(item, fmt::format("key-all-day-{}", n++)));
  }
  auto created = apply_all(graph, writes);
  ASSERT_EQ(created.size(), 3u);
  std::vector<ItemRef> refs;
  for (const auto& item : created) refs.push_back(item.ref);
  auto fetched = graph.fetch(refs);
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 3u);
  for (std::size_t i = 0; i < fetched->size(); ++i) {
    const auto& read = (*fetched)[i].item;
    EXPECT_TRUE(read.all_day) << read.subject;
    EXPECT_EQ(read.start, writes[i].item.start) << read.subject;
    EXPECT_EQ(read.end, writes[i].item.end) << read.subject;
  }
}

TEST_F(GraphExsimTest, ExpiredDeltaTokenAsksForAFullResync) {
  auto graph = side("other@example.com");
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  auto cursor = decode_cursor(listed->second);
  ASSERT_TRUE(cursor);
  // A delta link whose token the server no longer knows (as after 7 days unused).
  const auto token = cursor->delta_link.find("deltatoken=");
  ASSERT_NE(token, std::string::npos) << cursor->delta_link;
  cursor->delta_link = cursor->delta_link.substr(0, token) + "deltatoken=expired-token-0000";
  auto changes = graph.changes_since(encode_cursor(*cursor));
  ASSERT_FALSE(changes);
  EXPECT_EQ(changes.error().kind, ErrorKind::kCursorInvalid) << changes.error().message;
  // The resync the engine then runs lists each item once.
  auto relisted = graph.list(window());
  ASSERT_TRUE(relisted) << relisted.error().message;
  std::set<std::string> ids;
  for (const auto& item : relisted->first) ids.insert(item.ref.str());
  EXPECT_EQ(ids.size(), relisted->first.size());
  EXPECT_EQ(relisted->first.size(), listed->first.size());
}

TEST_F(GraphExsimTest, ThrottledReadWaitsForRetryAfterThenSucceeds) {
  auto graph = side("throttle@example.com");
  admin("POST", "/exsim/admin/faults", {{"server_busy_next", 1}, {"back_off_ms", 1000}});
  const auto started = steady_clock::now();
  auto listed = graph.list(window());
  const auto waited = steady_clock::now() - started;
  admin("POST", "/exsim/admin/faults", {{"server_busy_next", 0}});
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_GE(waited, 900ms) << "429 with Retry-After: 1 must be waited out, not hammered";
}

TEST_F(GraphExsimTest, ThrottledBatchWaitsForRetryAfterAndWritesExactlyOnce) {
  auto graph = side("throttle@example.com");
  const auto before = calendar("throttle@example.com").size();
  // 429 on the $batch POST: Exchange did nothing, so sending it again after Retry-After is
  // safe; the item must land once.
  admin("POST", "/exsim/admin/faults", {{"server_busy_next", 1}, {"back_off_ms", 2000}});
  const std::vector<Write> writes{create(timed("Throttled once", day(40)), "key-throttled")};
  const auto started = steady_clock::now();
  auto written = apply_all(graph, writes);
  const auto waited = steady_clock::now() - started;
  admin("POST", "/exsim/admin/faults", {{"server_busy_next", 0}});
  ASSERT_EQ(written.size(), 1u);
  EXPECT_GE(waited, 1900ms) << "Retry-After: 2 must be waited out";
  EXPECT_EQ(calendar("throttle@example.com").size(), before + 1);
}

TEST_F(GraphExsimTest, MissingCalendarsRoleIsNamedWithWhereToGrantIt) {
  TokenProvider limited(*http_, app(kNoCalendarsClient, kSecret));
  auto roles = limited.roles();
  ASSERT_TRUE(roles) << roles.error().message;
  auto checked = check_roles(*roles, limited.app());
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::kPermission);
  EXPECT_NE(checked.error().message.find("Calendars.ReadWrite"), std::string::npos);
  EXPECT_NE(checked.error().message.find("API permissions"), std::string::npos);

  GraphSide graph(*http_, limited.credentials(), options("jdoe@example.com"));
  auto listed = graph.list(window());
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().kind, ErrorKind::kPermission) << listed.error().message;
  EXPECT_NE(listed.error().message.find("Calendars.ReadWrite"), std::string::npos)
      << listed.error().message;
}

TEST_F(GraphExsimTest, WrongSecretSaysWhichSettingToFixWithoutEchoingIt) {
  TokenProvider wrong(*http_, app(kClient, "not-the-secret"));
  auto token = wrong.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth) << token.error().message;
  EXPECT_NE(token.error().message.find("secret"), std::string::npos) << token.error().message;
  EXPECT_EQ(token.error().message.find("not-the-secret"), std::string::npos);
}

TEST_F(GraphExsimTest, ExpiredCertificateIsRefusedBeforeAnyRequest) {
  const auto expired = testing::make_certificate(-30, -1);
  TokenProvider provider(*http_, certificate_app(kClient, expired));
  auto token = provider.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth);
  EXPECT_NE(token.error().message.find("expired"), std::string::npos) << token.error().message;
}

TEST_F(GraphExsimTest, SeriesWithAnExceptionAndADeletedOccurrenceThroughInstances) {
  auto graph = side("jdoe@example.com");
  Appointment series = timed("Weekly sync", day(14, 10));
  series.recurrence = Recurrence{};
  series.recurrence->rule.freq = Frequency::kWeekly;
  series.recurrence->rule.count = 6;
  series.recurrence->rule.by_day = {WeekdayNum{0, weekday{floor<days>(series.start)}}};
  auto created = apply_all(graph, {create(series, "key-series")});
  ASSERT_EQ(created.size(), 1u);

  // Outlook-like edits through the side's occurrence writes: move the 2nd, delete the 4th.
  const Instant second = series.start + days{7};
  const Instant fourth = series.start + days{21};
  Appointment changed = created[0].item;
  OccurrenceOverride moved;
  moved.recurrence_id = second;
  moved.start = second + 2h;
  moved.end = second + 3h;
  moved.subject = "Weekly sync (later)";
  changed.recurrence->overrides.push_back(moved);
  Write move;
  move.op = WriteOp::kUpdate;
  move.ref = created[0].ref;
  move.expected = created[0].version;
  move.item = changed;
  move.previous = created[0].item;
  move.occurrence = second;
  Write drop;
  drop.op = WriteOp::kDelete;
  drop.ref = created[0].ref;
  drop.occurrence = fourth;
  apply_all(graph, {move});
  apply_all(graph, {drop});

  const int instance_reads_before = http_->instance_reads;
  auto fetched = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 1u);
  const auto& read = fetched->front().item;
  EXPECT_GT(http_->instance_reads - instance_reads_before, 0);
  ASSERT_TRUE(read.recurrence);
  EXPECT_EQ(read.recurrence->rule.count, 6);
  ASSERT_EQ(read.recurrence->overrides.size(), 1u);
  EXPECT_EQ(read.recurrence->overrides[0].recurrence_id, second);
  EXPECT_EQ(read.recurrence->overrides[0].start, second + 2h);
  EXPECT_EQ(read.recurrence->overrides[0].subject, "Weekly sync (later)");
  EXPECT_EQ(read.recurrence->exdates, std::vector<Instant>{fourth});
  // Written as "W. Europe Standard Time": read back as that Windows zone's CLDR primary.
  EXPECT_EQ(read.time_zone, "Europe/Berlin");
  // Outlook's view (the store): one exception, one deleted occurrence, the master as it was.
  const json master = stored("jdoe@example.com", created[0].ref.str());
  ASSERT_TRUE(master.is_object());
  EXPECT_EQ(master["subject"], "Weekly sync");
  EXPECT_EQ(master["start"], format_utc(series.start));
  EXPECT_EQ(master["modified_occurrences"], json::array({format_utc(second)}));
  EXPECT_EQ(master["deleted_occurrences"], json::array({format_utc(fourth)}));
}

TEST_F(GraphExsimTest, SeriesCreatedWithExceptionsRoundTrips) {
  // The engine's create of a series that already has a deleted and a modified occurrence.
  auto graph = side("jdoe@example.com");
  Appointment series = daily(timed("Monthly review", day(60, 13)), 4, 2);
  const Instant dropped = series.start + days{2};
  const Instant changed_at = series.start + days{4};
  series.recurrence->exdates = {dropped};
  OccurrenceOverride change;
  change.recurrence_id = changed_at;
  change.start = changed_at - 1h;
  change.end = changed_at + 30min;
  change.subject = "Monthly review (longer)";
  change.location = "Board room";
  change.show_as = ShowAs::kTentative;
  change.sensitivity = Sensitivity::kPrivate;
  series.recurrence->overrides = {change};
  auto created = apply_all(graph, {create(series, "key-review")});
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].idempotency_key, IdempotencyKey("key-review"));
  ASSERT_TRUE(created[0].item.recurrence);
  EXPECT_EQ(created[0].item.recurrence->exdates, std::vector<Instant>{dropped});
  EXPECT_EQ(created[0].item.recurrence->overrides, std::vector<OccurrenceOverride>{change});

  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  const auto found = std::ranges::find(listed->first, created[0].ref, &SideItem::ref);
  ASSERT_NE(found, listed->first.end()) << "the series is listed once, by its master";
  EXPECT_EQ(std::ranges::count(listed->first, created[0].ref, &SideItem::ref), 1);
  ASSERT_TRUE(found->item.recurrence);
  EXPECT_EQ(found->item.recurrence->rule.interval, 2);
  EXPECT_EQ(found->item.recurrence->exdates, std::vector<Instant>{dropped});
  EXPECT_EQ(found->item.recurrence->overrides, std::vector<OccurrenceOverride>{change});
}

TEST_F(GraphExsimTest, OutlookEditsOfOneOccurrenceReachTheSeriesThroughDelta) {
  auto graph = side("other@example.com");
  const Appointment series = daily(timed("Gym", day(70, 17)), 3);
  auto created = apply_all(graph, {create(series, "key-gym")});
  ASSERT_EQ(created.size(), 1u);
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  Cursor cursor = listed->second;

  // Outlook on the web: the instances, then one moved and one deleted.
  const std::string master = created[0].ref.str();
  const json instances =
      graph_call("GET", fmt::format("/users/other@example.com/events/{}/instances?startDateTime={}&"
                                    "endDateTime={}",
                                    master, format_utc(series.start - days{1}),
                                    format_utc(series.start + days{4})));
  ASSERT_EQ(instances.value("value", json::array()).size(), 3u) << instances.dump();
  const std::string first = instances["value"][0]["id"];
  const std::string third = instances["value"][2]["id"];
  graph_call(
      "PATCH", "/users/other@example.com/events/" + first,
      {{"subject", "Gym (short)"},
       {"end",
        {{"dateTime", format_date_time(LocalTime{(series.start + 30min).time_since_epoch()})},
         {"timeZone", "UTC"}}}});
  graph_call("DELETE", "/users/other@example.com/events/" + third);

  auto changes = drain(graph, cursor);
  EXPECT_TRUE(contains(changes.changed, created[0].ref))
      << "an occurrence's change or removal is a change of its series";
  EXPECT_FALSE(contains(changes.deleted, created[0].ref));
  auto fetched = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(fetched && fetched->size() == 1u);
  const auto& read = fetched->front().item;
  ASSERT_TRUE(read.recurrence);
  EXPECT_EQ(read.subject, "Gym");
  EXPECT_EQ(read.recurrence->exdates, std::vector<Instant>{series.start + days{2}});
  ASSERT_EQ(read.recurrence->overrides.size(), 1u);
  EXPECT_EQ(read.recurrence->overrides[0].recurrence_id, series.start);
  EXPECT_EQ(read.recurrence->overrides[0].subject, "Gym (short)");
  EXPECT_EQ(read.recurrence->overrides[0].end, series.start + 30min);
}

/// A token exsim signed, with its signature spoilt: what Graph sees of an expired or
/// tampered token.
std::string spoilt(const Secret& token) {
  std::string text = token.reveal();
  text.back() = text.back() == 'A' ? 'B' : 'A';
  text[text.size() - 2] = text[text.size() - 2] == 'A' ? 'B' : 'A';
  return text;
}

/// Bearer credentials that send a spoilt token first and, after Graph's 401, what `refresh`
/// gives; `refreshed` counts the refreshes.
net::Credentials spoilt_first(const Secret& good, std::function<Result<Secret>()> refresh,
                              std::atomic<int>& refreshed) {
  net::Credentials credentials;
  credentials.method = net::AuthMethod::kBearer;
  credentials.bearer_token = [text = spoilt(good)]() -> Result<Secret> { return Secret(text); };
  credentials.bearer_token_refresh = [refresh = std::move(refresh), &refreshed] {
    ++refreshed;
    return refresh();
  };
  return credentials;
}

TEST_F(GraphExsimTest, RejectedTokenIsRefreshedOnceThenTheReadSucceeds) {
  auto good = tokens_->token();
  ASSERT_TRUE(good) << good.error().message;
  std::atomic<int> refreshed{0};
  const auto credentials = spoilt_first(
      *good, [] { return tokens_->refresh(); }, refreshed);
  GraphSide graph(*http_, credentials, options("other@example.com"));
  auto changes = graph.changes_since(Cursor{});
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_EQ(refreshed.load(), 1);
}

TEST_F(GraphExsimTest, TokenRejectedAfterTheRefreshIsGraphsErrorNamingTheSettings) {
  auto good = tokens_->token();
  ASSERT_TRUE(good) << good.error().message;
  std::atomic<int> refreshed{0};
  const auto credentials = spoilt_first(
      *good, [bad = spoilt(*good)]() -> Result<Secret> { return Secret(bad); }, refreshed);
  GraphSide graph(*http_, credentials, options("other@example.com"));
  auto listed = graph.list(window());
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(refreshed.load(), 1) << "one refresh, then the error";
  const std::string& message = listed.error().message;
  EXPECT_NE(message.find("InvalidAuthenticationToken"), std::string::npos) << message;
  EXPECT_NE(message.find("tenant_id"), std::string::npos) << message;
  EXPECT_NE(message.find("client_id"), std::string::npos) << message;
  EXPECT_EQ(message.find(good->reveal()), std::string::npos) << "never the token";

  // Writes go through $batch: the same answer, the same error, nothing written.
  const auto before = calendar("other@example.com").size();
  auto written = graph.apply(std::vector<Write>{create(timed("Not written", day(6)), "key-x")});
  ASSERT_EQ(written.size(), 1u);
  ASSERT_FALSE(written[0].outcome);
  EXPECT_EQ(written[0].outcome.error().kind, ErrorKind::kAuth);
  EXPECT_NE(written[0].outcome.error().message.find("tenant_id"), std::string::npos);
  EXPECT_EQ(calendar("other@example.com").size(), before);
}

/// The members of `batch` with `method` whose URL addresses event `id`.
int addressed(const std::vector<std::string>& batch, const std::string& method,
              const std::string& id) {
  return static_cast<int>(std::ranges::count_if(batch, [&](const std::string& member) {
    return member.starts_with(method + " ") &&
           (member.ends_with("/events/" + id) ||
            member.find("/events/" + id + "?") != std::string::npos);
  }));
}

int patches(const std::vector<std::string>& batch) {
  return static_cast<int>(
      std::ranges::count_if(batch, [](const auto& m) { return m.starts_with("PATCH "); }));
}

/// One standup occurrence changed: another start and subject, the rest as the series has it.
OccurrenceOverride standup_change(Instant original, Instant start, std::string subject) {
  OccurrenceOverride change;
  change.recurrence_id = original;
  change.start = start;
  change.end = start + 1h;
  change.subject = std::move(subject);
  change.location = "Room 1";
  change.reminder = 10min;
  return change;
}

/// An update of `current` adding `change`: for that one occurrence, or (nullopt) the whole
/// series as the engine writes it.
Write with_change(const SideItem& current, const OccurrenceOverride& change,
                  std::optional<Instant> occurrence) {
  Write write;
  write.op = WriteOp::kUpdate;
  write.ref = current.ref;
  write.expected = current.version;
  write.previous = current.item;
  write.item = current.item;
  write.item.recurrence->overrides.push_back(change);
  write.occurrence = occurrence;
  return write;
}

TEST_F(GraphExsimTest, OccurrenceUpdatePatchesOnlyThatInstanceNeverTheMaster) {
  auto graph = side("jdoe@example.com");
  Appointment series = timed("Standup", day(50, 8));
  series.location = "Room 1";
  series.reminder = 10min;
  series = daily(series, 5);
  auto created = apply_all(graph, {create(series, "key-standup")});
  ASSERT_EQ(created.size(), 1u);
  const std::string master_id = created[0].ref.str();
  auto before = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(before && before->size() == 1u);
  http_->take_batch_members();

  // Outlook-like edit of the third day through an occurrence write.
  const Instant third = series.start + days{2};
  const OccurrenceOverride moved = standup_change(third, third + 1h, "Standup (late)");
  const Write move = with_change(before->front(), moved, third);
  auto moved_result = apply_all(graph, {move});
  ASSERT_EQ(moved_result.size(), 1u);
  const auto sent = http_->take_batch_members();
  EXPECT_EQ(addressed(sent, "PATCH", master_id), 0) << fmt::format("{}", fmt::join(sent, "\n"));
  EXPECT_EQ(patches(sent), 1) << fmt::format("{}", fmt::join(sent, "\n"));
  // The result is the series (its ref, its new version), not the instance.
  EXPECT_EQ(moved_result[0].ref, created[0].ref);
  EXPECT_FALSE(moved_result[0].version.empty());

  auto after = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(after && after->size() == 1u);
  const Appointment& read = after->front().item;
  EXPECT_EQ(read.subject, "Standup") << "the master keeps its subject";
  EXPECT_EQ(read.start, series.start) << "the master keeps its time";
  EXPECT_EQ(read.location, "Room 1");
  EXPECT_EQ(read.reminder, 10min);
  ASSERT_TRUE(read.recurrence);
  EXPECT_EQ(read.recurrence->rule, before->front().item.recurrence->rule);
  EXPECT_TRUE(read.recurrence->exdates.empty());
  ASSERT_EQ(read.recurrence->overrides.size(), 1u) << "the other four stay occurrences";
  EXPECT_EQ(read.recurrence->overrides[0], moved);
  EXPECT_EQ(moved_result[0].version, after->front().version);

  // The engine's form: the whole series with one more override, no `occurrence`. Only that
  // instance is patched; the master gets no PATCH and the moved occurrence is not rewritten.
  const Instant fifth = series.start + days{4};
  const OccurrenceOverride renamed = standup_change(fifth, fifth, "Standup (retro)");
  auto updated = apply_all(graph, {with_change(after->front(), renamed, std::nullopt)});
  ASSERT_EQ(updated.size(), 1u);
  const auto sent_again = http_->take_batch_members();
  EXPECT_EQ(addressed(sent_again, "PATCH", master_id), 0)
      << fmt::format("{}", fmt::join(sent_again, "\n"));
  EXPECT_EQ(patches(sent_again), 1) << fmt::format("{}", fmt::join(sent_again, "\n"));
  ASSERT_TRUE(updated[0].item.recurrence);
  EXPECT_EQ(updated[0].item.subject, "Standup");
  EXPECT_EQ(updated[0].item.recurrence->overrides,
            (std::vector<OccurrenceOverride>{moved, renamed}));

  // An occurrence update without its override is refused, and nothing is sent.
  Write without = move;
  without.item = series;
  without.occurrence = series.start + days{1};
  auto refused = graph.apply(std::vector<Write>{without});
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_FALSE(refused[0].outcome);
  EXPECT_EQ(refused[0].outcome.error().kind, ErrorKind::kInvalidData);
  EXPECT_TRUE(http_->take_batch_members().empty());
}

TEST_F(GraphExsimTest, NewPatternKeepsTheSeriesExceptions) {
  // Exchange drops a series' exceptions when its pattern changes: the side writes them again.
  auto graph = side("other@example.com");
  Appointment series = timed("Standup", day(120, 8));
  series.location = "Room 1";
  series.reminder = 10min;
  series = daily(series, 4);
  const Instant second = series.start + days{1};
  const OccurrenceOverride moved = standup_change(second, second + 3h, "Standup (afternoon)");
  series.recurrence->overrides = {moved};
  auto created = apply_all(graph, {create(series, "key-longer")});
  ASSERT_EQ(created.size(), 1u);
  ASSERT_EQ(created[0].item.recurrence->overrides, std::vector<OccurrenceOverride>{moved});

  Write longer;
  longer.op = WriteOp::kUpdate;
  longer.ref = created[0].ref;
  longer.expected = created[0].version;
  longer.previous = created[0].item;
  longer.item = created[0].item;
  longer.item.recurrence->rule.count = 6;
  auto updated = apply_all(graph, {longer});
  ASSERT_EQ(updated.size(), 1u);
  auto read = graph.fetch(std::vector<ItemRef>{created[0].ref});
  ASSERT_TRUE(read && read->size() == 1u);
  ASSERT_TRUE(read->front().item.recurrence);
  EXPECT_EQ(read->front().item.recurrence->rule.count, 6);
  EXPECT_EQ(read->front().item.recurrence->overrides, std::vector<OccurrenceOverride>{moved});
  EXPECT_EQ(updated[0].version, read->front().version);
}

TEST_F(GraphExsimTest, ValidCertificateGetsATokenThenReadsAndWrites) {
  TokenProvider provider(*http_, certificate_app(kCertificateClient, *certificate_));
  auto roles = provider.roles();
  ASSERT_TRUE(roles) << roles.error().message;
  EXPECT_TRUE(check_roles(*roles, provider.app()));

  GraphSide graph(*http_, provider.credentials(), options("other@example.com"));
  auto created = apply_all(graph, {create(timed("Signed in by certificate", day(8)), "key-cert")});
  ASSERT_EQ(created.size(), 1u);
  auto listed = graph.list(window());
  ASSERT_TRUE(listed) << listed.error().message;
  const auto found = std::ranges::find(listed->first, created[0].ref, &SideItem::ref);
  ASSERT_NE(found, listed->first.end());
  EXPECT_EQ(found->item.subject, "Signed in by certificate");
  EXPECT_EQ(found->idempotency_key, IdempotencyKey("key-cert"));

  Write rename;
  rename.op = WriteOp::kUpdate;
  rename.ref = created[0].ref;
  rename.expected = found->version;
  rename.previous = found->item;
  rename.item = found->item;
  rename.item.subject = "Renamed by certificate";
  ASSERT_EQ(apply_all(graph, {rename}).size(), 1u);
  const json stored_item = stored("other@example.com", created[0].ref.str());
  ASSERT_TRUE(stored_item.is_object());
  EXPECT_EQ(stored_item["subject"], "Renamed by certificate");
}

TEST_F(GraphExsimTest, CertificateNotUploadedNamesWhereToUploadIt) {
  // A valid certificate Entra ID does not know for the app: AADSTS700027 in a JSON 401,
  // which now reaches the token error table.
  const auto other = testing::make_certificate(-1, 30);
  TokenProvider provider(*http_, certificate_app(kCertificateClient, other));
  auto token = provider.token();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(token.error().protocol_code, "AADSTS700027") << token.error().message;
  EXPECT_NE(token.error().message.find("Certificates & secrets"), std::string::npos)
      << token.error().message;
}

TEST_F(GraphExsimTest, EveryMappedFieldRoundTripsThroughExsim) {
  auto graph = side("other@example.com");
  Appointment html = timed("Planning", day(90, 8));
  html.time_zone = "Europe/Berlin";
  html.body = {BodyType::kHtml, "<p>Agenda</p>"};
  html.location = "Room 1";
  html.sensitivity = Sensitivity::kPrivate;
  html.show_as = ShowAs::kOutOfOffice;
  html.categories = {"Red category", "Kunde"};
  html.reminder = 15min;
  Appointment text = timed("Call", day(91, 15));
  text.time_zone = "America/New_York";
  text.body = {BodyType::kText, "plain\nsecond line"};
  text.sensitivity = Sensitivity::kConfidential;
  text.show_as = ShowAs::kTentative;
  text.reminder.reset();
  auto created =
      apply_all(graph, {create(html, "key-fields-html"), create(text, "key-fields-text")});
  ASSERT_EQ(created.size(), 2u);
  auto fetched = graph.fetch(std::vector<ItemRef>{created[0].ref, created[1].ref});
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const Appointment& want = i == 0 ? html : text;
    const Appointment& read = (*fetched)[i].item;
    EXPECT_EQ(read.subject, want.subject);
    EXPECT_EQ(read.body, want.body) << read.subject;
    EXPECT_EQ(read.location, want.location) << read.subject;
    EXPECT_EQ(read.start, want.start) << read.subject;
    EXPECT_EQ(read.end, want.end) << read.subject;
    EXPECT_EQ(read.time_zone, want.time_zone) << read.subject;
    EXPECT_EQ(read.sensitivity, want.sensitivity) << read.subject;
    EXPECT_EQ(read.show_as, want.show_as) << read.subject;
    EXPECT_EQ(read.categories, want.categories) << read.subject;
    EXPECT_EQ(read.reminder, want.reminder) << read.subject;
    EXPECT_TRUE(read.online_meeting_url.empty()) << read.subject;
  }
}

TEST_F(GraphExsimTest, PatternedRecurrencesRoundTripThroughExsim) {
  auto graph = side("other@example.com");
  struct Case {
    const char* rrule;
    bool all_day;
  };
  const Case cases[] = {
      {"FREQ=DAILY;INTERVAL=2;COUNT=5", true},
      {"FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6", false},
      {"FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4", false},
      {"FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", false},
      {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3", false},
      {"FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=2", true},
  };
  std::vector<Write> writes;
  for (const auto& test : cases) {
    auto rule = parse_rrule(test.rrule);
    ASSERT_TRUE(rule) << test.rrule;
    Appointment item = timed(test.rrule, day(100, 7));
    if (test.all_day) {
      item.all_day = true;
      item.start = floor<days>(item.start);
      item.end = item.start + days{1};
    }
    item.recurrence = Recurrence{*rule, {}, {}};
    // The first occurrence is the series' start, as Exchange requires.
    auto first = expand(item, item.start - days{1}, item.start + days{400});
    ASSERT_TRUE(first && !first->empty()) << test.rrule;
    const auto length = item.end - item.start;
    item.start = first->front().start;
    item.end = item.start + length;
    writes.push_back(create(item, std::string("key-rule-") + test.rrule));
  }
  auto created = apply_all(graph, writes);
  ASSERT_EQ(created.size(), writes.size());
  std::vector<ItemRef> refs;
  for (const auto& item : created) refs.push_back(item.ref);
  auto fetched = graph.fetch(refs);
  ASSERT_TRUE(fetched) << fetched.error().message;
  ASSERT_EQ(fetched->size(), writes.size());
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const Appointment& read = (*fetched)[i].item;
    ASSERT_TRUE(read.recurrence) << cases[i].rrule;
    EXPECT_EQ(format_rrule(read.recurrence->rule), format_rrule(writes[i].item.recurrence->rule))
        << cases[i].rrule;
    EXPECT_EQ(read.start, writes[i].item.start) << cases[i].rrule;
    EXPECT_EQ(read.all_day, cases[i].all_day) << cases[i].rrule;
    EXPECT_TRUE(read.recurrence->exdates.empty()) << cases[i].rrule;
    EXPECT_TRUE(read.recurrence->overrides.empty()) << cases[i].rrule;
  }
}

TEST_F(GraphExsimTest, IanaZonesAndOnlineMeetingsFromOtherClientsAreRead) {
  // Outlook on the web and Teams: an IANA zone name and an online meeting.
  auto graph = side("other@example.com");
  const Instant at = day(95, 14);
  const auto chicago = to_local(at, "America/Chicago");
  ASSERT_TRUE(chicago);
  const json made = graph_call(
      "POST", "/users/other@example.com/events",
      {{"subject", "Teams call"},
       {"start", {{"dateTime", format_date_time(*chicago)}, {"timeZone", "America/Chicago"}}},
       {"end", {{"dateTime", format_date_time(*chicago + 1h)}, {"timeZone", "America/Chicago"}}},
       {"isOnlineMeeting", true}});
  ASSERT_TRUE(made.is_object() && made.contains("id")) << made.dump();
  const ItemRef ref(made["id"].get<std::string>());
  auto fetched = graph.fetch(std::vector<ItemRef>{ref});
  ASSERT_TRUE(fetched && fetched->size() == 1u);
  const Appointment& read = fetched->front().item;
  EXPECT_EQ(read.start, at);
  EXPECT_EQ(read.end, at + 1h);
  EXPECT_EQ(read.time_zone, "America/Chicago");
  EXPECT_TRUE(read.online_meeting_url.starts_with("https://teams.microsoft.com/"))
      << read.online_meeting_url;
}

}  // namespace
}  // namespace agendasync::graph
