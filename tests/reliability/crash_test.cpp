// Crash safety (R28) of the real binary: SIGKILL `agendasync sync` at random (seeded) moments
// during a large first sync and during incremental syncs, rerun, and check: no duplicates
// (subject or idempotency key), no lost change, both sides equal. AGENDASYNC_LONG_TESTS=1
// runs more kills.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/world.h"
#include "tests/reliability/mailbox_checks.h"

namespace agendasync::e2e {
namespace {

using namespace std::chrono_literals;

/// Kill moments adapt to how long a run takes on this machine (fast in release, slow under
/// ASan on a loaded CI): each delay is drawn from [2 ms, longest], and a run that ends before
/// its kill lowers `longest` to 80% of its duration, so later kills land inside runs.
class KillClock {
 public:
  explicit KillClock(std::uint32_t seed) : random_(seed) {}
  std::chrono::milliseconds next() {
    return std::chrono::milliseconds{
        std::uniform_int_distribution<long>(2, std::max<long>(3, longest_.count()))(random_)};
  }
  void run_finished_after(std::chrono::milliseconds took) {
    longest_ = std::min(longest_, std::chrono::milliseconds{took.count() * 4 / 5});
  }
  std::mt19937& random() { return random_; }

 private:
  std::mt19937 random_;
  std::chrono::milliseconds longest_{1200};
};

/// Starts `agendasync sync --user jdoe` and SIGKILLs it after a delay from `clock` unless it
/// ended first. Returns true when the process was killed.
bool sync_and_kill(World& world, KillClock& clock) {
  const auto delay = clock.next();
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::string binary = agendasync_binary();
    std::string config = world.config_path().string();
    ::freopen("/dev/null", "w", stdout);
    ::freopen("/dev/null", "w", stderr);
    ::execl(binary.c_str(), binary.c_str(), "sync", "--user", "jdoe", "--config", config.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = started + delay;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      clock.run_finished_after(std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started));
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status);
}

int kills_per_phase() { return reliability::long_tests() ? 100 : 25; }

TEST(CrashSafety, SigkillDuringFirstAndIncrementalSyncsLosesNothingAndDuplicatesNothing) {
  World world;
  world.add_user("jdoe");
  std::vector<store::AppointmentId> ids;
  for (int i = 0; i < 300; ++i) {
    ids.push_back(
        world.add_appointment("jdoe", "Host " + std::to_string(i), future(i % 200, i % 8)).id);
  }
  for (int i = 0; i < 20; ++i)
    world.outlook_create("jdoe@example.com", "Outlook " + std::to_string(i), future(i, 10));

  KillClock clock(20261125);
  std::mt19937& random = clock.random();
  int killed = 0;

  // Phase 1: the large first sync, killed again and again; each run resumes from the journal.
  // A first sync cut short is still a first sync: its remaining creates must not trip the
  // breaker (R38), so no admin approval is needed on the way.
  // Runs until kills_per_phase() runs were really killed (a run that ends before its kill
  // moment does not count), at most twice as many runs.
  for (int run = 0; killed < kills_per_phase() && run < 2 * kills_per_phase(); ++run) {
    killed += sync_and_kill(world, clock);
  }
  auto finish = world.cli({"sync", "--user", "jdoe"});
  ASSERT_EQ(finish.exit_code, 0) << finish.out << finish.err;

  // Phase 2: edits on both sides between killed incremental syncs.
  std::map<std::string, std::string> outlook_locations;  // Outlook subject -> its new location
  std::uniform_int_distribution<int> pick(0, 299);
  const int first_sync_kills = killed;
  int incremental_runs = 0;  // each adds one host appointment
  for (int run = 0; killed - first_sync_kills < kills_per_phase() && run < 2 * kills_per_phase();
       ++run, ++incremental_runs) {
    const auto id = ids[pick(random)];
    const std::string subject = "Edited " + std::to_string(run);
    world.edit_appointment(id, [&](Appointment& item) { item.subject = subject; });
    world.add_appointment("jdoe", "New " + std::to_string(run), future(run, 3));
    const auto items = world.exchange_items("jdoe@example.com");
    const auto& target = items[random() % items.size()];
    if (target.value("subject", "").rfind("Outlook", 0) == 0) {
      world.outlook_update("jdoe@example.com", target["id"],
                           {{"location", "Room " + std::to_string(run)}});
      outlook_locations[target.value("subject", "")] = "Room " + std::to_string(run);
    }
    killed += sync_and_kill(world, clock);
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (world.cli({"sync", "--user", "jdoe"}).exit_code == 0) break;
  }
  auto settle = world.cli({"sync", "--user", "jdoe"});
  ASSERT_EQ(settle.exit_code, 0) << settle.out << settle.err;
  EXPECT_NE(settle.out.find("host: 0 created, 0 updated, 0 deleted"), std::string::npos)
      << "a settled pair has nothing left to do: " << settle.out;

  const auto exchange = world.exchange_items("jdoe@example.com");
  const auto host = world.host_items("jdoe");
  EXPECT_EQ(first_sync_kills, kills_per_phase()) << "the kills must actually interrupt runs";
  EXPECT_EQ(killed, 2 * kills_per_phase()) << "the kills must actually interrupt runs";
  EXPECT_TRUE(duplicate_subjects(exchange).empty());
  EXPECT_TRUE(reliability::duplicate_keys(exchange).empty());
  std::multiset<std::string> exchange_subjects, host_subjects;
  for (const auto& item : exchange) exchange_subjects.insert(item.value("subject", ""));
  for (const auto& stored : host) host_subjects.insert(stored.item.subject);
  EXPECT_EQ(exchange_subjects, host_subjects);
  EXPECT_EQ(host.size(), 300u + 20u + static_cast<std::size_t>(incremental_runs));
  // Every host edit arrived (none lost).
  for (const auto& stored : host) {
    if (stored.item.subject.rfind("Edited", 0) == 0) {
      EXPECT_TRUE(exchange_subjects.contains(stored.item.subject));
    }
  }
  // Every Outlook edit arrived in the host.
  for (const auto& stored : host) {
    if (auto edited = outlook_locations.find(stored.item.subject);
        edited != outlook_locations.end()) {
      EXPECT_EQ(stored.item.location, edited->second) << stored.item.subject;
    }
  }
  EXPECT_EQ(world.outbox_size(), 0u);
  std::cout << "killed " << killed << " runs (" << first_sync_kills << " during the first sync)\n";
}

}  // namespace
}  // namespace agendasync::e2e
