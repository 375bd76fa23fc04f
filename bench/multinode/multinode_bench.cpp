// Many nodes on one PostgreSQL (issue 17, "Must show"): N mailboxes over 1, 2 and 3
// `agendasync serve` nodes on one database, against exsim, all real processes on loopback.
// For each node count, on a fresh copy of the same agenda and a fresh exsim:
//   - first sync: every organisation resumed at once; pairs per second until every host
//     appointment is in Exchange, and the CPU and PostgreSQL statements per pair;
//   - idle: a window of whole safety-net periods with nothing changed: CPU time of all serve
//     processes per idle mailbox-cycle (a sync run that finds nothing to do), PostgreSQL
//     statements (pg_stat_statements) and transactions per idle mailbox-cycle, the statements
//     that make them up, and the leases renewed and taken per second.
// The scaling ratios compare each node count with one node. Prints one JSON object; exits 1
// when a phase did not complete (a results file never reports a broken run).
//
//   bench_multinode [--mailboxes 10000] [--nodes 1,2,3] [--organisations 6] [--items 3]
//                   [--workers 4] [--safety-net-seconds 60] [--idle-periods 2]
//                   [--lease-seconds 30]
#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/multinode/cluster_fixture.h"
#include "bench/service/ews_daemon_setup.h"

using namespace agendasync;
using namespace agendasync::bench;
using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  FixtureOptions fixture;
  std::vector<int> node_counts{1, 2, 3};
  int idle_periods = 2;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--mailboxes") {
      options.fixture.mailboxes = std::clamp(value, 1, 100'000);
    } else if (flag == "--organisations") {
      options.fixture.organisations = std::clamp(value, 1, 100);
    } else if (flag == "--items") {
      options.fixture.items_per_mailbox = std::clamp(value, 1, 100);
    } else if (flag == "--workers") {
      options.fixture.workers = static_cast<std::size_t>(std::clamp(value, 1, 64));
    } else if (flag == "--safety-net-seconds") {
      options.fixture.safety_net_seconds = std::clamp(value, 1, 3600);
    } else if (flag == "--lease-seconds") {
      options.fixture.lease_seconds = std::clamp(value, 1, 3600);
    } else if (flag == "--idle-periods") {
      options.idle_periods = std::clamp(value, 1, 100);
    } else if (flag == "--nodes") {
      options.node_counts.clear();
      std::istringstream list(argv[i + 1]);
      for (std::string n; std::getline(list, n, ',');) {
        options.node_counts.push_back(std::clamp(std::atoi(n.c_str()), 1, 16));
      }
    } else {
      std::cerr << "usage: bench_multinode [--mailboxes N] [--nodes 1,2,3] [--organisations N] "
                   "[--items N] [--workers N] [--safety-net-seconds S] [--idle-periods K] "
                   "[--lease-seconds S]\n";
      std::exit(2);
    }
  }
  return options;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

/// A scrape of every node's /metrics, summed over the nodes. Only outside the measured
/// windows: a scrape is not free (it reads every synced user's last success, see
/// metrics_scrape in the results).
struct Scrape {
  Clock::time_point at;
  double runs = 0;            ///< agendasync_syncs_total, every result
  double run_errors = 0;      ///< result="error"
  double exchange_items = 0;  ///< appointments created in Exchange
  double busy = 0;            ///< queued + running pairs
  double watched = 0;         ///< mailboxes on an EWS stream
  std::vector<double> runs_by_node;
  std::vector<double> owned_by_node;
  std::vector<double> live_nodes_by_node;
};

Scrape scrape(std::vector<Node>& nodes, const std::string& token) {
  Scrape s;
  s.at = Clock::now();
  for (auto& node : nodes) {
    const std::string page = node.metrics(token);
    const double runs = metric_sum(page, "agendasync_syncs_total");
    s.runs += runs;
    s.runs_by_node.push_back(runs);
    s.run_errors += metric_sum(page, "agendasync_syncs_total", "result=\"error\"");
    s.exchange_items +=
        metric_sum(page, "agendasync_items_written_total", "side=\"remote\",op=\"create\"");
    s.busy += metric_sum(page, "agendasync_sync_queue_depth") +
              metric_sum(page, "agendasync_syncs_running");
    s.watched += metric_sum(page, "agendasync_watched_mailboxes", "state=\"watched\"");
    s.owned_by_node.push_back(metric_sum(page, "agendasync_cluster_owned_organisations"));
    s.live_nodes_by_node.push_back(metric_sum(page, "agendasync_cluster_live_nodes"));
  }
  return s;
}

/// Inside the measured windows the benchmark asks the nodes nothing: CPU from /proc, progress
/// from pg_stat_statements (read in another database, so its own reads are not counted).
struct Probe {
  Clock::time_point at;
  std::vector<double> cpu_by_node;
  double cpu_seconds = 0;
  StatementCounts pg;
  /// Runs finished: each records its status once ("INSERT INTO service_sync_status ...").
  std::int64_t runs() const { return pg.calls_starting("INSERT INTO service_sync_status"); }
  /// Appointments linked: one new sync_link row each.
  std::int64_t links() const { return pg.calls_starting("INSERT INTO sync_link"); }
};

Probe probe(std::vector<Node>& nodes, DedicatedPostgres& server, const std::string& database) {
  Probe p;
  auto counts = server.counts(database);
  if (!counts) throw std::runtime_error("pg_stat_statements: " + counts.error().message);
  p.pg = std::move(*counts);
  p.at = Clock::now();
  for (auto& node : nodes) {
    p.cpu_by_node.push_back(node.cpu_seconds());
    p.cpu_seconds += p.cpu_by_node.back();
  }
  return p;
}

bool transaction_control(const std::string& statement) {
  std::string upper;
  for (char c : statement) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* word : {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}) {
    if (upper.rfind(word, 0) == 0) return true;
  }
  return false;
}

/// Leases and heartbeats per second over a window, from the statements that make them.
json lease_rates(const StatementCounts& counts, double seconds) {
  auto rate = [&](double n) { return seconds > 0 ? n / seconds : 0; };
  const double renewed = counts.calls_starting("UPDATE sync_lease SET expires_at = now()");
  return {// A take was an UPDATE in a transaction; it is one INSERT ... ON CONFLICT DO UPDATE now,
          // whose rows are the takes (a call on a live lease returns none).
          {"pair_lease_takes_per_second",
           rate(counts.calls_starting("UPDATE sync_lease SET holder") +
                counts.rows_starting("INSERT INTO sync_lease AS lease"))},
          {"pair_lease_renewals_per_second", rate(renewed)},
          {"pair_lease_releases_per_second",
           rate(counts.calls_starting("UPDATE sync_lease SET expires_at") - renewed)},
          // One statement renews all of a node's organisations: its rows are the leases.
          {"organisation_lease_renewals_per_second",
           rate(counts.rows_starting("UPDATE org_owner SET expires_at = now() +"))},
          {"organisation_lease_renewal_statements_per_second",
           rate(counts.calls_starting("UPDATE org_owner SET expires_at = now() +"))},
          {"heartbeats_per_second", rate(counts.calls_starting("UPDATE nodes SET heartbeat_at"))}};
}

/// The statements of a window by calls, each per `per` (per_unit: an idle mailbox-cycle, or
/// a first-synced pair).
json top_statements(const StatementCounts& counts, double per, std::size_t limit) {
  std::vector<std::pair<std::int64_t, std::string>> sorted;
  for (const auto& [statement, calls] : counts.calls) sorted.emplace_back(calls, statement);
  std::sort(sorted.rbegin(), sorted.rend());
  json out = json::array();
  for (std::size_t i = 0; i < sorted.size() && i < limit; ++i) {
    std::string text = sorted[i].second;
    for (auto& c : text) {
      if (c == '\n' || c == '\t') c = ' ';
    }
    if (text.size() > 200) text = text.substr(0, 200) + "...";
    out.push_back({{"calls", sorted[i].first},
                   {"per_unit", per > 0 ? static_cast<double>(sorted[i].first) / per : 0},
                   {"statement", text}});
  }
  return out;
}

/// Polls `check` every `every` until it holds or `limit` passes; the value that held.
template <class T, class Make, class Check>
std::optional<T> poll(Make make, Check check, std::chrono::seconds limit,
                      std::chrono::milliseconds every) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    T value = make();
    if (check(value)) return value;
    std::this_thread::sleep_for(every);
  }
  return std::nullopt;
}

/// One node count: first sync, settle, idle window. Null with a message when a phase failed.
json measure(Fixture& fixture, int node_count, int idle_periods, std::string& failure) {
  const auto& options = fixture.options();
  const std::string& token = fixture.operator_token();
  const double pairs = options.mailboxes;
  const double expected_items = pairs * options.items_per_mailbox;
  const auto run_started = Clock::now();
  auto started = fixture.start_run(node_count);
  if (!started) return failure = "start: " + started.error().message, nullptr;
  Run& run = **started;
  auto& nodes = run.nodes();
  auto& server = fixture.server();
  auto scrape_all = [&] { return scrape(nodes, token); };
  auto probe_all = [&] { return probe(nodes, server, run.database()); };

  // Every node sees all the others before any organisation is active, so the first owner
  // takes only its fair share.
  if (!poll<Scrape>(
          scrape_all,
          [&](const Scrape& s) {
            return std::all_of(s.live_nodes_by_node.begin(), s.live_nodes_by_node.end(),
                               [&](double live) { return live == node_count; });
          },
          std::chrono::seconds(30 + 3 * options.lease_seconds), 250ms)) {
    return failure = fmt::format("the {} nodes did not see each other", node_count), nullptr;
  }
  const auto live_at = Clock::now();

  // First sync: resume every organisation at once (through node 1; the others read the
  // organisation list every 2 s) and wait until every appointment is linked to its copy in
  // Exchange.
  const Scrape before = scrape_all();
  const Probe first_start = probe_all();
  for (const auto& org : fixture.organisation_ids()) {
    auto resumed =
        nodes[0].api->Patch("/api/v1/organisations/" + org, {{"Authorization", "Bearer " + token}},
                            json{{"state", "active"}}.dump(), "application/json");
    if (!resumed || resumed->status != 200) {
      return failure = "resuming " + org + ": " + (resumed ? resumed->body : "no answer"), nullptr;
    }
  }
  std::optional<Clock::time_point> first_link;
  const auto done = poll<Probe>(
      probe_all,
      [&](const Probe& p) {
        const auto linked = p.links() - first_start.links();
        if (!first_link && linked > 0) first_link = p.at;
        return linked >= expected_items;
      },
      std::chrono::seconds(600 + options.mailboxes / 5), 250ms);
  if (!done) {
    return failure = fmt::format("first sync: {} of {} appointments linked",
                                 probe_all().links() - first_start.links(), expected_items),
           nullptr;
  }
  const StatementCounts pg_first = done->pg.minus(first_start.pg);
  const double first_seconds = seconds_between(*first_link, done->at);
  const double first_seconds_from_resume = seconds_between(first_start.at, done->at);
  const Scrape after_first = scrape_all();

  // Settle: every mailbox watched (its subscription made), then nothing queued or running
  // (the first sync's echoes done). A node whose safety-net cycle outlasts the period is
  // never idle: after one and a half periods the window starts anyway (quiet_before_idle).
  if (!poll<Scrape>(
          scrape_all, [&](const Scrape& s) { return s.watched >= pairs; },
          std::chrono::seconds(600), 2s)) {
    const Scrape now = scrape_all();
    return failure = fmt::format("only {} of {} mailboxes watched", now.watched, pairs), nullptr;
  }
  const bool quiet_before_idle =
      poll<Scrape>(
          scrape_all, [&](const Scrape& s) { return s.busy == 0; },
          std::chrono::seconds(options.safety_net_seconds * 3 / 2), 500ms)
          .has_value();
  const auto settled_at = Clock::now();

  // Idle: whole safety-net periods with nothing changed, probed every second so that the
  // background (heartbeats, ownership, the feed followers, streams) shows between cycles.
  const Scrape idle_scrape_start = scrape_all();
  const auto window = std::chrono::seconds(options.safety_net_seconds * idle_periods);
  std::vector<Probe> probes{probe_all()};
  while (Clock::now() - probes.front().at < window) {
    std::this_thread::sleep_for(1s);
    probes.push_back(probe_all());
  }
  const Probe& idle_start = probes.front();
  const Probe& idle_end = probes.back();
  const Scrape idle_scrape_end = scrape_all();
  const StatementCounts pg_idle = idle_end.pg.minus(idle_start.pg);
  double background_cpu = 0;
  double background_seconds = 0;
  double background_statements = 0;
  for (std::size_t i = 1; i < probes.size(); ++i) {
    if (probes[i].runs() == probes[i - 1].runs()) {
      background_cpu += probes[i].cpu_seconds - probes[i - 1].cpu_seconds;
      background_seconds += seconds_between(probes[i - 1].at, probes[i].at);
      background_statements +=
          static_cast<double>(probes[i].pg.total_calls() - probes[i - 1].pg.total_calls());
    }
  }
  const double idle_seconds = seconds_between(idle_start.at, idle_end.at);
  const double cycles = static_cast<double>(idle_end.runs() - idle_start.runs());
  const double idle_cpu = idle_end.cpu_seconds - idle_start.cpu_seconds;
  const double background_rate = background_seconds > 0 ? background_cpu / background_seconds : 0;
  // The feed followers and the cluster's ticks run by the clock, not per run: a slower cycle
  // (a loaded machine) gets more of them per mailbox-cycle. Without them, the statements of
  // the runs themselves, which do not depend on the load.
  const double background_statement_rate =
      background_seconds > 0 ? background_statements / background_seconds : 0;

  // What one scrape of /metrics costs the database (it is not free at this size).
  const Probe scrape_before = probe_all();
  const auto scrape_started = Clock::now();
  (void)nodes[0].metrics(token);
  const double scrape_seconds = seconds_between(scrape_started, Clock::now());
  const StatementCounts pg_scrape = probe_all().pg.minus(scrape_before.pg);

  const auto stop_started = Clock::now();
  const auto exit_codes = run.stop_nodes();
  const json phases = {{"start_and_see_each_other", seconds_between(run_started, live_at)},
                       {"first_sync_from_resume", first_seconds_from_resume},
                       {"settle", seconds_between(done->at, settled_at)},
                       {"idle_window", idle_seconds},
                       {"stop", seconds_between(stop_started, Clock::now())}};
  // A window of whole periods holds every pair's run unless a node's cycle outlasts its
  // period (saturated: the cost per cycle holds all the same); none at all is a broken run.
  const double expected_cycles = pairs * idle_periods;
  if (cycles <= 0) {
    return failure = fmt::format("idle: no mailbox-cycle in {:.0f} s", idle_seconds), nullptr;
  }
  if (cycles < expected_cycles) {
    std::cerr << fmt::format(
        "bench_multinode: {} node(s) ran {} of the {} idle mailbox-cycles "
        "of the window (a cycle outlasted its period)\n",
        node_count, cycles, expected_cycles);
  }
  const std::int64_t idle_queries = pg_idle.total_calls();
  std::int64_t idle_control = 0;
  for (const auto& [statement, calls] : pg_idle.calls) {
    if (transaction_control(statement)) idle_control += calls;
  }

  json per_node = json::array();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    per_node.push_back(
        {{"node", fmt::format("node-{}", i + 1)},
         {"owned_organisations", idle_scrape_end.owned_by_node[i]},
         {"first_sync_runs", after_first.runs_by_node[i] - before.runs_by_node[i]},
         {"idle_runs", idle_scrape_end.runs_by_node[i] - idle_scrape_start.runs_by_node[i]},
         {"idle_cpu_seconds", idle_end.cpu_by_node[i] - idle_start.cpu_by_node[i]},
         {"exit_code_after_sigterm", exit_codes[i]}});
  }
  return {
      {"nodes", node_count},
      {"first_sync",
       {{"pairs", pairs},
        {"appointments_linked", done->links() - first_start.links()},
        {"appointments_created_in_exchange", after_first.exchange_items - before.exchange_items},
        {"seconds", first_seconds},
        {"pairs_per_second", pairs / first_seconds},
        {"seconds_from_resume", first_seconds_from_resume},
        {"runs", done->runs() - first_start.runs()},
        {"run_errors", after_first.run_errors - before.run_errors},
        {"serve_cpu_ms_per_pair", 1000 * (done->cpu_seconds - first_start.cpu_seconds) / pairs},
        {"postgres_cpu_ms_per_pair", 1000 * pg_first.cpu_seconds / pairs},
        {"postgres_statements_per_pair", static_cast<double>(pg_first.total_calls()) / pairs},
        {"postgres_transactions_per_pair", static_cast<double>(pg_first.transactions) / pairs},
        {"leases", lease_rates(pg_first, first_seconds_from_resume)},
        {"top_statements", top_statements(pg_first, pairs, 15)}}},
      {"idle",
       {{"window_seconds", idle_seconds},
        {"safety_net_seconds", options.safety_net_seconds},
        {"mailbox_cycles", cycles},
        {"mailbox_cycles_expected", expected_cycles},
        {"quiet_before_idle", quiet_before_idle},
        {"mailbox_cycles_by_metrics", idle_scrape_end.runs - idle_scrape_start.runs},
        {"run_errors", idle_scrape_end.run_errors - idle_scrape_start.run_errors},
        {"appointments_linked", idle_end.links() - idle_start.links()},
        {"serve_cpu_us_per_mailbox_cycle", 1e6 * idle_cpu / cycles},
        {"serve_background_cpu_ms_per_second", 1000 * background_rate},
        {"serve_background_measured_seconds", background_seconds},
        {"serve_cpu_us_per_mailbox_cycle_without_background",
         1e6 * std::max(0.0, idle_cpu - background_rate * idle_seconds) / cycles},
        {"postgres_cpu_us_per_mailbox_cycle", 1e6 * pg_idle.cpu_seconds / cycles},
        {"postgres_statements_per_mailbox_cycle", static_cast<double>(idle_queries) / cycles},
        {"postgres_statements_per_mailbox_cycle_without_begin_commit",
         static_cast<double>(idle_queries - idle_control) / cycles},
        {"postgres_background_statements_per_second", background_statement_rate},
        {"postgres_statements_per_mailbox_cycle_without_background",
         std::max(0.0,
                  static_cast<double>(idle_queries) - background_statement_rate * idle_seconds) /
             cycles},
        {"postgres_transactions_per_mailbox_cycle",
         static_cast<double>(pg_idle.transactions) / cycles},
        {"leases", lease_rates(pg_idle, idle_seconds)},
        {"top_statements", top_statements(pg_idle, cycles, 25)}}},
      {"metrics_scrape",
       {{"postgres_statements", pg_scrape.total_calls()},
        {"seconds", scrape_seconds},
        {"top_statements", top_statements(pg_scrape, 1, 3)}}},
      {"per_node", per_node},
      {"phase_seconds", phases}};
}

/// Every node count in turn; `failure` names the phase that did not complete.
json run_all(const Options& options, const std::filesystem::path& dir, std::string& failure) {
  const auto set_up_started = Clock::now();
  auto fixture = std::make_unique<Fixture>(dir, options.fixture);
  const double set_up_seconds = seconds_between(set_up_started, Clock::now());

  json runs = json::array();
  for (int nodes : options.node_counts) {
    std::cerr << "bench_multinode: " << nodes << " node(s), " << options.fixture.mailboxes
              << " mailboxes\n";
    json measured = measure(*fixture, nodes, options.idle_periods, failure);
    if (measured.is_null()) break;
    runs.push_back(std::move(measured));
  }
  // Each node count against the first (one node): ideal throughput grows with the nodes, the
  // idle cost per mailbox-cycle stays flat.
  json scaling = json::array();
  if (!runs.empty()) {
    const json& base = runs.front();
    for (const json& r : runs) {
      scaling.push_back(
          {{"nodes", r["nodes"]},
           {"over_nodes", base["nodes"]},
           {"first_sync_pairs_per_second_ratio",
            r["first_sync"]["pairs_per_second"].get<double>() /
                base["first_sync"]["pairs_per_second"].get<double>()},
           {"idle_cpu_per_mailbox_cycle_ratio",
            r["idle"]["serve_cpu_us_per_mailbox_cycle"].get<double>() /
                base["idle"]["serve_cpu_us_per_mailbox_cycle"].get<double>()},
           {"idle_statements_per_mailbox_cycle_ratio",
            r["idle"]["postgres_statements_per_mailbox_cycle"].get<double>() /
                base["idle"]["postgres_statements_per_mailbox_cycle"].get<double>()}});
    }
  }
  return {
      {"benchmark", "multinode_postgres"},
      {"mailboxes", options.fixture.mailboxes},
      {"organisations", options.fixture.organisations},
      {"appointments_per_mailbox", options.fixture.items_per_mailbox},
      {"workers_per_node", options.fixture.workers},
      {"lease_seconds", options.fixture.lease_seconds},
      {"set_up_seconds", set_up_seconds},
      {"postgres_settings", DedicatedPostgres::settings()},
      {"note",
       "All processes (exsim, PostgreSQL, every serve node, the benchmark) share this machine's "
       "cores, so first-sync throughput cannot grow past what they leave each other; the CPU "
       "and statements per pair or mailbox-cycle do not depend on that. Statements: "
       "pg_stat_statements (track=top, track_utility=on: BEGIN/COMMIT counted) of the run's "
       "own database on a PostgreSQL server the benchmark starts; transactions: "
       "pg_stat_database xact_commit + xact_rollback. An idle mailbox-cycle is one sync run "
       "(agendasync_syncs_total) in a window of whole safety-net periods with nothing changed; "
       "its CPU is every serve process's user + system time over the window, background "
       "included (serve_background_cpu_ms_per_second: the CPU rate between cycles). Inside "
       "the measured windows the benchmark asks the nodes nothing (CPU from /proc, progress "
       "from pg_stat_statements): a /metrics scrape reads every synced user's status "
       "(metrics_scrape)."},
      {"runs", runs},
      {"scaling", scaling},
      {"failure", failure.empty() ? json(nullptr) : json(failure)}};
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("agendasync-multinode-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  std::string failure;
  json result;
  try {
    // Returning (or unwinding) stops the nodes, exsim and PostgreSQL before the folder goes.
    result = run_all(options, dir, failure);
  } catch (const std::exception& error) {
    failure = error.what();
    result = {{"benchmark", "multinode_postgres"}, {"failure", failure}};
  }
  if (!failure.empty()) std::cerr << "bench_multinode: " << failure << "\n";
  return benchsetup::finish_run(result, failure.empty(), dir);
}
