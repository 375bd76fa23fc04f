// The daemon's safety-net idle cycle on SQLite (issue 14 §4): `agendasync serve` holding N EWS
// mailboxes with nothing changed, against exsim, real processes on loopback. After the
// start-up catch-up of every pair, a window of whole safety-net periods: CPU time of the serve
// process per idle mailbox-cycle (one sync run, agendasync_syncs_total), and, with --strace,
// the system calls of one more period per mailbox-cycle (strace -f -c attached to serve: a
// figure the machine's load does not change). bench_multinode measures the same cycle on
// PostgreSQL. Prints one JSON object; exits 1 when a phase did not complete.
//
//   bench_serve_idle [--mailboxes 1000] [--safety-net-seconds 30] [--idle-periods 2]
//                    [--items 0] [--workers 4] [--streaming 0|1] [--strace 0|1]
//                    [--agenda-schema 4]
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "bench/multinode/process_cpu.h"
#include "bench/service/ews_daemon_setup.h"
#include "store/sqlite_agenda_store.h"
#include "tests/demo/serve_process.h"
#include "tools/exsim/launcher/exsim_process.h"

using namespace agendasync;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int mailboxes = 1000;
  int safety_net_seconds = 30;
  int idle_periods = 2;
  int items = 0;
  int workers = 4;
  bool streaming = false;
  bool strace = false;
  /// 4: the agenda is left at SQLite schema 4 (before the directory revision of migration 5),
  /// so a build from before it ($AGENDASYNC_BENCH_CLI) can open it; 0 = this build's.
  int agenda_schema = 0;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--mailboxes") {
      options.mailboxes = std::clamp(value, 1, 100'000);
    } else if (flag == "--safety-net-seconds") {
      options.safety_net_seconds = std::clamp(value, 1, 3600);
    } else if (flag == "--idle-periods") {
      options.idle_periods = std::clamp(value, 1, 100);
    } else if (flag == "--items") {
      options.items = std::clamp(value, 0, 100);
    } else if (flag == "--workers") {
      options.workers = std::clamp(value, 1, 64);
    } else if (flag == "--streaming") {
      options.streaming = value != 0;
    } else if (flag == "--strace") {
      options.strace = value != 0;
    } else if (flag == "--agenda-schema") {
      options.agenda_schema = value;
    } else {
      std::cerr << "usage: bench_serve_idle [--mailboxes N] [--safety-net-seconds S] "
                   "[--idle-periods K] [--items N] [--workers N] [--streaming 0|1] "
                   "[--strace 0|1] [--agenda-schema 4]\n";
      std::exit(2);
    }
  }
  return options;
}

std::string mailbox(int i) { return fmt::format("idle{:05}@example.com", i); }

/// The sum of every series of `name` on a /metrics page; -1 when unreadable.
double metric_sum(httplib::Client& api, const httplib::Headers& auth, const std::string& name,
                  const std::string& match = "") {
  auto page = api.Get("/metrics", auth);
  if (!page || page->status != 200) return -1;
  double sum = 0;
  std::istringstream lines(page->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    if (!match.empty() && line.find(match) == std::string::npos) continue;
    sum += std::atof(line.c_str() + line.rfind(' ') + 1);
  }
  return sum;
}

double cpu_seconds(pid_t pid) {
  auto stat = bench::proc_stat(pid);
  return stat ? bench::ticks_to_seconds(stat->own_ticks) : 0;
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0;
  in >> one;
  return one;
}

/// `strace -f -c -p pid` for `period`; the total calls and the calls per system call.
json strace_period(pid_t pid, std::chrono::seconds period, const std::filesystem::path& out) {
  const pid_t tracer = ::fork();
  if (tracer == 0) {
    const std::string target = std::to_string(pid);
    const std::string file = out.string();
    ::execlp("strace", "strace", "-f", "-c", "-p", target.c_str(), "-o", file.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(period);
  ::kill(tracer, SIGINT);
  int status = 0;
  ::waitpid(tracer, &status, 0);
  std::ifstream in(out);
  json calls = json::object();
  long long total = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string field; fields >> field;) f.push_back(field);
    // "% time seconds usecs/call calls [errors] syscall"; the total line ends in "total".
    if (f.size() < 5 || f[0].find_first_not_of("0123456789.") != std::string::npos) continue;
    const long long n = std::atoll(f[3].c_str());
    if (f.back() == "total") {
      total = n;
    } else {
      calls[f.back()] = n;
    }
  }
  return {{"total", total}, {"by_call", calls}};
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  auto dir = std::filesystem::temp_directory_path() /
             ("agendasync-serve-idle-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  std::string failure;
  json result = {
      {"benchmark", "serve_idle_sqlite"},   {"mailboxes", options.mailboxes},
      {"items_per_mailbox", options.items}, {"workers", options.workers},
      {"streaming", options.streaming},     {"safety_net_seconds", options.safety_net_seconds}};

  json exsim_config = {
      {"version", "Exchange2016"},
      {"auth", {"basic"}},
      {"mailboxes", json::array()},
      {"accounts",
       {{{"user", "svc@example.com"}, {"password", "s3cret"}, {"impersonation", true}}}}};
  for (int i = 0; i < options.mailboxes; ++i) exsim_config["mailboxes"].push_back(mailbox(i));
  std::ofstream(dir / "exsim.json") << exsim_config.dump();
  exsimtest::ExsimProcess exsim({"--config", (dir / "exsim.json").string()});

  const auto database = dir / "agenda.db";
  benchsetup::write_ews_config(dir, database, exsim);
  std::string token;
  {
    auto store = store::open_sqlite_agenda_store(database, store::SqliteOptions{.create = true});
    if (!store) return std::cerr << store.error().message << "\n", 1;
    for (int i = 0; i < options.mailboxes; ++i) {
      User user;
      user.user_name = fmt::format("U{:05}", i);
      user.display_name = user.user_name;
      user.exchange_address = mailbox(i);
      user.sync_enabled = true;
      if (auto added = (*store)->add_user(user); !added)
        return std::cerr << added.error().message << "\n", 1;
      for (int n = 0; n < options.items; ++n) {
        Appointment item;
        item.subject = fmt::format("idle {} {}", i, n);
        item.start = Instant(std::chrono::seconds(1'830'000'000 + 86'400 * n));
        item.end = item.start + std::chrono::hours(1);
        item.owner = user.user_name;
        if (auto made = (*store)->create_appointment(item); !made)
          return std::cerr << made.error().message << "\n", 1;
      }
    }
    auto made = benchsetup::integration_token(database, "serve idle bench");
    if (!made) return std::cerr << made.error().message << "\n", 1;
    token = *made;
  }
  if (options.agenda_schema == 4) {
    // Migration 5 taken away again (as src/store/schema_test.cpp does), for an older build.
    std::string sql;
    for (const char* table : {"users", "organisation_settings", "activity_types"}) {
      for (const char* op : {"insert", "update", "delete"}) {
        sql += fmt::format("DROP TRIGGER directory_{}_{}; ", table, op);
      }
    }
    sql += "DROP TABLE directory_revision; PRAGMA user_version = 4;";
    sqlite3* db = nullptr;
    char* message = nullptr;
    if (sqlite3_open(database.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::cerr << "--agenda-schema 4: " << (message ? message : sqlite3_errmsg(db)) << "\n";
      return 1;
    }
    sqlite3_close(db);
  }
  const httplib::Headers auth{{"Authorization", "Bearer " + token}};

  std::vector<std::string> args{"--config",
                                (dir / "agendasync.toml").string(),
                                "serve",
                                "--listen",
                                "127.0.0.1:0",
                                "--workers",
                                std::to_string(options.workers),
                                "--safety-net-seconds",
                                std::to_string(options.safety_net_seconds)};
  if (!options.streaming) args.push_back("--no-streaming");
  // $AGENDASYNC_BENCH_CLI: another build's binary (before/after runs of one benchmark).
  const char* chosen = std::getenv("AGENDASYNC_BENCH_CLI");
  demotest::ServeProcess serve(chosen && *chosen ? chosen : AGENDASYNC_CLI_BINARY, args,
                               dir / "serve.log", 300s);
  httplib::Client api("127.0.0.1", serve.port());
  api.set_read_timeout(60, 0);

  // Settle: the start-up catch-up of every pair done, then nothing queued or running.
  const auto settle_started = Clock::now();
  bool settled = false;
  while (Clock::now() - settle_started < std::chrono::seconds(900)) {
    const double runs = metric_sum(api, auth, "agendasync_syncs_total");
    const double busy = metric_sum(api, auth, "agendasync_sync_queue_depth") +
                        metric_sum(api, auth, "agendasync_syncs_running");
    if (runs >= options.mailboxes && busy == 0) {
      settled = true;
      break;
    }
    std::this_thread::sleep_for(500ms);
  }
  if (!settled) failure = "the start-up catch-up did not finish";

  if (failure.empty()) {
    // Idle: whole safety-net periods; the window is read only at its two ends.
    const double load_before = load_average();
    const double runs_start = metric_sum(api, auth, "agendasync_syncs_total");
    const double errors_start = metric_sum(api, auth, "agendasync_syncs_total", "result=\"error\"");
    const double cpu_start = cpu_seconds(serve.pid());
    const auto window_start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(options.safety_net_seconds) *
                                options.idle_periods);
    const double cpu_end = cpu_seconds(serve.pid());
    const double seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
    const double runs_end = metric_sum(api, auth, "agendasync_syncs_total");
    const double errors_end = metric_sum(api, auth, "agendasync_syncs_total", "result=\"error\"");
    const double cycles = runs_end - runs_start;
    if (cycles <= 0) failure = "idle: no mailbox-cycle in the window";
    result["idle"] = {
        {"window_seconds", seconds},
        {"mailbox_cycles", cycles},
        {"mailbox_cycles_expected", options.mailboxes * options.idle_periods},
        {"run_errors", errors_end - errors_start},
        {"serve_cpu_seconds", cpu_end - cpu_start},
        {"serve_cpu_us_per_mailbox_cycle", cycles > 0 ? 1e6 * (cpu_end - cpu_start) / cycles : 0},
        {"load_average_before_after", {load_before, load_average()}}};
    if (options.strace && failure.empty()) {
      const double traced_start = metric_sum(api, auth, "agendasync_syncs_total");
      json traced = strace_period(serve.pid(), std::chrono::seconds(options.safety_net_seconds),
                                  dir / "strace.txt");
      const double traced_cycles = metric_sum(api, auth, "agendasync_syncs_total") - traced_start;
      const double total = traced["total"].get<double>();
      json per_cycle = json::object();
      for (const auto& [call, n] : traced["by_call"].items()) {
        if (traced_cycles > 0 && n.get<double>() / traced_cycles >= 0.05)
          per_cycle[call] = n.get<double>() / traced_cycles;
      }
      result["strace"] = {
          {"mailbox_cycles", traced_cycles},
          {"syscalls", total},
          {"syscalls_per_mailbox_cycle", traced_cycles > 0 ? total / traced_cycles : 0},
          {"per_mailbox_cycle_by_call", per_cycle},
          {"note",
           "one more safety-net period with strace -f -c attached to serve; its calls include "
           "the background between runs"}};
    }
  }
  result["daemon_exit_code"] = serve.stop(SIGTERM);
  result["failure"] = failure.empty() ? json(nullptr) : json(failure);
  if (!failure.empty()) std::cerr << "bench_serve_idle: " << failure << "\n";
  return benchsetup::finish_run(result, failure.empty(), dir);
}
