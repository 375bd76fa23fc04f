// The grouped EWS watchers against the real exsim (issue 14): one stream per group of at most
// max_group_size mailboxes, each change waking exactly its own user, a user added later
// joining a group, and a mailbox Exchange refuses to subscribe polled instead of watched.
#include "daemon/ews_watchers.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "connectors/ews/grouping.h"
#include "daemon/watchers_test_support.h"
#include "service/metrics.h"
#include "store/sqlite_agenda_store.h"
#include "tests/e2e/world.h"

namespace agendasync::daemon {
namespace {

using namespace std::chrono_literals;

using testing::eventually;
using testing::Woken;

/// exsim also knows a delegate: an account with full access to every mailbox and no
/// impersonation right (R3's delegate mode).
e2e::WorldOptions world_options() {
  static const auto config = [] {
    const auto path = std::filesystem::temp_directory_path() /
                      ("exsim-delegate-" + std::to_string(::getpid()) + ".json");
    std::ofstream(path) << R"({"accounts": [{"user": "deleg@example.com", "password": "s3cret",
                                           "full_access": ["*"]}]})";
    return path;
  }();
  e2e::WorldOptions options;
  options.exsim_args = {"--config", config.string()};
  // One-mailbox organisations of ManyOrganisationsWatchOnTheNodesFewThreads.
  for (int i = 0; i < 16; ++i)
    options.mailboxes.push_back("org" + std::to_string(i) + "@example.com");
  return options;
}

struct WatchersTest : ::testing::Test {
  e2e::World world{world_options()};
  config::Config config;
  Woken woken;
  service::Metrics metrics;
  /// The watchers' own agenda connection (they read it on their refresh thread).
  std::unique_ptr<store::AgendaStore> agenda;

  void SetUp() override {
    for (const char* user : {"JDOE", "ASMITH", "BWAYNE", "CKENT"}) world.add_user(user);
    auto loaded = config::load_config(world.config_path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    config = *loaded;
    auto opened = store::open_sqlite_agenda_store(world.database_path());
    ASSERT_TRUE(opened) << opened.error().message;
    agenda = std::move(*opened);
  }

  std::unique_ptr<MailboxWatchers> start(WatcherOptions options) {
    options.metrics = &metrics;
    auto started = MailboxWatchers::start(
        config, *agenda, [this](const std::string& user) { woken.add(user); }, options);
    EXPECT_TRUE(started) << started.error().message;
    return started ? std::move(*started) : nullptr;
  }
};

TEST_F(WatchersTest, GroupsShareOneStreamAndEachChangeWakesOnlyItsUser) {
  WatcherOptions options;
  options.max_group_size = 2;  // 4 mailboxes -> 2 streams
  options.refresh = 200ms;
  auto watchers = start(options);
  ASSERT_TRUE(watchers);
  ASSERT_TRUE(eventually([&] { return watchers->stats().watched == 4; }));
  const WatchStats stats = watchers->stats();
  EXPECT_EQ(stats.groups, 2u);
  EXPECT_EQ(stats.streams, 2u);
  EXPECT_EQ(stats.unwatched, 0u);
  EXPECT_TRUE(eventually([&] {
    return metrics.value(service::metric::kWatchedMailboxes,
                         {{"org", "default"}, {"backend", "ews"}, {"state", "watched"}}) == 4 &&
           metrics.value(service::metric::kStreamingConnections, {{"org", "default"}}) == 2;
  }));
  // The subscriptions' catch-up runs (one each) are done before the changes below.
  for (const char* user : {"JDOE", "ASMITH", "BWAYNE", "CKENT"}) {
    ASSERT_TRUE(eventually([&] { return woken.count(user) == 1; }, 5s)) << user;
  }

  woken.clear();
  world.outlook_create("ckent@example.com", "Made in Outlook",
                       Instant(std::chrono::hours(500'000)));
  ASSERT_TRUE(eventually([&] { return woken.count("CKENT") > 0; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(woken.count("JDOE") + woken.count("ASMITH") + woken.count("BWAYNE"), 0u)
      << "only the changed mailbox's pair wakes";

  // A user added later joins a group with room (or a new one) and is watched too.
  world.add_user("DIANA", true, false, "diana.prince@example.com");
  ASSERT_TRUE(eventually([&] { return watchers->stats().watched == 5; }));
  EXPECT_EQ(watchers->stats().streams, 3u);
  // Her catch-up run (and, had she joined a group with a live stream, its members' runs:
  // that stream was closed for the new set of ids) comes first; then only changes wake.
  ASSERT_TRUE(eventually([&] { return woken.count("DIANA") == 1; }, 5s));
  std::this_thread::sleep_for(300ms);
  woken.clear();
  world.outlook_create("diana.prince@example.com", "Hers", Instant(std::chrono::hours(500'001)));
  EXPECT_TRUE(eventually([&] { return woken.count("DIANA") > 0; }));
  // ...and the first groups still deliver.
  world.outlook_create("jdoe@example.com", "His", Instant(std::chrono::hours(500'002)));
  EXPECT_TRUE(eventually([&] { return woken.count("JDOE") > 0; }));
  watchers->stop();
  EXPECT_EQ(watchers->stats().streams, 0u);
}

TEST_F(WatchersTest, AMailboxExchangeRefusesIsPolledWhileTheOthersStream) {
  world.add_user("GHOST", true, false, "ghost@example.com");  // no such mailbox in exsim
  WatcherOptions options;
  options.refresh = 200ms;
  options.poll_unwatched = 500ms;
  auto watchers = start(options);
  ASSERT_TRUE(watchers);
  ASSERT_TRUE(eventually([&] { return watchers->stats().watched == 4; }));
  EXPECT_EQ(watchers->stats().unwatched, 1u);
  // Each new subscription wakes its pair once: what changed before it existed is synced now.
  for (const char* user : {"JDOE", "ASMITH", "BWAYNE", "CKENT"}) {
    EXPECT_TRUE(eventually([&] { return woken.count(user) == 1; }, 5s)) << user;
  }
  woken.clear();
  // Polled: woken without any change, every poll interval; the watched are not.
  EXPECT_TRUE(eventually([&] { return woken.count("GHOST") >= 2; }, 10s));
  EXPECT_EQ(woken.count("JDOE"), 0u);
}

TEST_F(WatchersTest, DelegateModeHoldsTheAccountsStreamingBudgetAndPollsTheRest) {
  // The same organisation through a delegate: every stream is charged to the one account,
  // which may hold a single streaming connection here.
  std::string text;
  {
    std::ifstream in(world.config_path());
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto user_line = text.find("user = \"svc@example.com\"");
  ASSERT_NE(user_line, std::string::npos) << text;
  text.replace(user_line, std::string("user = \"svc@example.com\"").size(),
               "user = \"deleg@example.com\"\naccess = \"delegate\"\n"
               "streaming_connections = 1");
  auto parsed = config::parse_config(text, world.config_path());
  ASSERT_TRUE(parsed) << parsed.error().message;
  config = *parsed;
  ASSERT_EQ(config.exchange.access, config::EwsAccess::kDelegate);

  WatcherOptions options;
  options.max_group_size = 2;  // 4 mailboxes -> 2 groups, budget for 1 stream
  options.refresh = 200ms;
  options.poll_unwatched = 500ms;
  auto watchers = start(options);
  ASSERT_TRUE(watchers);
  ASSERT_TRUE(eventually([&] { return watchers->stats().watched == 2; }));
  std::this_thread::sleep_for(500ms);
  const WatchStats stats = watchers->stats();
  EXPECT_EQ(stats.streams, 1u);
  EXPECT_EQ(stats.watched, 2u);
  EXPECT_EQ(stats.unwatched, 2u);
  // The watched ones wake on a change; the others are polled without one.
  const auto watched = watchers->watched();
  ASSERT_EQ(watched.size(), 2u);
  std::string unwatched_user;
  for (const char* user : {"JDOE", "ASMITH", "BWAYNE", "CKENT"}) {
    if (std::find(watched.begin(), watched.end(), user) == watched.end()) unwatched_user = user;
  }
  EXPECT_TRUE(eventually([&] { return woken.count(unwatched_user) >= 2; }, 10s));
  std::string lower = watched.front();
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  woken.clear();
  world.outlook_create(lower + "@example.com", "Delegate sees it",
                       Instant(std::chrono::hours(500'003)));
  EXPECT_TRUE(eventually([&] { return woken.count(watched.front()) > 0; }));
}

/// The watchers' streaming client with Autodiscover switched off and on, as when the
/// Autodiscover service (or its DNS name) is down while EWS answers: its requests fail as a
/// refused connection would, and are counted.
class AutodiscoverSwitch final : public net::HttpClient {
 public:
  explicit AutodiscoverSwitch(std::shared_ptr<net::HttpClient> inner) : inner_(std::move(inner)) {}
  std::atomic<bool> down{true};
  std::atomic<int> asked{0};

  Result<net::Response> send(const net::Request& request,
                             const net::Credentials& credentials) override {
    if (is_autodiscover(request)) {
      ++asked;
      if (down) return fail(ErrorKind::kTransient, "connection refused (test: Autodiscover down)");
    }
    return inner_->send(request, credentials);
  }
  void send_async(net::Request request, net::Credentials credentials,
                  std::function<void(Result<net::Response>)> done) override {
    if (is_autodiscover(request)) {
      ++asked;
      if (down) {
        done(fail(ErrorKind::kTransient, "connection refused (test: Autodiscover down)"));
        return;
      }
    }
    inner_->send_async(std::move(request), std::move(credentials), std::move(done));
  }

 private:
  static bool is_autodiscover(const net::Request& request) {
    return request.url.find("/autodiscover/") != std::string::npos;
  }
  std::shared_ptr<net::HttpClient> inner_;
};

TEST_F(WatchersTest, AutodiscoverDownGroupsByTheUrlAndIsAskedAgainOnlyAfterABackOff) {
  // Every refresh (here every 200 ms) would ask Autodiscover again for the mailboxes it did
  // not resolve: a node with thousands of mailboxes behind a dead Autodiscover would spend
  // its shared refresh threads on connection timeouts. It is asked again after a back-off
  // that doubles, and the mailboxes are watched by their EWS URL meanwhile.
  WatcherOptions options;
  options.shared = WatcherThreads::make(4, 2, watcher_client_options(config), /*trust=*/nullptr);
  auto autodiscover = std::make_shared<AutodiscoverSwitch>(options.shared->streams);
  options.shared->streams = autodiscover;
  options.refresh = 200ms;
  options.grouping_retry = 1s;
  options.grouping_retry_max = 2s;
  auto watchers = start(options);
  ASSERT_TRUE(watchers);
  ASSERT_TRUE(eventually([&] { return watchers->stats().watched == 4; }))
      << "grouped by the EWS URL alone, every mailbox is still watched";
  const int endpoints = static_cast<int>(
      ews::grouping_endpoints(config.exchange.url, config.exchange.mail_domain).size());
  const int first = autodiscover->asked.load();
  EXPECT_GE(first, endpoints) << "a failed lookup asks every endpoint";
  // 2.5 s = 12 refreshes: without a back-off 12 more lookups (each asking every endpoint);
  // with it the lookups at ~1 s and ~3 s (1 s, then doubled to the 2 s cap) at most.
  std::this_thread::sleep_for(2500ms);
  EXPECT_LE(autodiscover->asked.load() - first, 2 * endpoints)
      << "Autodiscover asked " << autodiscover->asked.load() << " times in 2.5 s";
  EXPECT_GE(autodiscover->asked.load() - first, endpoints) << "asked again after the back-off";

  // A change still wakes its user through the URL-only group.
  woken.clear();
  world.outlook_create("bwayne@example.com", "Autodiscover down",
                       Instant(std::chrono::hours(500'020)));
  EXPECT_TRUE(eventually([&] { return woken.count("BWAYNE") > 0; }));

  // Autodiscover back: the next lookup (within the 2 s cap) resolves the mailboxes, and then
  // nothing is asked again while the users stay as they are.
  autodiscover->down = false;
  const int before_recovery = autodiscover->asked.load();
  ASSERT_TRUE(eventually([&] { return autodiscover->asked.load() > before_recovery; }, 5s));
  std::this_thread::sleep_for(1s);
  const int resolved = autodiscover->asked.load();
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(autodiscover->asked.load(), resolved) << "resolved mailboxes are not looked up again";
  EXPECT_TRUE(eventually([&] { return watchers->stats().watched == 4; }));
  woken.clear();
  world.outlook_create("asmith@example.com", "Autodiscover back",
                       Instant(std::chrono::hours(500'021)));
  EXPECT_TRUE(eventually([&] { return woken.count("ASMITH") > 0; }));
  watchers->stop();
}

/// Threads of this process now.
std::size_t thread_count() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ++count;
  return count;
}

TEST_F(WatchersTest, ManyOrganisationsWatchOnTheNodesFewThreads) {
  // 16 organisations of one mailbox each on one node: the node's shared threads carry them
  // all. A set of threads per organisation (4 control, a refresher, a client loop) would
  // add ~100 threads here, and thousands on a node of many small customers.
  constexpr int kOrganisations = 16;
  std::vector<std::string> users;
  for (int i = 0; i < kOrganisations; ++i) {
    users.push_back("ORG" + std::to_string(i));
    world.add_user(users.back());
  }
  const std::size_t before = thread_count();
  WatcherOptions shared_options;
  shared_options.shared =
      WatcherThreads::make(4, 2, watcher_client_options(config), /*trust=*/nullptr);
  std::vector<std::unique_ptr<MailboxWatchers>> organisations;
  for (const auto& user : users) {
    WatcherOptions options = shared_options;
    options.refresh = 200ms;
    options.org = user;
    std::string mailbox = user;
    std::transform(mailbox.begin(), mailbox.end(), mailbox.begin(), ::tolower);
    mailbox += "@example.com";
    options.mailboxes = [user, mailbox] {
      return Result<std::map<std::string, std::string>>(
          std::map<std::string, std::string>{{user, mailbox}});
    };
    organisations.push_back(start(options));
    ASSERT_TRUE(organisations.back());
  }
  for (auto& organisation : organisations) {
    ASSERT_TRUE(eventually([&] { return organisation->stats().watched == 1; }));
  }
  const std::size_t during = thread_count();
  EXPECT_LE(during - before, 12u) << "threads grew with the organisations: " << before << " -> "
                                  << during;

  // Each organisation's changes still wake its own pair; stopping one leaves the others.
  woken.clear();
  organisations.front()->stop();
  world.outlook_create("org5@example.com", "Org 5's", Instant(std::chrono::hours(500'010)));
  EXPECT_TRUE(eventually([&] { return woken.count("ORG5") > 0; }));
  world.outlook_create("org0@example.com", "Org 0's", Instant(std::chrono::hours(500'011)));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(woken.count("ORG0"), 0u) << "a stopped organisation's watchers still wake it";
  for (auto& organisation : organisations) organisation->stop();
  EXPECT_EQ(organisations.back()->stats().streams, 0u);
}

}  // namespace
}  // namespace agendasync::daemon
