// Real time for a whole organisation over EWS (issue 14), with real processes: exsim holding
// 1,000 mailboxes on 4 mailbox servers with Exchange's limits on (3 hanging connections per
// charged account, affinity, at most 200 subscriptions per stream), `agendasync serve`
// syncing all of them, and exchangelib making Outlook's changes. Asserts that a change in any
// mailbox reaches the host change feed within 2 s through the streaming wake-up (the safety
// net is an hour away), with sum(ceil(n/200)) streaming connections and a bounded number of
// threads, and that a mailbox-server restart, lost events and partly unknown subscription
// ids are recovered without losing a change.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sstream>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/demo/serve_process.h"
#include "tests/demo/serve_test_support.h"
#include "tests/e2e/world.h"

namespace agendasync::scaletest {
namespace {

using demotest::Api;
using demotest::eventually;
using demotest::ServeProcess;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kMailboxes = 1000;
constexpr int kServers = 4;

std::string mailbox(int i) { return fmt::format("u{:04}@example.com", i); }
std::string user(int i) { return fmt::format("U{:04}", i); }

/// tests/scale/outlook_writer.py as a child: one line in per change, one line out when EWS
/// acknowledged it.
class OutlookWriter {
 public:
  OutlookWriter(const std::string& ews_url, const std::string& ca) {
    int in[2];
    int out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      const std::string script =
          std::string(AGENDASYNC_SOURCE_DIR) + "/tests/scale/outlook_writer.py";
      execl("/usr/bin/python3", "python3", script.c_str(), ews_url.c_str(), ca.c_str(),
            "svc@example.com", "s3cret", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
    if (read_line() != "ready") throw std::runtime_error("outlook_writer.py did not start");
  }
  ~OutlookWriter() {
    if (to_) fclose(to_);
    if (from_) fclose(from_);
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  /// Creates an item with `subject` in `address`; the wall-clock time EWS acknowledged it.
  std::chrono::system_clock::time_point create(const std::string& address,
                                               const std::string& subject) {
    std::fprintf(to_, "%s %s\n", address.c_str(), subject.c_str());
    std::fflush(to_);
    const std::string line = read_line();
    const auto space = line.rfind(' ');
    if (space == std::string::npos || line.substr(0, space) != subject)
      throw std::runtime_error("outlook_writer.py said: " + line);
    return std::chrono::system_clock::time_point(
        std::chrono::milliseconds(std::stoll(line.substr(space + 1))));
  }

 private:
  std::string read_line() {
    char buffer[512];
    if (!std::fgets(buffer, sizeof buffer, from_)) return {};
    std::string line(buffer);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

int thread_count(pid_t pid) {
  int threads = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid)))
    ++threads;
  return threads;
}

struct ScaleWorld {
  std::unique_ptr<e2e::World> world;
  std::unique_ptr<ServeProcess> serve;
  std::unique_ptr<Api> api;

  ScaleWorld() {
    e2e::WorldOptions options;
    options.mailboxes.clear();
    for (int i = 0; i < kMailboxes; ++i) options.mailboxes.push_back(mailbox(i));
    options.exsim_args = {"--mailbox-servers", std::to_string(kServers)};
    world = std::make_unique<e2e::World>(options);
    for (int i = 0; i < kMailboxes; ++i) world->add_user(user(i), true, false, mailbox(i));
    const std::string bearer = demotest::integration_token(*world);
    world->close_store();
    serve = std::make_unique<ServeProcess>(
        e2e::agendasync_binary(),
        std::vector<std::string>{"--config", world->config_path().string(), "serve", "--listen",
                                 "127.0.0.1:0", "--safety-net-minutes", "60",
                                 "--watch-refresh-seconds", "2", "--workers", "4"},
        world->dir() / "serve.log");
    api = std::make_unique<Api>(serve->port(), bearer);
  }

  double watched() {
    return api->metric("agendasync_watched_mailboxes",
                       {{"org", "default"}, {"backend", "ews"}, {"state", "watched"}});
  }

  /// Waits until `subject` is an appointment in the host change feed after `since`.
  bool in_feed(std::int64_t& since, const std::string& subject, std::chrono::milliseconds limit) {
    return eventually(
        [&] {
          auto [code, feed] = api->call("GET", "/api/v1/changes?since=" + std::to_string(since));
          if (code != 200) return false;
          for (const auto& change : feed.at("changes")) {
            const auto id = change.at("id").is_string() ? change.at("id").get<std::string>()
                                                        : change.at("id").dump();
            auto [item_code, item] = api->call("GET", "/api/v1/appointments/" + id);
            if (item_code == 200 && item.value("subject", "") == subject) return true;
          }
          since = feed.at("next").get<std::int64_t>();
          return false;
        },
        limit);
  }

  std::int64_t feed_head() {
    std::int64_t since = 0;
    for (;;) {
      auto [code, page] =
          api->call("GET", "/api/v1/changes?limit=1000&since=" + std::to_string(since));
      EXPECT_EQ(code, 200) << page.dump();
      if (code != 200 || page.at("changes").empty()) return since;
      since = page.at("next").get<std::int64_t>();
    }
  }
};

TEST(EwsRealTimeScale, AThousandMailboxesOnFourServersWakeWithinTwoSeconds) {
  ScaleWorld scale;
  // Every mailbox subscribed, on sum(ceil(250/200)) over 4 servers = 8 streams.
  ASSERT_TRUE(eventually([&] { return scale.watched() == kMailboxes; }, 180s))
      << "watched: " << scale.watched() << "\n"
      << scale.serve->log().substr(0, 4000);
  EXPECT_EQ(scale.api->metric("agendasync_streaming_connections", {{"org", "default"}}), 8);
  EXPECT_LT(thread_count(scale.serve->pid()), 64);
  // Let the start-up catch-up syncs of 1,000 pairs finish so they do not queue the wake-ups.
  ASSERT_TRUE(eventually(
      [&] {
        return scale.api->metric("agendasync_sync_queue_depth") == 0 &&
               scale.api->metric("agendasync_syncs_running") == 0;
      },
      300s));

  OutlookWriter outlook(scale.world->exsim().ews_url(), scale.world->exsim().ca_path());
  std::mt19937 random(20261207);
  std::int64_t since = scale.feed_head();
  std::vector<double> latencies;
  for (int change = 0; change < 20; ++change) {
    const int i = std::uniform_int_distribution<int>(0, kMailboxes - 1)(random);
    const std::string subject = fmt::format("Outlook-{}-{}", change, i);
    const auto acknowledged = outlook.create(mailbox(i), subject);
    ASSERT_TRUE(scale.in_feed(since, subject, 10s))
        << subject << " in " << mailbox(i) << " never reached the feed";
    latencies.push_back(
        std::chrono::duration<double>(std::chrono::system_clock::now() - acknowledged).count());
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("wake-to-feed latency over 20 changes: p50 %.3f s, max %.3f s\n",
              latencies[latencies.size() / 2], latencies.back());
  EXPECT_LE(latencies.back(), 2.0);
  EXPECT_EQ(scale.api->metric("agendasync_streaming_connections", {{"org", "default"}}), 8);
  EXPECT_LT(thread_count(scale.serve->pid()), 64);
  // exsim's own count: 8 open streams, each charged to its own anchor mailbox.
  const auto streaming = scale.world->admin("GET", "/exsim/admin/streaming");
  EXPECT_EQ(streaming.value("open_streams", -1), 8) << streaming.dump();

  // A mailbox server restarts: its 250 subscriptions vanish and its streams are cut. A change
  // made meanwhile in one of its mailboxes (mailbox 5 lives on server 2) is not lost: the
  // daemon finds its subscriptions gone, syncs those mailboxes and subscribes them again.
  scale.world->admin("POST", "/exsim/admin/mailbox-servers/2/restart");
  outlook.create(mailbox(5), "During-restart");
  EXPECT_TRUE(scale.in_feed(since, "During-restart", 60s)) << "lost in the restart";
  ASSERT_TRUE(eventually([&] { return scale.watched() == kMailboxes; }, 120s))
      << "resubscribed: " << scale.watched();
  // The 250 mailboxes of that server were synced again (their subscriptions were lost):
  // wait for those runs, then a change on the server is as quick as before.
  ASSERT_TRUE(eventually(
      [&] {
        return scale.api->metric("agendasync_sync_queue_depth") == 0 &&
               scale.api->metric("agendasync_syncs_running") == 0;
      },
      120s));
  const std::string after_restart = "After-restart";
  const auto acknowledged = outlook.create(mailbox(9), after_restart);  // server 2 again
  ASSERT_TRUE(scale.in_feed(since, after_restart, 10s));
  EXPECT_LE(std::chrono::duration<double>(std::chrono::system_clock::now() - acknowledged).count(),
            2.0);

  // Lost events: exsim drops mailbox 10's next change and reports
  // ErrorMissedNotificationEvents for its subscription only (ErrorSubscriptionIds); the
  // daemon syncs that mailbox and subscribes it again, the rest of its stream goes on.
  scale.world->admin("POST", "/exsim/admin/mailboxes/" + mailbox(10) + "/drop-events",
                     json{{"next", 1}});
  outlook.create(mailbox(10), "Dropped-event");
  EXPECT_TRUE(scale.in_feed(since, "Dropped-event", 30s)) << "lost with the dropped event";
  outlook.create(mailbox(14), "Same-stream");  // server 3, mailbox 10's group
  EXPECT_TRUE(scale.in_feed(since, "Same-stream", 10s)) << [&] {
    // The daemon's account of the watchers and of mailboxes 10 and 14, for the reader.
    std::string lines;
    std::istringstream log(scale.serve->log());
    for (std::string line; std::getline(log, line);) {
      if (line.find("mailbox_watch") != std::string::npos ||
          line.find(mailbox(10)) != std::string::npos ||
          line.find(mailbox(14)) != std::string::npos || line.find(user(10)) != std::string::npos ||
          line.find(user(14)) != std::string::npos)
        lines += line.substr(0, 400) + "\n";
    }
    return lines.substr(lines.size() > 12000 ? lines.size() - 12000 : 0);
  }();
  ASSERT_TRUE(eventually([&] { return scale.watched() == kMailboxes; }, 60s));
  EXPECT_EQ(scale.api->metric("agendasync_streaming_connections", {{"org", "default"}}), 8);
}

}  // namespace
}  // namespace agendasync::scaletest
