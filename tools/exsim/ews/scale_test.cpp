// exsim holding an organisation: 1,000 mailboxes on four Mailbox servers with Exchange's
// limits on, grouped the way Microsoft's affinity page says (at most 200 per group, one
// connection per group impersonating its anchor: 8 streams), while other clients sync. Every
// change must reach its group's stream within a second, and the sync requests must not wait
// behind the streams. Label `scale`: the optimised build runs it.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exsim/ews/streaming_test_support.h"

namespace exsim::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Group {
  std::vector<int> members;  // mailbox numbers, the anchor first
  std::string cookie;
  std::map<int, std::string> subscription;  // mailbox -> subscription id
  std::unique_ptr<Stream> stream;
};

TEST(Scale, ThousandMailboxesOnFourServersStreamOnEightConnectionsWhileOthersSync) {
  constexpr int kMailboxes = 1000;
  ServerConfig config = config_with_mailboxes(kMailboxes);
  config.mailbox_servers = 4;
  config.streaming_keepalive_seconds = 10;
  Exsim exsim(config);

  // Group by server (GroupingInformation), alphabetically, at most 200 per group: 250 per server
  // makes two groups of 125 each.
  std::map<int, std::vector<int>> by_server;
  for (int i = 0; i < kMailboxes; ++i) by_server[i % 4].push_back(i);
  std::vector<Group> groups;
  for (auto& [server, members] : by_server) {
    std::sort(members.begin(), members.end(), [](int a, int b) { return mailbox(a) < mailbox(b); });
    for (size_t first = 0; first < members.size(); first += 125) {
      Group g;
      g.members.assign(members.begin() + static_cast<long>(first),
                       members.begin() + static_cast<long>(std::min(first + 125, members.size())));
      groups.push_back(std::move(g));
    }
  }
  ASSERT_EQ(groups.size(), 8u);
  for (Group& g : groups) {
    std::string anchor = mailbox(g.members.front());
    Reply reply;
    g.subscription[g.members.front()] =
        subscribe_id(exsim, kService, anchor, anchor, affinity(anchor), &reply);
    g.cookie = override_cookie(reply.headers);
    ASSERT_FALSE(g.cookie.empty());
    for (size_t i = 1; i < g.members.size(); ++i) {
      std::string address = mailbox(g.members[i]);
      g.subscription[g.members[i]] =
          subscribe_id(exsim, kService, address, address, affinity(anchor, g.cookie));
    }
    std::vector<std::string> ids;
    for (const auto& [m, id] : g.subscription) ids.push_back(id);
    g.stream = std::make_unique<Stream>(
        exsim.port(), kService, get_streaming_events(ids, 5, anchor), affinity(anchor, g.cookie));
    ASSERT_TRUE(g.stream->wait_for_text("<m:ConnectionStatus>OK</m:ConnectionStatus>"));
  }
  EXPECT_EQ(nlohmann::json::parse(exsim.admin("streaming").body)["open_streams"], 8);

  // Sync traffic: eight clients reading calendars of random mailboxes, impersonated.
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> syncers;
  // Stops and joins the syncers however the test leaves this scope.
  struct Joiner {
    std::atomic<bool>& done;
    std::vector<std::thread>& threads;
    ~Joiner() {
      done = true;
      for (std::thread& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{done, syncers};
  for (int t = 0; t < 8; ++t) {
    syncers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      while (!done) {
        std::string address = mailbox(static_cast<int>(rng() % kMailboxes));
        Reply r = exsim.ews(kService, get_calendar(address, address));
        if (element_text(r.body, "ResponseCode") == "NoError") {
          ++reads;
        } else {
          ++failures;
        }
      }
    });
  }
  std::mt19937 rng(42);
  std::vector<Clock::duration> latencies;
  for (int change = 0; change < 20; ++change) {
    int m = static_cast<int>(rng() % kMailboxes);
    Group* group = nullptr;
    for (Group& g : groups) {
      if (g.subscription.contains(m)) group = &g;
    }
    ASSERT_NE(group, nullptr);
    auto before = group->stream->parts().size();
    auto made = Clock::now();
    outlook_change(exsim, mailbox(m), fmt::format("change {}", change));
    std::string needle = "<t:SubscriptionId>" + group->subscription[m] + "</t:SubscriptionId>";
    ASSERT_TRUE(group->stream->wait_for(
        [&](const std::vector<std::string>& parts) {
          for (size_t i = before; i < parts.size(); ++i) {
            if (parts[i].find(needle) != std::string::npos) return true;
          }
          return false;
        },
        5s))
        << "no notification for " << mailbox(m);
    latencies.push_back(Clock::now() - made);
  }
  done = true;
  for (std::thread& t : syncers) t.join();
  auto slowest = *std::max_element(latencies.begin(), latencies.end());
  std::printf("20 changes: slowest notification %lld ms; %d sync reads meanwhile\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()),
              reads.load());
  EXPECT_LT(slowest, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()
                         << " ms";
  EXPECT_GT(reads.load(), 100) << "sync requests starved";
  EXPECT_EQ(failures.load(), 0);
  for (const Group& g : groups) {
    for (const std::string& part : g.stream->parts()) {
      EXPECT_EQ(part.find("ResponseClass=\"Error\""), std::string::npos) << part;
    }
  }
}

}  // namespace
}  // namespace exsim::testing
