// Fault-injection soak (R26, R27): exsim answers about 10% of EWS requests with a fault of
// every kind it can inject (HTTP 500 and 503, ErrorServerBusy with a back-off, connection
// resets mid-response, truncated bodies), adds latency to every request, and allows one
// request in flight per account (ErrorExceededConnectionCount) while two users sync at once.
// 1,000 items move in both directions, then edits and deletions on both sides; each phase
// converges within a bounded number of runs, every run ends in bounded time, and nothing is
// lost or duplicated. AGENDASYNC_LONG_TESTS=1 moves 3,000 items and repeats the edit phase.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "tests/e2e/world.h"
#include "tests/reliability/mailbox_checks.h"

namespace agendasync::reliability {
namespace {

using e2e::future;
using e2e::World;

const std::vector<std::string> kUsers{"jdoe", "asmith"};
std::string mailbox(const std::string& user) { return user + "@example.com"; }

/// About 10% of requests fail, spread over every fault kind; `http_status` alternates between
/// rounds so both 500 and 503 are seen.
nlohmann::json ten_percent_faults(int http_status) {
  return {{"http_error_rate", 0.025},  {"http_error_status", http_status},
          {"server_busy_rate", 0.025}, {"back_off_ms", 20},
          {"reset_rate", 0.025},       {"truncate_rate", 0.025},
          {"latency_ms", 2},           {"max_concurrent_per_account", 1}};
}

nlohmann::json no_faults() {
  return {{"http_error_rate", 0.0}, {"server_busy_rate", 0.0},         {"reset_rate", 0.0},
          {"truncate_rate", 0.0},   {"max_concurrent_per_account", 0}, {"latency_ms", 0}};
}

/// Syncs every user at once (one app each, as the daemon's pool would) until a round in which
/// every pair synced with nothing left to do. Returns the rounds it took, or -1.
int converge(World& world, int max_rounds) {
  for (int round = 1; round <= max_rounds; ++round) {
    world.set_faults(ten_percent_faults(round % 2 == 0 ? 500 : 503));
    std::map<std::string, bool> settled;
    std::vector<std::thread> workers;
    for (const auto& user : kUsers) settled[user] = false;
    for (const auto& user : kUsers) {
      workers.emplace_back([&world, &settled, user] {
        const auto started = std::chrono::steady_clock::now();
        auto app = world.app();
        ASSERT_TRUE(app);
        auto run = app->sync_user(user);
        ASSERT_TRUE(run) << run.error().message;
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes{3})
            << "a run must end in bounded time";
        settled[user] = run->outcome == app::UserRun::Outcome::kSynced && run->report &&
                        run->report->plan.operations.empty();
      });
    }
    for (auto& worker : workers) worker.join();
    if (settled["jdoe"] && settled["asmith"]) return round;
  }
  return -1;
}

/// Both sides of every pair hold the same items, each once, none sent to attendees.
void expect_sides_equal(World& world, std::size_t items_per_user) {
  world.set_faults(no_faults());
  for (const auto& user : kUsers) {
    const auto items = world.exchange_items(mailbox(user));
    EXPECT_TRUE(e2e::duplicate_subjects(items).empty()) << user;
    EXPECT_TRUE(duplicate_keys(items).empty()) << user;
    const auto host = host_subjects(world, user);
    EXPECT_EQ(items.size(), items_per_user) << user;
    EXPECT_EQ(host.size(), items_per_user) << user;
    EXPECT_EQ(exchange_subjects(world, mailbox(user)), host) << user;
  }
  EXPECT_EQ(world.outbox_size(), 0u);
}

TEST(FaultSoak, TenPercentFaultsOfEveryKindConvergeBothWaysWithNothingLostOrDuplicated) {
  const int items_per_user = long_tests() ? 1500 : 500;
  const int edit_phases = long_tests() ? 3 : 1;
  constexpr int kMaxRounds = 30;
  const int from_host = items_per_user * 7 / 10;

  World world;
  std::map<std::string, std::vector<store::AppointmentId>> host_ids;
  std::map<std::string, std::vector<long>> outlook_ids;
  for (const auto& user : kUsers) {
    world.add_user(user);
    for (int i = 0; i < from_host; ++i) {
      host_ids[user].push_back(
          world.add_appointment(user, fmt::format("{} host {}", user, i), future(i % 250, i % 8))
              .id);
    }
    for (int i = from_host; i < items_per_user; ++i) {
      outlook_ids[user].push_back(world.outlook_create(
          mailbox(user), fmt::format("{} outlook {}", user, i), future(i % 250, 9)));
    }
  }

  const int first = converge(world, kMaxRounds);
  ASSERT_GT(first, 0) << "the first sync did not converge in " << kMaxRounds << " rounds";
  std::cout << "first sync of " << 2 * items_per_user << " items converged after " << first
            << " rounds\n";
  expect_sides_equal(world, static_cast<std::size_t>(items_per_user));

  std::size_t expected = static_cast<std::size_t>(items_per_user);
  for (int phase = 0; phase < edit_phases; ++phase) {
    // Per user: 20 host edits, 10 host deletions, 10 host creations; 10 Outlook edits,
    // 5 Outlook deletions (of items made in Outlook), 5 Outlook creations.
    std::map<std::string, std::map<std::string, std::string>> outlook_locations;
    for (const auto& user : kUsers) {
      auto& ids = host_ids[user];
      for (int i = 0; i < 20; ++i) {
        world.edit_appointment(ids[(phase * 20 + i) % ids.size()], [&](Appointment& item) {
          item.subject = fmt::format("{} edited {}-{}", user, phase, i);
        });
      }
      for (int i = 0; i < 10; ++i) {
        world.delete_appointment(ids.back());
        ids.pop_back();
      }
      for (int i = 0; i < 10; ++i) {
        ids.push_back(
            world.add_appointment(user, fmt::format("{} new {}-{}", user, phase, i), future(i, 5))
                .id);
      }
      auto& outlook = outlook_ids[user];
      for (int i = 0; i < 10; ++i) {
        const std::string location = fmt::format("Room {}-{}", phase, i);
        world.outlook_update(mailbox(user), outlook[i], {{"location", location}});
        outlook_locations[user][std::to_string(outlook[i])] = location;
      }
      for (int i = 0; i < 5; ++i) {
        world.outlook_delete(mailbox(user), outlook.back());
        outlook.pop_back();
      }
      for (int i = 0; i < 5; ++i) {
        outlook.push_back(world.outlook_create(
            mailbox(user), fmt::format("{} outlook new {}-{}", user, phase, i), future(i, 11)));
      }
    }
    // Deletions and creations balance: the item count per user stays `expected`.

    const int rounds = converge(world, kMaxRounds);
    ASSERT_GT(rounds, 0) << "edit phase " << phase << " did not converge";
    std::cout << "edit phase " << phase << " converged after " << rounds << " rounds\n";
    expect_sides_equal(world, expected);
    for (const auto& user : kUsers) {
      const auto host = host_subjects(world, user);
      for (int i = 0; i < 20; ++i)
        EXPECT_TRUE(host.contains(fmt::format("{} edited {}-{}", user, phase, i))) << user;
      // Outlook's location edits arrived in the host (matched by subject).
      std::map<std::string, std::string> location_by_subject;
      for (const auto& item : world.exchange_items(mailbox(user))) {
        auto edited = outlook_locations[user].find(std::to_string(item.value("id", -1L)));
        if (edited != outlook_locations[user].end())
          location_by_subject[item.value("subject", "")] = edited->second;
      }
      EXPECT_EQ(location_by_subject.size(), 10u) << user;
      for (const auto& stored : world.host_items(user)) {
        if (auto edited = location_by_subject.find(stored.item.subject);
            edited != location_by_subject.end()) {
          EXPECT_EQ(stored.item.location, edited->second) << stored.item.subject;
        }
      }
    }
  }
}

}  // namespace
}  // namespace agendasync::reliability
