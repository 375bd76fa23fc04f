// Fairness between organisations (issue 16 §6), as real processes on loopback: one
// `agendasync serve` holding two organisations on one exsim. Organisation A (the node's
// default) starts the first syncs of large agendas — by default 8 users with 20,000 items
// each, more first syncs than workers, each holding a worker for seconds — while
// organisation B's host changes are measured from the API write until exsim shows them
// ("wake to Exchange").
//
// The peer is in the same run: B's latency first on an idle node (A's users not yet
// enabled), then while A's first syncs hold the workers. Prints one JSON object; the target
// is B's p99 under 1 s during A's first sync.
//
//   bench_org_fairness [--users 8] [--items 20000] [--changes 60] [--workers 4]
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

#include <nlohmann/json.hpp>

#include "bench/service/ews_daemon_setup.h"
#include "bench/service/exsim_admin.h"
#include "net/http.h"
#include "service/service_db.h"
#include "service/tokens.h"
#include "store/sqlite_agenda_store.h"
#include "tests/demo/serve_process.h"
#include "tools/exsim/launcher/exsim_process.h"

using namespace agendasync;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string token(const std::filesystem::path& database, const std::string& org,
                  const std::string& role) {
  auto db = service::ServiceDb::open(database);
  if (!db) return {};
  auto created = service::TokenStore(**db, org).create(role, "fairness bench");
  return created ? created->value.reveal() : std::string();
}

int run_cli(const std::vector<std::string>& args) {
  std::string command = AGENDASYNC_CLI_BINARY;
  for (const auto& arg : args) command += " '" + arg + "'";
  command += " >/dev/null";
  return std::system(command.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  int users = 8, items = 20000, changes = 60, workers = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--users") users = std::clamp(value, 1, 200);
    if (flag == "--items") items = std::clamp(value, 1, 100000);
    if (flag == "--changes") changes = std::clamp(value, 1, 2000);
    if (flag == "--workers") workers = std::clamp(value, 1, 64);
  }
  auto dir = std::filesystem::temp_directory_path() /
             ("agendasync-fairness-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);

  std::vector<std::string> exsim_args = {"--version", "Exchange2016",
                                         "--auth",    "basic",
                                         "--account", "svc@example.com:s3cret:impersonation",
                                         "--mailbox", "bee@example.com"};
  for (int u = 0; u < users; ++u) {
    exsim_args.push_back("--mailbox");
    exsim_args.push_back("a" + std::to_string(u) + "@example.com");
  }
  exsimtest::ExsimProcess exsim(exsim_args);
  benchsetup::ExsimAdmin admin(exsim);
  const auto database = dir / "agenda.db";
  benchsetup::write_ews_config(dir, database, exsim);
  const std::string config = (dir / "agendasync.toml").string();
  ::setenv("AGENDASYNC_SECRET_KEY",
           "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);

  // Organisation A (default): users not yet enabled, their agenda already full.
  {
    auto store = store::open_sqlite_agenda_store(
        database, store::SqliteOptions{.create = true, .fsync_every_commit = false});
    if (!store) return std::cerr << store.error().message << "\n", 1;
    const auto start = std::chrono::sys_days{std::chrono::year{2027} / 1 / 11} + 8h;
    for (int u = 0; u < users; ++u) {
      User user;
      user.user_name = "a" + std::to_string(u);
      (void)(*store)->add_user(user);
      for (int i = 0; i < items; ++i) {
        Appointment item;
        item.subject = "A " + std::to_string(u) + "/" + std::to_string(i);
        item.owner = user.user_name;
        item.time_zone = "Europe/Amsterdam";
        // 24 a day (hourly), so 20,000 items stay inside the sync's horizon (about 2.3
        // years from 2027-01-11); beyond it a first sync leaves items alone by design.
        item.start = start + std::chrono::hours(i);
        item.end = item.start + 30min;
        if (auto made = (*store)->create_appointment(item); !made) {
          return std::cerr << made.error().message << "\n", 1;
        }
      }
    }
  }
  // Organisation B on the same Exchange, one user.
  std::ofstream(dir / "beta.json") << json{
      {"backend", "ews"},
      {"ews",
       {{"url", exsim.ews_url()},
        {"auth", "basic"},
        {"user", "svc@example.com"},
        {"version", "2016"}}}}.dump();
  if (run_cli({"--config", config, "orgs", "add", "beta"}) != 0 ||
      run_cli({"--config", config, "orgs", "set", "beta", "--connection",
               (dir / "beta.json").string(), "--secret",
               "exchange_password=file:" + (dir / "password").string()}) != 0) {
    return std::cerr << "cannot create organisation beta\n", 1;
  }
  {
    auto store = store::open_sqlite_agenda_store(dir / "organisations" / "beta" / "agenda.db");
    if (!store) return std::cerr << store.error().message << "\n", 1;
    User bee;
    bee.user_name = "bee";
    bee.sync_enabled = true;
    store::OrganisationSettings settings;
    settings.mail_domain = "example.com";
    if (!(*store)->set_settings(settings) || !(*store)->add_user(bee)) return 1;
  }
  const std::string a_admin = token(database, "default", "admin");
  const std::string b_host = token(database, "beta", "integration");
  const std::string ops = token(database, "", "operator");

  const auto started_serve = Clock::now();
  demotest::ServeProcess serve(
      AGENDASYNC_CLI_BINARY,
      {"--config", config, "serve", "--listen", "127.0.0.1:0", "--safety-net-minutes", "60",
       "--workers", std::to_string(workers), "--no-streaming"},
      dir / "serve.log");
  httplib::Client api("127.0.0.1", serve.port());
  api.set_read_timeout(60, 0);
  api.set_keep_alive(true);
  const httplib::Headers as_a{{"Authorization", "Bearer " + a_admin}};
  const httplib::Headers as_b{{"Authorization", "Bearer " + b_host}};
  const httplib::Headers as_ops{{"Authorization", "Bearer " + ops}};

  auto created = api.Post("/api/v1/appointments", as_b,
                          json{{"subject", "bee 0"},
                               {"start", "2027-01-12T09:00:00Z"},
                               {"end", "2027-01-12T10:00:00Z"},
                               {"time_zone", "Europe/Amsterdam"},
                               {"owner", "bee"}}
                              .dump(),
                          "application/json");
  if (!created || created->status != 201) return std::cerr << "cannot create in B\n", 1;
  const std::string path = "/api/v1/appointments/" + json::parse(created->body)["id"].dump();
  auto b_subject = [&] {
    for (const auto& item : admin.call("GET", "mailboxes/bee@example.com/items")) {
      if (item.value("folder", "") == "calendar") return item.value("subject", "");
    }
    return std::string();
  };
  auto a_running = [&] {
    auto page = api.Get("/metrics", as_ops);
    if (!page || page->status != 200) return -1.0;
    const std::string series = "\nagendasync_org_syncs_running{org=\"default\"} ";
    auto at = page->body.find(series);
    return at == std::string::npos ? 0.0 : std::atof(page->body.c_str() + at + series.size());
  };
  auto wait_until = [](Clock::time_point from, auto condition) -> std::optional<double> {
    while (Clock::now() < from + 60s) {
      if (condition())
        return std::chrono::duration<double, std::milli>(Clock::now() - from).count();
      std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
  };
  if (!wait_until(Clock::now(), [&] { return b_subject() == "bee 0"; })) {
    return std::cerr << "B's first item did not reach exsim; log:\n" << serve.log(), 1;
  }
  std::this_thread::sleep_for(500ms);

  long failures = 0;
  auto measure = [&](int count, const std::string& label, bool only_while_a_busy,
                     std::vector<double>& into) {
    for (int i = 1; i <= count; ++i) {
      if (only_while_a_busy && a_running() <= 0) break;
      auto current = api.Get(path, as_b);
      if (!current || current->status != 200) {
        ++failures;
        continue;
      }
      httplib::Headers write = as_b;
      write.emplace("If-Match", current->get_header_value("ETag"));
      const std::string subject = label + " " + std::to_string(i);
      const auto from = Clock::now();
      auto patched = api.Patch(path, write, json{{"subject", subject}}.dump(), "application/json");
      if (!patched || patched->status != 200) {
        ++failures;
        continue;
      }
      if (auto ms = wait_until(from, [&] { return b_subject() == subject; })) {
        into.push_back(*ms);
      } else {
        ++failures;
      }
    }
  };

  // Peer: B on an idle node.
  std::vector<double> idle;
  measure(changes / 2, "idle", false, idle);

  // A's users switch sync on: their first syncs start at once.
  const auto a_started = Clock::now();
  for (int u = 0; u < users; ++u) {
    const std::string name = "a" + std::to_string(u);
    api.Patch("/api/v1/users/" + name, as_a, json{{"admin_managed", true}}.dump(),
              "application/json");
    auto on = api.Put("/api/v1/users/" + name + "/sync", as_a, json{{"enabled", true}}.dump(),
                      "application/json");
    if (!on || on->status != 200) return std::cerr << "cannot enable " << name << "\n", 1;
  }
  std::this_thread::sleep_for(300ms);
  std::vector<double> busy;
  measure(changes, "busy", true, busy);
  const double a_busy_at_end = a_running();

  // A's first sync to the end, for its throughput: every A pair has one synced run.
  auto a_synced = [&] {
    auto page = api.Get("/metrics", as_ops);
    if (!page || page->status != 200) return -1.0;
    const std::string series = "\nagendasync_syncs_total{org=\"default\",result=\"synced\"} ";
    auto at = page->body.find(series);
    return at == std::string::npos ? 0.0 : std::atof(page->body.c_str() + at + series.size());
  };
  std::optional<double> a_done;
  while (Clock::now() < a_started + 900s) {
    if (a_synced() >= users && a_running() <= 0) {
      a_done = std::chrono::duration<double, std::milli>(Clock::now() - a_started).count();
      break;
    }
    std::this_thread::sleep_for(1s);
  }
  std::size_t a_items = 0;
  for (int u = 0; u < users; ++u) {
    a_items += admin.call("GET", "mailboxes/a" + std::to_string(u) + "@example.com/items").size();
  }
  const int stopped = serve.stop(SIGTERM);
  json result = {
      {"benchmark", "org_fairness"},
      {"workers", workers},
      {"organisation_a",
       {{"users", users},
        {"items", users * items},
        {"first_sync_ms", a_done ? json(*a_done) : json(nullptr)},
        {"items_in_exchange", a_items},
        {"items_per_second",
         a_done ? json(static_cast<double>(a_items) / (*a_done / 1000)) : json(nullptr)}}},
      {"organisation_b_wake_to_exchange",
       {{"idle_node", benchsetup::latency_stats(idle)},
        {"during_a_first_sync", benchsetup::latency_stats(busy)},
        {"a_still_syncing_after_last_change", a_busy_at_end > 0}}},
      {"failures", failures},
      {"daemon_exit_code", stopped},
      {"serve_seconds", std::chrono::duration<double>(Clock::now() - started_serve).count()},
      {"target_p99_ms", 1000}};
  return benchsetup::finish_run(result, failures == 0 && stopped == 0, dir);
}
