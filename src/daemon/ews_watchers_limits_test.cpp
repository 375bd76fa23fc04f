// The grouped EWS watchers living within Exchange's notification limits, against exsim with
// those limits on (tools/exsim/README.md, the limits table's "product-side test" column):
// EWSMaxSubscriptions reached (ErrorExceededSubscriptionCount: said clearly, the mailboxes
// polled, Subscribe retried with a growing back-off, not hammered), lost events
// (ErrorMissedNotificationEvents), a mailbox server's restart (its subscriptions gone, its
// streams cut) and the expiry of unread subscriptions (an open stream keeps them alive).
// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/handling-notification-related-errors-in-ews
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>

#include "daemon/ews_watchers.h"
#include "daemon/watchers_test_support.h"
#include "service/log.h"
#include "service/metrics.h"
#include "store/sqlite_agenda_store.h"
#include "tests/e2e/world.h"

namespace agendasync::daemon {
namespace {

using namespace std::chrono_literals;

using testing::eventually;
using testing::Woken;

/// Every log line of this process (the watchers log through the service logger).
struct Logs {
  std::mutex mutex;
  std::ostringstream stream;
  static Logs& get() {
    static Logs* logs = [] {
      auto* made = new Logs;
      service::add_log_sink(std::make_shared<spdlog::sinks::ostream_sink_mt>(made->stream, true));
      return made;
    }();
    return *logs;
  }
  std::string text() { return stream.str(); }
  /// Lines naming `needle`.
  std::size_t count(const std::string& needle) {
    std::istringstream in(text());
    std::size_t found = 0;
    for (std::string line; std::getline(in, line);) found += line.find(needle) != line.npos;
    return found;
  }
  void clear() { stream.str(""); }
};

/// exsim with a JSON config of its own: the delegate account (full access, no impersonation)
/// and the limits `extra` sets.
e2e::WorldOptions world_options(const std::string& name, const std::string& extra) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("exsim-limits-" + name + "-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << R"({"accounts": [{"user": "deleg@example.com", "password": "s3cret",
                                         "full_access": ["*"]}])"
                      << extra << "}";
  e2e::WorldOptions options;
  options.exsim_args = {"--config", path.string()};
  return options;
}

constexpr const char* kUsers[] = {"JDOE", "ASMITH", "BWAYNE", "CKENT"};

class WatcherLimits : public ::testing::Test {
 protected:
  /// `extra`: exsim config members after the accounts (", \"max_subscriptions\": 2").
  void start_world(const std::string& name, const std::string& extra, bool delegate = false) {
    world_ = std::make_unique<e2e::World>(world_options(name, extra));
    for (const char* user : kUsers) world_->add_user(user);
    std::string text;
    {
      std::ifstream in(world_->config_path());
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (delegate) {
      const std::string service = "user = \"svc@example.com\"";
      const auto at = text.find(service);
      ASSERT_NE(at, std::string::npos) << text;
      text.replace(at, service.size(),
                   "user = \"deleg@example.com\"\naccess = \"delegate\"\n"
                   "streaming_connections = 1");
    }
    auto parsed = config::parse_config(text, world_->config_path());
    ASSERT_TRUE(parsed) << parsed.error().message;
    config_ = *parsed;
    auto opened = store::open_sqlite_agenda_store(world_->database_path());
    ASSERT_TRUE(opened) << opened.error().message;
    agenda_ = std::move(*opened);
  }

  std::unique_ptr<MailboxWatchers> start(WatcherOptions options) {
    options.metrics = &metrics_;
    auto started = MailboxWatchers::start(
        config_, *agenda_, [this](const std::string& user) { woken_.add(user); }, options);
    EXPECT_TRUE(started) << started.error().message;
    return started ? std::move(*started) : nullptr;
  }

  /// Every mailbox watched, each woken once by its subscription's catch-up run, then quiet.
  void expect_all_watched(MailboxWatchers& watchers) {
    ASSERT_TRUE(eventually([&] { return watchers.stats().watched == 4; }));
    for (const char* user : kUsers)
      ASSERT_TRUE(eventually([&] { return woken_.count(user) >= 1; }, 5s)) << user;
    std::this_thread::sleep_for(300ms);
    woken_.clear();
  }

  std::unique_ptr<e2e::World> world_;
  config::Config config_;
  Woken woken_;
  service::Metrics metrics_;
  std::unique_ptr<store::AgendaStore> agenda_;
};

// EWSMaxSubscriptions (exsim `max_subscriptions`, lowered to 2): in delegate mode every
// subscription is charged to the service account, so the third is refused with
// ErrorExceededSubscriptionCount. The watchers say so (naming the limit and what to raise),
// poll the mailboxes left over, keep streaming the two subscribed ones, and retry Subscribe
// with a growing back-off instead of hammering Exchange.
TEST_F(WatcherLimits, ExceededSubscriptionCountIsSaidOncePerBackOffAndTheRestArePolled) {
  start_world("subscriptions", R"(, "max_subscriptions": 2)", /*delegate=*/true);
  Logs::get().clear();
  WatcherOptions options;
  options.max_group_size = 4;  // one group; the account's one stream
  options.refresh = 200ms;
  options.poll_unwatched = 500ms;
  options.retry_delay = 200ms;
  options.restart_after = 2s;
  auto watchers = start(options);
  ASSERT_TRUE(watchers);
  ASSERT_TRUE(eventually([&] { return watchers->stats().watched == 2; }));
  EXPECT_EQ(watchers->stats().unwatched, 2u);
  ASSERT_TRUE(eventually([&] { return Logs::get().count("ErrorExceededSubscriptionCount") > 0; }))
      << Logs::get().text();
  const std::string logs = Logs::get().text();
  EXPECT_NE(logs.find("EWSMaxSubscriptions"), std::string::npos) << logs;
  EXPECT_NE(logs.find("polled"), std::string::npos) << logs;

  // For 3 s: the two unsubscribed mailboxes are polled (synced without a change); the
  // refused Subscribe is tried again after 200, 400, 800 ms, then every 2 s: a handful of
  // attempts, each logged once; a retry without back-off would be dozens.
  const auto watched = watchers->watched();
  ASSERT_EQ(watched.size(), 2u);
  std::vector<std::string> polled;
  for (const char* user : kUsers) {
    if (std::find(watched.begin(), watched.end(), user) == watched.end()) polled.push_back(user);
  }
  ASSERT_EQ(polled.size(), 2u);
  woken_.clear();
  Logs::get().clear();
  std::this_thread::sleep_for(3s);
  for (const auto& user : polled) EXPECT_GE(woken_.count(user), 3u) << user << " is not polled";
  const std::size_t attempts = Logs::get().count("ErrorExceededSubscriptionCount");
  EXPECT_GE(attempts, 1u) << "Subscribe is never tried again";
  EXPECT_LE(attempts, 5u) << Logs::get().text();
  EXPECT_EQ(watchers->stats().watched, 2u);

  // The subscribed ones still wake on a change.
  std::string lower = watched.front();
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  woken_.clear();
  world_->outlook_create(lower + "@example.com", "Still streamed",
                         Instant(std::chrono::hours(500'020)));
  EXPECT_TRUE(eventually([&] { return woken_.count(watched.front()) > 0; }));
}

// Lost events (exsim admin drop-events: the next change of the mailbox is not reported and the
// stream answers ErrorMissedNotificationEvents for its subscription): the mailbox is synced at
// once (what was lost is read by its pair's run), subscribed again, and later changes wake it.
TEST_F(WatcherLimits, MissedNotificationEventsSyncTheMailboxAndSubscribeItAgain) {
  start_world("missed", "");
  WatcherOptions options;
  options.refresh = 200ms;
  auto watchers = start(options);
  ASSERT_TRUE(watchers);
  expect_all_watched(*watchers);

  world_->admin("POST", "/exsim/admin/mailboxes/jdoe@example.com/drop-events", {{"next", 1}});
  world_->outlook_create("jdoe@example.com", "Lost", Instant(std::chrono::hours(500'030)));
  ASSERT_TRUE(eventually([&] { return woken_.count("JDOE") > 0; }));
  ASSERT_TRUE(eventually([&] { return watchers->stats().watched == 4; }));
  std::this_thread::sleep_for(500ms);
  woken_.clear();
  world_->outlook_create("jdoe@example.com", "Seen", Instant(std::chrono::hours(500'031)));
  EXPECT_TRUE(eventually([&] { return woken_.count("JDOE") > 0; }));
}

// A mailbox server restarts (exsim admin restart): its subscriptions are gone and its streams
// cut. Every mailbox is synced (changes during the gap are not lost), subscribed again and
// streamed; a later change wakes its user.
TEST_F(WatcherLimits, AServerRestartResubscribesAndSyncsEveryMailbox) {
  start_world("restart", "");
  WatcherOptions options;
  options.refresh = 200ms;
  options.retry_delay = 200ms;
  auto watchers = start(options);
  ASSERT_TRUE(watchers);
  expect_all_watched(*watchers);

  const auto restarted = world_->admin("POST", "/exsim/admin/mailbox-servers/1/restart");
  ASSERT_EQ(restarted.value("subscriptions_removed", 0), 4) << restarted.dump();
  for (const char* user : kUsers)
    EXPECT_TRUE(eventually([&] { return woken_.count(user) > 0; })) << user << " not synced";
  ASSERT_TRUE(eventually([&] {
    return watchers->stats().watched == 4 &&
           world_->admin("GET", "/exsim/admin/streaming").value("subscriptions", 0) == 4;
  }));
  std::this_thread::sleep_for(500ms);
  woken_.clear();
  world_->outlook_create("bwayne@example.com", "After", Instant(std::chrono::hours(500'040)));
  EXPECT_TRUE(eventually([&] { return woken_.count("BWAYNE") > 0; }));
}

// Unread streaming subscriptions expire (exsim `subscription_lifetime_seconds`, lowered to
// 1 s): the watchers open the group's stream right after subscribing and keep it open, so no
// subscription goes unread long enough to expire: 2.5 s later none was lost (no mailbox synced
// again, exsim still holds the four) and a change still wakes its user.
TEST_F(WatcherLimits, AnOpenStreamKeepsTheSubscriptionsFromExpiring) {
  start_world("expiry", R"(, "subscription_lifetime_seconds": 1)");
  WatcherOptions options;
  options.refresh = 200ms;
  auto watchers = start(options);
  ASSERT_TRUE(watchers);
  expect_all_watched(*watchers);
  std::this_thread::sleep_for(2500ms);
  for (const char* user : kUsers) EXPECT_EQ(woken_.count(user), 0u) << user;
  EXPECT_EQ(world_->admin("GET", "/exsim/admin/streaming").value("subscriptions", 0), 4);
  EXPECT_EQ(watchers->stats().watched, 4u);
  world_->outlook_create("ckent@example.com", "Kept", Instant(std::chrono::hours(500'050)));
  EXPECT_TRUE(eventually([&] { return woken_.count("CKENT") > 0; }));
}

}  // namespace
}  // namespace agendasync::daemon
