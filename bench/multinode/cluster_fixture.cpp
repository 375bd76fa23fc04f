#include "bench/multinode/cluster_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/multinode/process_cpu.h"
#include "store/pg_agenda_store.h"
#include "tests/e2e/world.h"

namespace agendasync::bench {

namespace {

constexpr const char* kTemplate = "bench_template";

/// Set-up must not fail: a failed step ends the run (unwinding stops what was started).
[[noreturn]] void die(const std::string& what, const std::string& detail) {
  throw std::runtime_error(what + ": " + detail);
}

}  // namespace

std::string mailbox_of(int i) { return fmt::format("m{:05}@example.com", i); }

std::string organisation_of(int i, int organisations) {
  return fmt::format("bench{}", 1 + i % organisations);
}

double metric_sum(const std::string& page, const std::string& name, const std::string& match) {
  double sum = 0;
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;  // agendasync_syncs_total_x is another series
    const auto value_at = line.rfind(' ');
    if (!match.empty() && line.substr(0, value_at).find(match) == std::string::npos) continue;
    sum += std::atof(line.c_str() + value_at + 1);
  }
  return sum;
}

std::string Node::metrics(const std::string& token) {
  auto page = api->Get("/metrics", {{"Authorization", "Bearer " + token}});
  return page && page->status == 200 ? page->body : std::string();
}

double Node::cpu_seconds() const {
  auto stat = proc_stat(serve->pid());
  return stat ? ticks_to_seconds(stat->own_ticks) : 0;
}

std::vector<int> Run::stop_nodes() {
  std::vector<int> codes;
  for (auto& node : nodes_) {
    codes.push_back(node.serve ? node.serve->stop(SIGTERM, std::chrono::seconds(120)) : -1);
    node.serve.reset();
  }
  return codes;
}

Run::~Run() {
  stop_nodes();
  exsim_.reset();
  if (server_ && !database_.empty()) {
    (void)server_->admin("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
  }
}

Fixture::Fixture(std::filesystem::path dir, FixtureOptions options)
    : dir_(std::move(dir)), options_(options) {
  auto server = DedicatedPostgres::start(dir_ / "pg");
  if (!server) die("PostgreSQL", server.error().message);
  server_ = std::move(*server);
  if (auto made = server_->admin(std::string("CREATE DATABASE ") + kTemplate); !made) {
    die("the template database", made.error().message);
  }
  const auto config = dir_ / "template.toml";
  write_config(config, server_->conninfo(kTemplate), "");
  auto step = [&](const std::vector<std::string>& args) {
    auto out = cli(config, args);
    if (!out) die("agendasync " + args[0], out.error().message);
    return *out;
  };
  step({"init", "--mail-domain", "example.com"});
  const std::string token = step({"tokens", "create", "--role", "operator", "--label", "bench"});
  operator_token_ = token.substr(0, token.find('\n'));
  step({"secrets", "new-key", "--file", (dir_ / "keys").string()});
  // Organisation default would count in each node's fair share while holding no mailbox.
  step({"orgs", "set", "default", "--suspend"});
  for (const auto& org : organisation_ids()) {
    step({"orgs", "add", org, "--name", org});
    step({"orgs", "set", org, "--suspend"});
  }
  // One writer per organisation, at once: 30,000 appointments one at a time take minutes.
  std::vector<std::thread> writers;
  std::vector<Result<void>> filled(options_.organisations);
  for (int k = 0; k < options_.organisations; ++k) {
    writers.emplace_back(
        [&, k] { filled[k] = fill(server_->conninfo(kTemplate), organisation_ids()[k], k); });
  }
  for (auto& writer : writers) writer.join();
  for (const auto& result : filled) {
    if (!result) die("filling the agenda", result.error().message);
  }
  std::ofstream(dir_ / "password") << "s3cret\n";
}

std::vector<std::string> Fixture::organisation_ids() const {
  std::vector<std::string> ids;
  for (int k = 0; k < options_.organisations; ++k) ids.push_back(fmt::format("bench{}", k + 1));
  return ids;
}

Result<void> Fixture::fill(const std::string& conninfo, const std::string& org, int first_user) {
  auto store = store::open_pg_agenda_store({conninfo, "org_" + org});
  if (!store) return std::unexpected(store.error());
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  for (int i = first_user; i < options_.mailboxes; i += options_.organisations) {
    User user;
    user.user_name = fmt::format("U{:05}", i);
    user.display_name = user.user_name;
    user.exchange_address = mailbox_of(i);
    user.sync_enabled = true;
    if (auto added = (*store)->add_user(user); !added) return added;
    for (int j = 0; j < options_.items_per_mailbox; ++j) {
      Appointment item;
      item.subject = fmt::format("bench {} #{}", user.user_name, j);
      item.start = std::chrono::time_point_cast<std::chrono::seconds>(
          today + std::chrono::days(1 + j) + std::chrono::hours(9 + i % 8));
      item.end = item.start + std::chrono::minutes(60);
      item.time_zone = "Europe/Amsterdam";
      item.owner = user.user_name;
      auto made = (*store)->create_appointment(item);
      if (!made) return std::unexpected(made.error());
    }
  }
  return {};
}

void Fixture::write_config(const std::filesystem::path& path, const std::string& database,
                           const std::string& ca_bundle) const {
  std::ofstream out(path);
  out << "database = \"" << database << "\"\n";
  if (!ca_bundle.empty()) out << "[tls]\nca_bundle = \"" << ca_bundle << "\"\n";
  out << "[cluster]\nlease_seconds = " << options_.lease_seconds << "\n";
}

std::string cli_binary() {
  const char* chosen = std::getenv("AGENDASYNC_BENCH_CLI");
  return chosen && *chosen ? chosen : AGENDASYNC_CLI_BINARY;
}

Result<std::string> Fixture::cli(const std::filesystem::path& config,
                                 const std::vector<std::string>& args) {
  const auto out = dir_ / "cli.out";
  const auto err = dir_ / "cli.err";
  // Set-up is always this build's (its schemas are the newest; an older node opens them within
  // its compatibility window): only the nodes run $AGENDASYNC_BENCH_CLI.
  std::vector<std::string> argv{AGENDASYNC_CLI_BINARY, "--config", config.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const e2e::CommandResult ran = e2e::run_command(argv, out, err);
  if (ran.exit_code != 0) {
    return fail(ErrorKind::kPermanent, "exit " + std::to_string(ran.exit_code) + ": " + ran.err);
  }
  return ran.out;
}

Result<std::unique_ptr<Run>> Fixture::start_run(int nodes) {
  std::unique_ptr<Run> run(new Run());
  run->server_ = server_.get();
  run->database_ = fmt::format("bench_run{}", ++runs_);
  if (auto made = server_->admin("CREATE DATABASE " + run->database_ + " TEMPLATE " + kTemplate);
      !made) {
    run->database_.clear();
    return std::unexpected(made.error());
  }
  const auto dir = dir_ / run->database_;
  std::filesystem::create_directories(dir);

  // A fresh exsim: empty mailboxes, so every run's first sync writes every appointment.
  nlohmann::json exsim_config = {
      {"version", "Exchange2016"},
      {"auth", {"basic"}},
      {"mailboxes", nlohmann::json::array()},
      {"accounts",
       {{{"user", "svc@example.com"}, {"password", "s3cret"}, {"impersonation", true}}}}};
  for (int i = 0; i < options_.mailboxes; ++i) exsim_config["mailboxes"].push_back(mailbox_of(i));
  std::ofstream(dir / "exsim.json") << exsim_config.dump();
  run->exsim_ = std::make_unique<exsimtest::ExsimProcess>(
      std::vector<std::string>{"--config", (dir / "exsim.json").string()});

  const auto config = dir / "agendasync.toml";
  write_config(config, server_->conninfo(run->database_), run->exsim_->ca_path());
  std::ofstream(dir / "connection.json") << nlohmann::json{
      {"backend", "ews"},
      {"ews",
       {{"url", run->exsim_->ews_url()},
        {"auth", "basic"},
        {"user", "svc@example.com"},
        {"version", "2016"}}}}.dump();
  for (const auto& org : organisation_ids()) {
    auto set = cli(config, {"orgs", "set", org, "--connection", (dir / "connection.json").string(),
                            "--secret", "exchange_password=file:" + (dir_ / "password").string(),
                            "--secret-key-file", (dir_ / "keys").string()});
    if (!set) return std::unexpected(set.error());
  }
  for (int n = 1; n <= nodes; ++n) {
    Node node;
    node.serve = std::make_unique<demotest::ServeProcess>(
        cli_binary(),
        std::vector<std::string>{"--config", config.string(), "serve", "--listen", "127.0.0.1:0",
                                 "--secret-key-file", (dir_ / "keys").string(), "--node-name",
                                 fmt::format("node-{}", n), "--workers",
                                 std::to_string(options_.workers), "--safety-net-seconds",
                                 std::to_string(options_.safety_net_seconds)},
        dir / fmt::format("node-{}.log", n), std::chrono::seconds(120));
    node.api = std::make_unique<httplib::Client>("127.0.0.1", node.serve->port());
    node.api->set_read_timeout(60, 0);
    node.api->set_keep_alive(true);
    run->nodes_.push_back(std::move(node));
  }
  return run;
}

}  // namespace agendasync::bench
