// Storage failures (R28): the agenda database and the sync state on a read-only file and on a
// full disk. `agendasync sync` runs in a child process that cannot write the file (read-only
// mode bits; as root, without CAP_DAC_OVERRIDE so the bits count) or whose files may not
// grow (RLIMIT_FSIZE with SIGXFSZ ignored: writes fail as on a full disk). Each case asserts
// a clear error that says what to do, that both databases pass PRAGMA integrity_check, that
// nothing committed before is lost, and that the next unrestricted run converges with
// nothing duplicated.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "tests/e2e/world.h"
#include "tests/reliability/mailbox_checks.h"

namespace agendasync::reliability {
namespace {

using e2e::future;
using e2e::World;

constexpr int kHostItems = 40;
constexpr int kOutlookItems = 10;
const std::string kMailbox = "jdoe@example.com";

/// How the child that runs the CLI is held back.
struct Restriction {
  /// Drop the capabilities that let root ignore mode bits, so 0444 means read-only.
  bool honour_mode_bits = false;
  /// RLIMIT_FSIZE in bytes: no file the child writes may grow past it.
  std::optional<rlim_t> file_size_limit;
};

struct Outcome {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `agendasync sync --user jdoe` under `restriction`; output through a pipe, because
/// under a file-size limit the child could not write a log file either.
Outcome restricted_sync(World& world, const Restriction& restriction) {
  int pipe_ends[2];
  if (::pipe(pipe_ends) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_ends[1], STDOUT_FILENO);
    ::dup2(pipe_ends[1], STDERR_FILENO);
    ::close(pipe_ends[0]);
    if (restriction.honour_mode_bits && ::geteuid() == 0) {
      // exec recomputes root's capabilities from the bounding set: drop them there.
      if (::prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0 ||
          ::prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) != 0) {
        ::dprintf(STDERR_FILENO, "test set-up: cannot drop CAP_DAC_OVERRIDE\n");
        ::_exit(125);
      }
    }
    if (restriction.file_size_limit) {
      ::signal(SIGXFSZ, SIG_IGN);  // ignored dispositions survive exec: writes fail with EFBIG
      const rlimit limit{*restriction.file_size_limit, *restriction.file_size_limit};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(125);
    }
    const std::string binary = e2e::agendasync_binary();
    const std::string config = world.config_path().string();
    ::execl(binary.c_str(), binary.c_str(), "sync", "--user", "jdoe", "--config", config.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_ends[1]);
  Outcome outcome;
  char buffer[4096];
  for (ssize_t got; (got = ::read(pipe_ends[0], buffer, sizeof buffer)) > 0;)
    outcome.output.append(buffer, static_cast<std::size_t>(got));
  ::close(pipe_ends[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return outcome;
}

/// A synced pair: host items in Exchange, Outlook items in the host.
class StorageFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    world_.add_user("jdoe");
    for (int i = 0; i < kHostItems; ++i)
      world_.add_appointment("jdoe", fmt::format("Host {}", i), future(i % 20, i % 8));
    for (int i = 0; i < kOutlookItems; ++i)
      world_.outlook_create(kMailbox, fmt::format("Outlook {}", i), future(i, 10));
    auto first = world_.cli({"sync", "--user", "jdoe"});
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    committed_ = host_subjects(world_, "jdoe");
    ASSERT_EQ(committed_.size(), static_cast<std::size_t>(kHostItems + kOutlookItems));
  }

  /// Outlook items (with bodies large enough to need new database pages) the next sync must
  /// write into the agenda and link in the sync state.
  void add_outlook_items(int count, std::size_t body_bytes) {
    for (int i = 0; i < count; ++i) {
      world_.admin("POST", "/exsim/admin/mailboxes/" + kMailbox + "/items",
                   {{"subject", fmt::format("Later {}", i)},
                    {"body", std::string(body_bytes, static_cast<char>('a' + i % 26))},
                    {"start", "2027-02-01T09:00:00Z"},
                    {"end", "2027-02-01T10:00:00Z"}});
    }
  }

  /// Both databases intact, everything committed before still there, and an unrestricted
  /// run converges: every item once on each side.
  void expect_intact_and_recovers(int later_items) {
    EXPECT_EQ(integrity_check(world_.database_path()), "ok");
    EXPECT_EQ(integrity_check(world_.state_path()), "ok");
    const auto host = host_subjects(world_, "jdoe");
    for (const auto& subject : committed_) EXPECT_TRUE(host.contains(subject)) << subject;

    auto recovered = world_.cli({"sync", "--user", "jdoe"});
    EXPECT_EQ(recovered.exit_code, 0) << recovered.out << recovered.err;
    auto settled = world_.cli({"sync", "--user", "jdoe"});
    EXPECT_EQ(settled.exit_code, 0) << settled.out << settled.err;
    const auto exchange = world_.exchange_items(kMailbox);
    EXPECT_TRUE(e2e::duplicate_subjects(exchange).empty());
    EXPECT_TRUE(duplicate_keys(exchange).empty());
    const auto after = host_subjects(world_, "jdoe");
    EXPECT_EQ(after.size(), committed_.size() + static_cast<std::size_t>(later_items));
    EXPECT_EQ(exchange_subjects(world_, kMailbox), after);
    EXPECT_EQ(integrity_check(world_.database_path()), "ok");
    EXPECT_EQ(integrity_check(world_.state_path()), "ok");
  }

  World world_;
  std::multiset<std::string> committed_;
};

void make_read_only(const std::filesystem::path& file, bool read_only) {
  using std::filesystem::perms;
  std::filesystem::permissions(
      file, read_only
                ? perms::owner_read | perms::group_read | perms::others_read
                : perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
}

TEST_F(StorageFailure, ReadOnlyAgendaDatabaseFailsClearlyAndCorruptsNothing) {
  add_outlook_items(5, 200);
  make_read_only(world_.database_path(), true);
  const auto run = restricted_sync(
      world_, Restriction{.honour_mode_bits = true, .file_size_limit = std::nullopt});
  make_read_only(world_.database_path(), false);
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("writable"), std::string::npos)
      << "the error must say the database must be writable: " << run.output;
  EXPECT_NE(run.output.find(world_.database_path().filename().string()), std::string::npos)
      << "the error must name the file: " << run.output;
  expect_intact_and_recovers(5);
}

TEST_F(StorageFailure, ReadOnlySyncStateFailsClearlyAndCorruptsNothing) {
  add_outlook_items(5, 200);
  world_.add_appointment("jdoe", "Host after", future(3, 2));
  committed_.insert("Host after");
  make_read_only(world_.state_path(), true);
  const auto run = restricted_sync(
      world_, Restriction{.honour_mode_bits = true, .file_size_limit = std::nullopt});
  make_read_only(world_.state_path(), false);
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("writable"), std::string::npos)
      << "the error must say the sync state must be writable: " << run.output;
  EXPECT_NE(run.output.find(world_.state_path().filename().string()), std::string::npos)
      << "the error must name the file: " << run.output;
  expect_intact_and_recovers(5);
}

TEST_F(StorageFailure, FullDiskFailsClearlyAndCorruptsNothing) {
  // Few (the breaker allows 20% of the linked items per run) but large: about 480 KB the
  // agenda must take in, far past the limit.
  constexpr int kLater = 8;
  add_outlook_items(kLater, 60'000);
  const auto agenda_bytes = std::filesystem::file_size(world_.database_path());
  const auto state_bytes = std::filesystem::file_size(world_.state_path());
  const rlim_t limit = std::max(agenda_bytes, state_bytes) + 64 * 1024;
  const auto run =
      restricted_sync(world_, Restriction{.honour_mode_bits = false, .file_size_limit = limit});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("disk"), std::string::npos)
      << "the error must say the disk is full: " << run.output;
  EXPECT_NE(run.output.find("free space"), std::string::npos)
      << "the error must say what to do: " << run.output;
  expect_intact_and_recovers(kLater);
}

}  // namespace
}  // namespace agendasync::reliability
