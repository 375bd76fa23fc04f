// Real time at organisation scale (issue 14): `agendasync serve` holding N EWS mailboxes
// (1,000 or 10,000) in real time against exsim, as real processes on loopback. Measures:
//   - how long until every mailbox is watched (subscribed, on an open stream);
//   - the daemon's RSS per watched mailbox: RSS with streaming minus RSS of the same daemon
//     run with --no-streaming (both after the start-up catch-up of every pair);
//   - threads, streaming connections;
//   - wake latency over C changes made in random mailboxes through exsim's admin endpoint
//     ("Outlook"), until the host change feed carries the new appointment.
// Prints one JSON object.
//
//   bench_realtime_scale [--mailboxes N] [--changes C] [--servers S]
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/service/ews_daemon_setup.h"
#include "net/http.h"
#include "store/sqlite_agenda_store.h"
#include "tests/demo/serve_process.h"
#include "tools/exsim/launcher/exsim_process.h"

using namespace agendasync;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return 0;
}

int threads_of(pid_t pid) {
  int n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid)))
    ++n;
  return n;
}

std::string mailbox(int i) { return fmt::format("m{:05}@example.com", i); }

/// A gauge from /metrics (exact labels as the daemon writes them); -1 when unreadable.
double metric(httplib::Client& api, const httplib::Headers& auth, const std::string& series) {
  auto page = api.Get("/metrics", auth);
  if (!page || page->status != 200) return -1;
  const auto at = page->body.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::atof(page->body.c_str() + at + series.size() + 2);
}

struct Daemon {
  std::unique_ptr<demotest::ServeProcess> serve;
  std::unique_ptr<httplib::Client> api;
};

Daemon start_daemon(const std::filesystem::path& dir, bool streaming) {
  std::vector<std::string> args{"--config",
                                (dir / "agendasync.toml").string(),
                                "serve",
                                "--listen",
                                "127.0.0.1:0",
                                "--safety-net-minutes",
                                "60",
                                "--watch-refresh-seconds",
                                "5"};
  if (!streaming) args.push_back("--no-streaming");
  Daemon daemon;
  daemon.serve = std::make_unique<demotest::ServeProcess>(
      AGENDASYNC_CLI_BINARY, args, dir / (streaming ? "serve.log" : "serve-nostream.log"),
      std::chrono::seconds(300));
  daemon.api = std::make_unique<httplib::Client>("127.0.0.1", daemon.serve->port());
  daemon.api->set_read_timeout(60, 0);
  daemon.api->set_keep_alive(true);
  return daemon;
}

/// Waits until the start-up catch-up of every pair is done (queue empty, nothing running).
bool settled(Daemon& daemon, const httplib::Headers& auth, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  int quiet = 0;
  while (Clock::now() < deadline) {
    const bool idle = metric(*daemon.api, auth, "agendasync_sync_queue_depth") == 0 &&
                      metric(*daemon.api, auth, "agendasync_syncs_running") == 0;
    quiet = idle ? quiet + 1 : 0;
    if (quiet >= 3) return true;
    std::this_thread::sleep_for(500ms);
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  int mailboxes = 1000;
  int changes = 200;
  int servers = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--mailboxes") mailboxes = std::clamp(std::atoi(argv[i + 1]), 1, 100'000);
    if (flag == "--changes") changes = std::clamp(std::atoi(argv[i + 1]), 1, 5000);
    if (flag == "--servers") servers = std::clamp(std::atoi(argv[i + 1]), 1, 64);
  }
  auto dir = std::filesystem::temp_directory_path() /
             ("agendasync-realtime-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);

  json exsim_config = {
      {"version", "Exchange2016"},
      {"auth", {"basic"}},
      {"mailboxes", json::array()},
      {"accounts",
       {{{"user", "svc@example.com"}, {"password", "s3cret"}, {"impersonation", true}}}}};
  for (int i = 0; i < mailboxes; ++i) exsim_config["mailboxes"].push_back(mailbox(i));
  std::ofstream(dir / "exsim.json") << exsim_config.dump();
  std::vector<std::string> exsim_args{"--config", (dir / "exsim.json").string()};
  if (servers > 1) {
    exsim_args.push_back("--mailbox-servers");
    exsim_args.push_back(std::to_string(servers));
  }
  exsimtest::ExsimProcess exsim(exsim_args);
  net::ClientOptions admin_options;
  admin_options.tls.ca_bundle_path = exsim.ca_path();
  auto admin_http = net::make_curl_client(admin_options);

  const auto database = dir / "agenda.db";
  benchsetup::write_ews_config(dir, database, exsim);
  std::string token;
  {
    auto store = store::open_sqlite_agenda_store(database, store::SqliteOptions{.create = true});
    if (!store) return std::cerr << store.error().message << "\n", 1;
    for (int i = 0; i < mailboxes; ++i) {
      User user;
      user.user_name = fmt::format("U{:05}", i);
      user.display_name = user.user_name;
      user.exchange_address = mailbox(i);
      user.sync_enabled = true;
      if (auto added = (*store)->add_user(user); !added)
        return std::cerr << added.error().message << "\n", 1;
    }
    auto made = benchsetup::integration_token(database, "realtime bench");
    if (!made) return std::cerr << made.error().message << "\n", 1;
    token = *made;
  }
  const httplib::Headers auth{{"Authorization", "Bearer " + token}};

  // Baseline: the same daemon without streaming, after its catch-up of every pair.
  long baseline_rss_kb = 0;
  {
    Daemon plain = start_daemon(dir, false);
    if (!settled(plain, auth, 900s)) return std::cerr << "the catch-up did not finish\n", 1;
    baseline_rss_kb = status_kb(plain.serve->pid(), "VmRSS");
    plain.serve->stop(SIGTERM);
  }

  Daemon daemon = start_daemon(dir, true);
  const auto started = Clock::now();
  const std::string watched_series =
      "agendasync_watched_mailboxes{org=\"default\",backend=\"ews\",state=\"watched\"}";
  double watched = 0;
  while (Clock::now() - started < 900s) {
    watched = metric(*daemon.api, auth, watched_series);
    if (watched >= mailboxes) break;
    std::this_thread::sleep_for(200ms);
  }
  const double ready_s = std::chrono::duration<double>(Clock::now() - started).count();
  if (watched < mailboxes) return std::cerr << "only " << watched << " watched\n", 1;
  if (!settled(daemon, auth, 900s)) return std::cerr << "the catch-up did not finish\n", 1;
  const long rss_kb = status_kb(daemon.serve->pid(), "VmRSS");
  const int threads = threads_of(daemon.serve->pid());
  const double streams =
      metric(*daemon.api, auth, "agendasync_streaming_connections{org=\"default\"}");

  std::mt19937 random(42);
  std::vector<double> latencies;
  long failures = 0;
  long since = 0;
  for (;;) {
    auto page = daemon.api->Get("/api/v1/changes?limit=1000&since=" + std::to_string(since), auth);
    if (!page || page->status != 200) break;
    auto body = json::parse(page->body);
    since = body.at("next").get<long>();
    if (!body.at("more").get<bool>()) break;
  }
  for (int c = 0; c < changes; ++c) {
    const int i = std::uniform_int_distribution<int>(0, mailboxes - 1)(random);
    const std::string subject = fmt::format("rt-{}-{}", c, i);
    net::Request request;
    request.method = "POST";
    request.url = exsim.base_url() + "/exsim/admin/mailboxes/" + mailbox(i) + "/items";
    request.headers = {{"X-Exsim-Admin-Token", exsim.admin_token()},
                       {"Content-Type", "application/json"}};
    request.body = json{{"subject", subject},
                        {"start", fmt::format("2027-02-{:02}T09:00:00Z", 1 + c % 27)},
                        {"end", fmt::format("2027-02-{:02}T10:00:00Z", 1 + c % 27)}}
                       .dump();
    const auto t0 = Clock::now();
    auto made = admin_http->send(request, net::Credentials{});
    if (!made || made->status >= 300) {
      ++failures;
      continue;
    }
    bool arrived = false;
    while (!arrived && Clock::now() - t0 < 30s) {
      auto page = daemon.api->Get("/api/v1/changes?since=" + std::to_string(since), auth);
      if (page && page->status == 200) {
        const json body = json::parse(page->body, nullptr, false);
        for (const auto& change : body.value("changes", json::array())) {
          const std::string id = change.at("id").is_string() ? change.at("id").get<std::string>()
                                                             : change.at("id").dump();
          auto item = daemon.api->Get("/api/v1/appointments/" + id, auth);
          if (item && item->status == 200 &&
              json::parse(item->body, nullptr, false).value("subject", "") == subject)
            arrived = true;
        }
        if (!arrived) since = body.value("next", since);
      }
      if (!arrived) std::this_thread::sleep_for(2ms);
    }
    if (arrived) {
      latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    } else {
      ++failures;
    }
  }
  const int stopped = daemon.serve->stop(SIGTERM);
  const double per_mailbox_kb =
      static_cast<double>(rss_kb - baseline_rss_kb) / static_cast<double>(mailboxes);
  json result = {{"benchmark", "realtime_scale_ews"},
                 {"mailboxes", mailboxes},
                 {"mailbox_servers", servers},
                 {"all_watched_after_s", ready_s},
                 {"streaming_connections", streams},
                 {"daemon_threads", threads},
                 {"daemon_rss_kb", rss_kb},
                 {"daemon_rss_kb_without_streaming", baseline_rss_kb},
                 {"rss_per_watched_mailbox_kb", per_mailbox_kb},
                 {"changes", changes},
                 {"wake_to_feed_ms",
                  {{"p50", percentile(latencies, 0.5)},
                   {"p99", percentile(latencies, 0.99)},
                   {"max", percentile(latencies, 1.0)}}},
                 {"failures", failures},
                 {"daemon_exit_code", stopped},
                 {"goals", {{"wake_p99_ms", 1000}, {"rss_per_watched_mailbox_kb", 8}}}};
  std::cout << result.dump(2) << "\n";
  std::error_code ec;
  if (failures == 0 && stopped == 0) std::filesystem::remove_all(dir, ec);
  return failures == 0 && stopped == 0 ? 0 : 1;
}
