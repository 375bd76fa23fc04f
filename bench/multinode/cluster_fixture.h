#pragma once
/// The multi-node benchmark's world (issue 17): one PostgreSQL of its own, an agenda made once
/// (organisations, users with sync on, a few host appointments each, every organisation
/// suspended) and copied per run as a database template, and per run a fresh exsim holding
/// every mailbox and N `agendasync serve` nodes on the copy, started as the three-node tests
/// start them (tests/e2e/serve_postgres_test.cpp: the real binary, `--node-name`, one
/// configuration for every node).
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>

#include "bench/multinode/dedicated_postgres.h"
#include "core/error.h"
#include "tests/demo/serve_process.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace agendasync::bench {

struct FixtureOptions {
  int mailboxes = 10'000;
  int organisations = 6;
  int items_per_mailbox = 3;
  std::size_t workers = 4;  ///< serve --workers on every node
  int safety_net_seconds = 60;
  int lease_seconds = 30;  ///< [cluster] lease_seconds (the product's default)
};

/// The agendasync binary the serve nodes run: $AGENDASYNC_BENCH_CLI when set (to measure a
/// before and an after build with the same benchmark), else the build's own. The set-up's
/// CLI calls are always the build's own.
std::string cli_binary();

/// The mailbox of user `i`, and the organisation it belongs to.
std::string mailbox_of(int i);
std::string organisation_of(int i, int organisations);

/// `/metrics` of one node: the sum of every series of `name` whose labels include `match`
/// ("side=\"exchange\""; empty = all series).
double metric_sum(const std::string& page, const std::string& name, const std::string& match = "");

/// One node as the benchmark reads it.
struct Node {
  std::unique_ptr<demotest::ServeProcess> serve;
  std::unique_ptr<httplib::Client> api;
  /// GET /metrics (operator token); empty when it failed.
  std::string metrics(const std::string& token);
  /// user + system CPU of the serve process so far, seconds.
  double cpu_seconds() const;
};

/// One run: a copy of the template database, its exsim and its nodes. Stopping it (the
/// destructor) stops the nodes (SIGTERM), exsim, and drops the copy.
class Run {
 public:
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  ~Run();
  std::vector<Node>& nodes() { return nodes_; }
  const std::string& database() const { return database_; }
  /// Exit codes of the nodes after SIGTERM (stops them).
  std::vector<int> stop_nodes();

 private:
  friend class Fixture;
  Run() = default;
  const DedicatedPostgres* server_ = nullptr;
  std::string database_;
  std::unique_ptr<exsimtest::ExsimProcess> exsim_;
  std::vector<Node> nodes_;
};

class Fixture {
 public:
  /// Starts PostgreSQL under `dir` and builds the template (users, appointments); exits the
  /// process with a message when a step fails (set-up must not fail).
  Fixture(std::filesystem::path dir, FixtureOptions options);
  DedicatedPostgres& server() { return *server_; }
  const std::string& operator_token() const { return operator_token_; }
  const FixtureOptions& options() const { return options_; }
  std::vector<std::string> organisation_ids() const;

  /// A copy of the template, its connections pointed at a new exsim, and `nodes` serve
  /// processes on it (all organisations still suspended).
  Result<std::unique_ptr<Run>> start_run(int nodes);

 private:
  /// `agendasync --config CONFIG args...`; its stdout, or the error with its stderr.
  Result<std::string> cli(const std::filesystem::path& config,
                          const std::vector<std::string>& args);
  void write_config(const std::filesystem::path& path, const std::string& database,
                    const std::string& ca_bundle) const;
  Result<void> fill(const std::string& conninfo, const std::string& org, int first_user);

  std::filesystem::path dir_;
  FixtureOptions options_;
  std::unique_ptr<DedicatedPostgres> server_;
  std::string operator_token_;
  int runs_ = 0;
};

}  // namespace agendasync::bench
