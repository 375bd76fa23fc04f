// Graph real time at organisation scale (issue 14, R43): `agendasync serve` (backend graph) and
// exsim (Graph's subscription limits on, the defaults) as real processes on loopback, holding
// N mailboxes through Graph change notifications. Per N it measures:
//   - subscription creation: time from start until every mailbox has a subscription (the
//     daemon's agendasync_graph_mailboxes{org="default",state="subscribed"}), and the 429s exsim
//     answered;
//   - wake latency: a change made through Graph by another client in a random mailbox, from
//     exsim's 201 until the host change feed holds it; p50/p99/max over C changes, one at a time;
//   - the daemon's RSS (now and peak), threads, and Graph's judgement of its answers (failed,
//     slow, slowest delivery, largest batch);
// and, over two sizes, the RSS each further mailbox costs. Prints one JSON object.
//
//   bench_graph_realtime [--mailboxes 1000,10000] [--changes 200]
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/graph/token.h"
#include "net/http.h"
#include "service/secrets/key_ring.h"
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

constexpr const char* kTenant = "11111111-2222-3333-4444-555555555555";
constexpr const char* kClientId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
constexpr const char* kSecret = "graph-app-s3cret";

std::string mailbox(int i) { return fmt::format("m{:05}@example.com", i); }
std::string user_name(int i) { return fmt::format("m{:05}", i); }

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

/// A line of /proc/PID/status ("VmRSS", "VmHWM", "Threads") as a number (kB for sizes).
long proc_status(pid_t pid, const std::string& key) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(key + ":")) return std::stol(line.substr(key.size() + 1));
  }
  return -1;
}

/// A loopback port nobody listens on now: the daemon's address must be known before it starts
/// (Graph's notification URL is [server] public_url).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

/// Another application of the tenant, talking to exsim's Graph.
class GraphClient {
 public:
  explicit GraphClient(const exsimtest::ExsimProcess& exsim) : base_(exsim.base_url() + "/v1.0") {
    net::ClientOptions options;
    options.tls.ca_bundle_path = exsim.ca_path();
    options.max_attempts = 1;
    http_ = net::make_curl_client(options);
    graph::AppCredentials app;
    app.authority = exsim.base_url();
    app.tenant = kTenant;
    app.client_id = kClientId;
    app.client_secret = Secret(kSecret);
    tokens_ = std::make_unique<graph::TokenProvider>(*http_, std::move(app));
  }
  long post(const std::string& path, const json& body) {
    net::Request request;
    request.method = "POST";
    request.url = base_ + path;
    request.headers = {{"Accept", "application/json"}, {"Content-Type", "application/json"}};
    request.body = body.dump();
    auto response = http_->send(request, tokens_->credentials());
    return response ? response->status : 0;
  }

 private:
  std::string base_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<graph::TokenProvider> tokens_;
};

json exsim_get(const exsimtest::ExsimProcess& exsim, const std::string& path) {
  net::ClientOptions options;
  options.tls.ca_bundle_path = exsim.ca_path();
  auto http = net::make_curl_client(options);
  net::Request request;
  request.method = "GET";
  request.url = exsim.base_url() + path;
  request.headers = {{"X-Exsim-Admin-Token", exsim.admin_token()}};
  auto response = http->send(request, net::Credentials{});
  if (!response || response->status != 200) return json();
  return json::parse(response->body, nullptr, false);
}

/// One metric value from /metrics (the line that starts with `series`), -1 when absent.
double metric(httplib::Client& api, const httplib::Headers& auth, const std::string& series) {
  auto res = api.Get("/metrics", auth);
  if (!res || res->status != 200) return -1;
  std::istringstream text(res->body);
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

template <class F>
bool wait_for(F condition, std::chrono::seconds limit, std::chrono::milliseconds poll = 200ms) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

json run(int mailboxes, int changes) {
  json out = {{"mailboxes", mailboxes}};
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("agendasync-graph-rt-{}-{}", mailboxes, std::random_device{}());
  std::filesystem::create_directories(dir);
  {
    json config = {
        {"mailboxes", json::array()},
        {"graph",
         {{"apps",
           {{{"tenant", kTenant},
             {"client_id", kClientId},
             {"secret", kSecret},
             {"roles", {"Calendars.ReadWrite", "User.Read.All", "MailboxSettings.Read"}}}}}}}};
    for (int i = 0; i < mailboxes; ++i) config["mailboxes"].push_back(mailbox(i));
    std::ofstream(dir / "exsim.json") << config.dump();
  }
  exsimtest::ExsimProcess exsim({"--config", (dir / "exsim.json").string()});
  const auto database = dir / "agenda.db";
  std::string token;
  {
    auto store = store::open_sqlite_agenda_store(
        database, store::SqliteOptions{.create = true, .fsync_every_commit = false});
    if (!store) throw std::runtime_error(store.error().message);
    for (int i = 0; i < mailboxes; ++i) {
      User user;
      user.user_name = user_name(i);
      user.display_name = user_name(i);
      user.sync_enabled = true;
      if (auto added = (*store)->add_user(user); !added) throw std::runtime_error("add_user");
    }
    auto db = service::ServiceDb::open(database);
    if (!db) throw std::runtime_error(db.error().message);
    service::TokenStore tokens(**db);
    token = tokens.create("integration", "graph real-time bench")->value.reveal();
  }
  std::ofstream(dir / "keys") << *service::secrets::generate_key_text("k1") << "\n";
  std::ofstream(dir / "client-secret") << kSecret << "\n";
  const int port = free_port();
  std::ofstream(dir / "agendasync.toml")
      << "database = \"" << database.string() << "\"\n"
      << "[exchange]\nbackend = \"graph\"\nmail_domain = \"example.com\"\n"
      << "[graph]\ntenant_id = \"" << kTenant << "\"\nclient_id = \"" << kClientId << "\"\n"
      << "client_secret_file = \"" << (dir / "client-secret").string() << "\"\n"
      << "graph_url = \"" << exsim.base_url() << "/v1.0\"\n"
      << "authority_url = \"" << exsim.base_url() << "\"\n"
      << "[tls]\nca_bundle = \"" << exsim.ca_path() << "\"\n"
      << "[server]\npublic_url = \"http://127.0.0.1:" << port << "/\"\n";

  const auto started = Clock::now();
  demotest::ServeProcess serve(
      AGENDASYNC_CLI_BINARY,
      {"--config", (dir / "agendasync.toml").string(), "serve", "--listen",
       fmt::format("127.0.0.1:{}", port), "--secret-key-file", (dir / "keys").string(),
       "--safety-net-minutes", "60", "--watch-refresh-seconds", "5"},
      dir / "serve.log", 120s);
  httplib::Client api("127.0.0.1", serve.port());
  api.set_read_timeout(30, 0);
  api.set_keep_alive(true);
  const httplib::Headers auth{{"Authorization", "Bearer " + token}};
  const std::string subscribed = R"(agendasync_graph_mailboxes{org="default",state="subscribed"})";
  const bool all = wait_for([&] { return metric(api, auth, subscribed) == mailboxes; }, 1800s);
  out["subscribed"] = metric(api, auth, subscribed);
  out["subscribe_seconds"] = std::chrono::duration<double>(Clock::now() - started).count();
  out["all_subscribed"] = all;
  out["throttled_429"] =
      metric(api, auth, "agendasync_graph_subscription_throttled{org=\"default\"}");
  wait_for(
      [&] {
        return metric(api, auth, "agendasync_sync_queue_depth") == 0 &&
               metric(api, auth, "agendasync_syncs_running") == 0;
      },
      1800s);
  out["settle_seconds"] = std::chrono::duration<double>(Clock::now() - started).count();
  out["rss_kb_idle"] = proc_status(serve.pid(), "VmRSS");
  out["threads"] = proc_status(serve.pid(), "Threads");

  // Wake latency: one change at a time, each in a random mailbox.
  std::int64_t since = 0;
  for (int page = 0; page < 10000; ++page) {
    auto res = api.Get(fmt::format("/api/v1/changes?since={}&limit=1000", since), auth);
    if (!res || res->status != 200) break;
    auto feed = json::parse(res->body);
    since = feed.at("next").get<std::int64_t>();
    if (!feed.value("more", false)) break;
  }
  GraphClient graph(exsim);
  std::mt19937 random(14);
  std::uniform_int_distribution<int> pick(0, mailboxes - 1);
  std::vector<double> wake_ms;
  int failures = 0;
  std::set<std::string> seen;
  for (int n = 0; n < changes; ++n) {
    const std::string subject = fmt::format("bench change {}", n);
    // Inside the sync horizon (the e2e tests' weeks of January 2027).
    const std::string day = fmt::format("2027-01-{:02}", 4 + n % 28);
    const long status =
        graph.post("/users/" + mailbox(pick(random)) + "/events",
                   {{"subject", subject},
                    {"start", {{"dateTime", day + "T09:00:00"}, {"timeZone", "UTC"}}},
                    {"end", {{"dateTime", day + "T09:30:00"}, {"timeZone", "UTC"}}}});
    const auto recorded = Clock::now();
    if (status != 201) {
      std::cerr << "bench_graph_realtime: creating an event answered " << status << "\n";
      ++failures;
      continue;
    }
    bool found = false;
    while (!found && Clock::now() - recorded < 30s) {
      auto res = api.Get(fmt::format("/api/v1/changes?since={}&limit=1000", since), auth);
      if (res && res->status == 200) {
        const json feed = json::parse(res->body);  // named: the loop must not outlive it
        for (const auto& change : feed.at("changes")) {
          if (change.value("entity", "") != "appointment") continue;
          const std::string id = change.at("id").is_string()
                                     ? change.at("id").get<std::string>()
                                     : std::to_string(change.at("id").get<std::int64_t>());
          if (seen.contains(id)) continue;
          auto item = api.Get("/api/v1/appointments/" + id, auth);
          if (!item || item->status != 200) continue;
          seen.insert(id);
          if (json::parse(item->body).value("subject", "") == subject) found = true;
        }
      }
      if (!found) std::this_thread::sleep_for(5ms);
    }
    if (!found) {
      auto res = api.Get(fmt::format("/api/v1/changes?since={}&limit=1000", since), auth);
      std::cerr << "bench_graph_realtime: '" << subject << "' not in the host feed after 30 s: "
                << (res ? res->body.substr(0, 400) : std::string("no answer")) << "\n";
      ++failures;
      continue;
    }
    wake_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - recorded).count());
  }
  out["wake"] = {{"samples", wake_ms.size()},
                 {"p50_ms", percentile(wake_ms, 0.5)},
                 {"p99_ms", percentile(wake_ms, 0.99)},
                 {"max_ms", percentile(wake_ms, 1.0)}};
  out["failures"] = failures;
  out["rss_kb"] = proc_status(serve.pid(), "VmRSS");
  out["rss_peak_kb"] = proc_status(serve.pid(), "VmHWM");
  out["rss_kb_per_mailbox"] = static_cast<double>(out["rss_kb"].get<long>()) / mailboxes;
  out["exsim"] = exsim_get(exsim, "/exsim/admin/graph/stats");
  const auto stopping = Clock::now();
  out["daemon_exit_code"] = serve.stop(SIGTERM, 120s);
  out["stop_seconds"] = std::chrono::duration<double>(Clock::now() - stopping).count();
  std::error_code ignored;
  if (std::getenv("BENCH_KEEP_DIR")) {
    std::cerr << "bench_graph_realtime: kept " << dir << "\n";  // the daemon's log is there
  } else {
    std::filesystem::remove_all(dir, ignored);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1000, 10000};
  int changes = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--changes") changes = std::clamp(std::atoi(argv[i + 1]), 1, 5000);
    if (flag == "--mailboxes") {
      sizes.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string n; std::getline(list, n, ',');) sizes.push_back(std::max(1, std::stoi(n)));
    }
  }
  json result = {{"changes_per_size", changes}, {"runs", json::array()}};
  for (int n : sizes) {
    std::cerr << "bench_graph_realtime: " << n << " mailboxes\n";
    result["runs"].push_back(run(n, changes));
  }
  if (result["runs"].size() >= 2) {
    // What one more mailbox costs: the RSS difference between the two largest sizes.
    const auto& a = result["runs"][result["runs"].size() - 2];
    const auto& b = result["runs"].back();
    result["rss_kb_per_added_mailbox"] =
        static_cast<double>(b["rss_kb"].get<long>() - a["rss_kb"].get<long>()) /
        (b["mailboxes"].get<int>() - a["mailboxes"].get<int>());
  }
  std::cout << result.dump(1) << "\n";
}
