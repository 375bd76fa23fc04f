// Load benchmark of `agendasync serve`'s API (issue 8): an open-loop generator sends a fixed
// rate of mixed reads and writes (default 500 requests/s for 60 s) to a server on 127.0.0.1
// port 0 over a temporary SQLite agenda, while the scheduler runs syncs that read the agenda
// (every write wakes its pair; a periodic sync-now for every user keeps syncs running).
// Latency is measured from each request's scheduled send time, so a stalled server cannot
// hide its queueing (no coordinated omission). Prints one JSON object.
//
// The mix: 50 % a user's agenda for one week (what a calendar view asks), 20 % a user's sync
// status, 20 % creates spread over a year, 10 % read-then-PATCH with If-Match.
//
//   bench_service_load [--rate N] [--seconds S] [--clients C] [--readers R]
//                      [--window-days D] [--fsync-every-write]
// For before/after comparisons: --readers 0 is one database connection for everything (the
// layout before the reader pool); --window-days 0 lists the user's whole agenda (the first
// mix, whose responses grew with every create); --fsync-every-write commits the API's writes
// with synchronous=FULL (the durability before docs/DECISIONS.md "API write durability").
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/log.h"
#include "service/server.h"

using namespace agendasync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Sample {
  double ms;
  bool write;
  bool ok;
};

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  int rate = 500, seconds = 60, clients = 16, readers = 4, window_days = 7;
  bool fsync_every_write = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--fsync-every-write") {
      fsync_every_write = true;
      continue;
    }
    if (i + 1 >= argc) break;
    int value = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--rate") rate = std::min(value, 5000);
    if (flag == "--seconds") seconds = std::min(value, 600);
    if (flag == "--clients") clients = std::min(value, 64);
    if (flag == "--readers") readers = std::clamp(std::atoi(argv[i + 1]), 0, 32);
    if (flag == "--window-days") window_days = std::clamp(std::atoi(argv[i + 1]), 0, 366);
    ++i;
  }
  service::service_logger()->set_level(spdlog::level::warn);  // one line per request is noise

  auto dir = std::filesystem::temp_directory_path() /
             ("agendasync-bench-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  std::atomic<long> syncs{0};
  service::Server* server_ptr = nullptr;
  service::ServerOptions options;
  options.database = dir / "agenda.db";
  options.create_database = true;
  options.scheduler.workers = 4;
  options.scheduler.debounce = 200ms;
  options.scheduler.safety_net = 0ms;
  options.http_threads = 32;
  options.database_readers = static_cast<std::size_t>(readers);
  options.fsync_every_write = fsync_every_write;
  // A stand-in for the engine that does what an incremental host read does: the user's
  // changes since its cursor, then each changed appointment, on the same database the API
  // writes. The scheduler runs one sync per user at a time, so the cursors need no lock
  // beyond the map's.
  std::mutex cursors_mutex;
  std::map<std::string, store::Revision> cursors;
  options.sync = [&](const service::PairRef& pair) -> Result<service::SyncResult> {
    const std::string& user = pair.user;
    store::ChangeQuery feed;
    feed.user = user;
    feed.limit = 200;
    {
      std::lock_guard lock(cursors_mutex);
      feed.after = cursors[user];
    }
    auto changes = server_ptr->store().changes_since(feed);
    if (!changes) return std::unexpected(changes.error());
    for (const auto& change : *changes) {
      if (change.entity != store::ChangeEntity::kAppointment) continue;  // users: by name
      std::int64_t id = std::stoll(change.entity_id);
      if (auto item = server_ptr->store().appointment(id); !item) {
        return std::unexpected(item.error());
      }
    }
    if (!changes->empty()) {
      std::lock_guard lock(cursors_mutex);
      cursors[user] = changes->back().revision;
    }
    std::this_thread::sleep_for(20ms);  // the remote side's round trips
    ++syncs;
    return service::SyncResult{};
  };
  auto started = service::Server::start(std::move(options));
  if (!started) {
    std::cerr << "cannot start: " << started.error().message << "\n";
    return 1;
  }
  auto& server = **started;
  server_ptr = &server;
  const std::vector<std::string> users = {"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"};
  for (const auto& name : users) {
    (void)server.store().add_user(User{name, name, "", false, true, {}});
  }
  std::string token = server.tokens().create("integration", "bench")->value.reveal();
  const int port = server.port();

  // Seed a few appointments per user so reads return data.
  httplib::Client seed("127.0.0.1", port);
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  // Appointments spread over 2030 (one a day per slot), so a week's view stays the size a
  // real agenda has while the database grows.
  constexpr std::int64_t kYearStart = 1893456000;  // 2030-01-01T00:00:00Z
  auto rfc3339 = [](std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(text);
  };
  auto appointment_body = [&](const std::string& owner, int n) {
    std::int64_t start = kYearStart + (n % 365) * 86400 + (8 + n % 9) * 3600;
    return json{{"subject", "Bench " + std::to_string(n)},
                {"start", rfc3339(start)},
                {"end", rfc3339(start + 3600)},
                {"owner", owner}}
        .dump();
  };
  auto agenda_query = [&](const std::string& user, std::mt19937& random) {
    std::string path = "/api/v1/appointments?user=" + user;
    if (window_days == 0) return path;
    std::int64_t from = kYearStart + static_cast<std::int64_t>(random() % 365) * 86400;
    return path + "&from=" + rfc3339(from) + "&to=" + rfc3339(from + window_days * 86400);
  };
  for (int i = 0; i < 400; ++i) {
    seed.Post("/api/v1/appointments", auth, appointment_body(users[i % users.size()], i),
              "application/json");
  }

  std::atomic<bool> running{true};
  std::thread syncer([&] {
    while (running) {
      for (const auto& user : users) server.scheduler().trigger(user, service::Trigger::kSyncNow);
      std::this_thread::sleep_for(500ms);
    }
  });

  std::mutex samples_mutex;
  std::vector<Sample> samples;
  auto begin = std::chrono::steady_clock::now() + 200ms;
  const auto interval = std::chrono::duration<double>(static_cast<double>(clients) / rate);
  const long per_client = static_cast<long>(rate) * seconds / clients;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 random(static_cast<unsigned>(c) * 7919u + 1);
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // as curl and most HTTP clients do
      client.set_read_timeout(10, 0);
      std::vector<Sample> local;
      std::vector<long> mine;  // ids this client created
      auto offset = std::chrono::duration<double>(interval.count() * c / clients);
      for (long n = 0; n < per_client; ++n) {
        auto due = begin + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               offset + interval * static_cast<double>(n));
        std::this_thread::sleep_until(due);
        const std::string& user = users[random() % users.size()];
        int kind = static_cast<int>(random() % 10);
        bool write = kind >= 7;  // 70 % reads, 30 % writes
        bool ok = false;
        if (kind < 5) {
          auto r = client.Get(agenda_query(user, random).c_str(), auth);
          ok = r && r->status == 200;
        } else if (kind < 7) {
          auto r = client.Get(("/api/v1/users/" + user + "/status").c_str(), auth);
          ok = r && r->status == 200;
        } else if (kind < 9 || mine.empty()) {
          auto r = client.Post("/api/v1/appointments", auth,
                               appointment_body(user, static_cast<int>(random() % 100000)),
                               "application/json");
          ok = r && r->status == 201;
          if (ok) mine.push_back(json::parse(r->body)["id"].get<long>());
        } else {
          long id = mine[random() % mine.size()];
          std::string path = "/api/v1/appointments/" + std::to_string(id);
          auto current = client.Get(path.c_str(), auth);
          if (current && current->status == 200) {
            httplib::Headers headers = auth;
            headers.emplace("If-Match", current->get_header_value("ETag"));
            auto r =
                client.Patch(path.c_str(), headers, R"({"location":"Room 7"})", "application/json");
            ok = r && r->status == 200;
          }
        }
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - due)
                .count();
        local.push_back({ms, write, ok});
      }
      std::lock_guard lock(samples_mutex);
      samples.insert(samples.end(), local.begin(), local.end());
    });
  }
  for (auto& thread : threads) thread.join();
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  running = false;
  syncer.join();
  server.stop();

  std::vector<double> all, reads, writes;
  long errors = 0;
  for (const auto& sample : samples) {
    all.push_back(sample.ms);
    (sample.write ? writes : reads).push_back(sample.ms);
    if (!sample.ok) ++errors;
  }
  json result = {
      {"benchmark", "service_api_load"},
      {"target_rate_per_s", rate},
      {"seconds", seconds},
      {"clients", clients},
      {"database_readers", readers},
      {"read_window_days", window_days},
      {"fsync_every_write", fsync_every_write},
      {"requests", samples.size()},
      {"achieved_rate_per_s", static_cast<double>(samples.size()) / elapsed},
      {"errors", errors},
      {"syncs_run", syncs.load()},
      {"latency_ms",
       {{"all",
         {{"p50", percentile(all, 0.50)},
          {"p99", percentile(all, 0.99)},
          {"max", percentile(all, 1.0)}}},
        {"reads", {{"p50", percentile(reads, 0.50)}, {"p99", percentile(reads, 0.99)}}},
        {"writes", {{"p50", percentile(writes, 0.50)}, {"p99", percentile(writes, 0.99)}}}}}};
  std::cout << result.dump(2) << "\n";
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return errors == 0 ? 0 : 2;
}
