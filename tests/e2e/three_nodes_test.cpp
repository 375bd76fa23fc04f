// Three `agendasync serve` nodes on one PostgreSQL (issue 17, CTest label `multinode`,
// optimised build only): real processes against the real exsim, each organisation owned by one
// node (its watchers, its safety net) and each pair synced under a lease with an epoch.
//   - KillingANodeDuringFirstAndIncrementalSyncsLosesAndDuplicatesNothing: 300 users in three
//     organisations (two on EWS, one on Graph); SIGKILL of a node while it syncs, in rounds
//     during first syncs and during incremental ones (3 + 3; 20 + 20 with
//     AGENDASYNC_LONG_TESTS=1), changes made on both sides before and during each kill. After
//     each: the organisation is taken over within the lease and a tick, and each of its pairs
//     is synced by the first run a survivor gives it (one pass); an Outlook change in a mailbox of
//     the dead node's reaches the host by a real-time wake-up (the safety net is an hour away);
//     both sides hold exactly what was made, once.
//   - AStoppedNodesStaleBatchIsRefusedByTheEpoch: SIGSTOP of a node in the middle of a run,
//     past its lease; another node takes the pair; after SIGCONT the stopped node's batch is
//     refused (its log line and the fencing counter), nothing is duplicated.
//   - AnApiWriteOnOneNodeReachesExchangeThroughTheOwner: 50 appointments written through a
//     node that does not own the organisation reach exsim through the owner's run; p50/p99
//     printed.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "store/database_locator.h"
#include "tests/demo/serve_test_support.h"
#include "tests/e2e/serve_nodes.h"

namespace agendasync::e2e {
namespace {

using demotest::eventually;
using demotest::ServeProcess;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kLeaseSeconds = 2;
constexpr int kNodes = 3;

bool long_tests() {
  const char* value = std::getenv("AGENDASYNC_LONG_TESTS");
  return value != nullptr && std::string_view(value) == "1";
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string node_name(int node) { return "node-" + std::to_string(node + 1); }

struct Organisation {
  std::string id;
  bool graph = false;
  std::string token;  ///< integration
  std::vector<std::string> users;
};

/// A host appointment the test made and may change: its id and current subject.
struct HostItem {
  std::int64_t id = 0;
  std::string subject;
};
/// An Outlook item the test made: exsim's id and current subject.
struct OutlookItem {
  long id = 0;
  std::string subject;
};

/// One row of a pair's lease and status, for "synced again since".
struct PairMark {
  std::int64_t epoch = 0;
  bool released = false;
  std::int64_t last_started = 0;
  std::string outcome;
};

class ThreeNodes : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure() || !world_) return;
    // The nodes' logs name what went wrong: kept (the world's folder goes) and their tails
    // printed.
    const auto kept = std::filesystem::temp_directory_path() /
                      ("agendasync-three-nodes-" + std::to_string(::getpid()));
    std::filesystem::create_directories(kept);
    for (const auto& entry : std::filesystem::directory_iterator(world_->dir())) {
      if (entry.path().extension() == ".log") {
        std::filesystem::copy_file(entry.path(), kept / entry.path().filename(),
                                   std::filesystem::copy_options::overwrite_existing);
      }
    }
    std::cerr << "the nodes' logs: " << kept.string() << "\n";
    for (int node = 0; node < kNodes; ++node) {
      if (!nodes_[node]) continue;
      const std::string log = nodes_[node]->log();
      std::cerr << "--- " << node_name(node) << " (last 6000 bytes) ---\n"
                << log.substr(log.size() > 6000 ? log.size() - 6000 : 0) << "\n";
    }
  }

  /// exsim with `users_per_org` mailboxes per organisation, three nodes, the organisations
  /// (the third on Graph when `graph`), their users (sync off) and `host_items` host and
  /// `outlook_items` Outlook items per user.
  void start(int users_per_org, bool graph, int host_items, int outlook_items) {
    const std::vector<std::pair<std::string, bool>> layout = {
        {"contoso", false}, {"fabrikam", false}, {"tailspin", graph}};
    WorldOptions options;
    options.mailboxes.clear();
    for (const auto& [id, on_graph] : layout) {
      Organisation org{id, on_graph, "", {}};
      for (int i = 0; i < users_per_org; ++i) {
        const std::string user = fmt::format("{}-{:03}", id, i);
        org.users.push_back(user);
        org_of_[user] = id;
        options.mailboxes.push_back(user + "@example.com");
      }
      orgs_.push_back(std::move(org));
    }
    options.backend = graph ? Backend::kGraph : Backend::kEws;
    world_ = std::make_unique<World>(options);
    world_->close_store();
    ASSERT_NO_FATAL_FAILURE(cluster_.set_up(*world_, {kLeaseSeconds, graph}));
    for (int node = 0; node < kNodes; ++node) {
      ports_[node] = graph ? demotest::free_loopback_port() : 0;
      ASSERT_NO_FATAL_FAILURE(restart(node));
    }
    // Organisation default (made by init) has no connection here: suspended, it is nobody's
    // share, so three organisations spread one per node.
    auto [suspended, body] =
        http_request(ports_[0], "PATCH", "/api/v1/organisations/default", {{"state", "suspended"}},
                     bearer(cluster_.operator_token()));
    ASSERT_EQ(suspended, 200) << body.dump();
    for (auto& org : orgs_) {
      org.token = cluster_.create_organisation(
          ports_[0], org.id, org.graph ? cluster_.graph_connection() : cluster_.ews_connection());
      ASSERT_FALSE(org.token.empty());
      for (const auto& user : org.users) {
        ASSERT_TRUE(cluster_.add_user(ports_[0], org.id, user, user + "@example.com", false));
      }
      // The host's items straight into the organisation's agenda (no run to wake yet).
      auto store = store::open_agenda_store(cluster_.conninfo(), org.id, store::OpenOptions{});
      ASSERT_TRUE(store) << store.error().message;
      for (const auto& user : org.users) {
        for (int k = 0; k < host_items; ++k) {
          Appointment item;
          item.subject = fmt::format("{} host {}", user, k);
          item.start = slot(user);
          item.end = item.start + 1h;
          item.time_zone = "Europe/Amsterdam";
          item.owner = user;
          auto made = (*store)->create_appointment(item);
          ASSERT_TRUE(made) << made.error().message;
          host_items_[user].push_back({made->id, item.subject});
          expected_[user].insert(item.subject);
        }
        for (int k = 0; k < outlook_items; ++k) {
          const std::string subject = fmt::format("{} outlook {}", user, k);
          outlook_items_[user].push_back(
              {world_->outlook_create(user + "@example.com", subject, slot(user)), subject});
          expected_[user].insert(subject);
        }
      }
    }
    ASSERT_TRUE(wait_balanced()) << owners_text();
  }

  /// (Re)starts node `node` under its name (the same port when it has one).
  void restart(int node) {
    nodes_[node] = cluster_.start_node(node_name(node), ports_[node]);
    ports_[node] = nodes_[node]->port();
  }

  /// A time of its own for each of `user`'s items (no two items of a user look alike).
  Instant slot(const std::string& user) {
    const int n = slots_[user]++;
    return future(n % 18, (n / 18) % 10);
  }

  const Organisation& org(const std::string& id) const {
    return *std::find_if(orgs_.begin(), orgs_.end(), [&](const auto& o) { return o.id == id; });
  }

  // --- the cluster as PostgreSQL records it ---------------------------------------------

  /// Organisation -> the node holding its live ownership lease.
  std::map<std::string, std::string> owners() {
    std::map<std::string, std::string> out;
    auto db = cluster_.sql();
    if (!db) return out;
    auto rows =
        db->query("SELECT org, holder FROM agendasync_cluster.org_owner WHERE expires_at > now()");
    EXPECT_TRUE(rows) << rows.error().message;
    if (!rows) return out;
    for (int row = 0; row < rows->size(); ++row) out[rows->text_at(row, 0)] = rows->text_at(row, 1);
    return out;
  }
  std::string owners_text() {
    std::string out;
    for (const auto& [org, holder] : owners()) out += org + "=" + holder + " ";
    return out;
  }
  /// Each node owns one organisation (fair shares after a restart).
  bool wait_balanced() {
    return eventually(
        [&] {
          auto now = owners();
          if (now.size() != orgs_.size()) return false;
          std::set<std::string> holders;
          for (const auto& [org, holder] : now) holders.insert(holder);
          return holders.size() == static_cast<std::size_t>(kNodes);
        },
        60s);
  }
  std::string owned_by(int node) {
    for (const auto& [org, holder] : owners()) {
      if (holder == node_name(node)) return org;
    }
    return "";
  }
  /// Whether `node` holds a live lease of a pair of `org` now: it is in a run.
  bool syncing(int node, const std::string& org) {
    auto db = cluster_.sql(NodeCluster::org_schema(org));
    if (!db) return false;
    auto rows =
        db->query_int("SELECT count(*) FROM sync_lease WHERE holder = $1 AND expires_at > now()",
                      {node_name(node)});
    return rows && rows->value_or(0) > 0;
  }
  /// Each pair's lease epoch and last status in `org`.
  std::map<std::string, PairMark> marks(const std::string& org) {
    std::map<std::string, PairMark> out;
    auto db = cluster_.sql(NodeCluster::org_schema(org));
    if (!db) return out;
    auto leases = db->query("SELECT pair, epoch, (expires_at = '-infinity')::int FROM sync_lease");
    EXPECT_TRUE(leases) << leases.error().message;
    if (!leases) return out;
    for (int row = 0; row < leases->size(); ++row) {
      auto& mark = out[leases->text_at(row, 0)];
      mark.epoch = leases->int_at(row, 1);
      mark.released = leases->int_at(row, 2) == 1;
    }
    auto statuses = db->query(
        "SELECT user_name, COALESCE(last_started, 0), last_outcome FROM service_sync_status");
    EXPECT_TRUE(statuses) << statuses.error().message;
    if (!statuses) return out;
    for (int row = 0; row < statuses->size(); ++row) {
      auto& mark = out[statuses->text_at(row, 0)];
      mark.last_started = statuses->int_at(row, 1);
      mark.outcome = statuses->text_at(row, 2);
    }
    return out;
  }
  std::int64_t server_seconds() {
    auto db = cluster_.sql();
    auto now = db ? db->query_int("SELECT floor(extract(epoch FROM now()))::bigint")
                  : Result<std::optional<std::int64_t>>(std::optional<std::int64_t>{});
    return now ? now->value_or(0) : 0;
  }
  /// The users of `users` not yet synced again since `before` (taken at server second
  /// `since`): a run took a newer lease, ended (gave it back) and did not fail.
  std::vector<std::string> not_synced_since(const std::string& org,
                                            const std::vector<std::string>& users,
                                            const std::map<std::string, PairMark>& before,
                                            std::int64_t since) {
    auto now = marks(org);
    std::vector<std::string> out;
    for (const auto& user : users) {
      const auto was = before.find(user);
      const std::int64_t old_epoch = was == before.end() ? 0 : was->second.epoch;
      const auto& mark = now[user];
      if (!(mark.epoch > old_epoch && mark.released && mark.last_started >= since &&
            mark.outcome != "error")) {
        out.push_back(user);
      }
    }
    return out;
  }
  /// Waits (bounded) until every pair of `users` synced again; the seconds it took from
  /// `start`, or -1.
  double wait_synced_since(const std::string& org, const std::vector<std::string>& users,
                           const std::map<std::string, PairMark>& before, std::int64_t since,
                           Clock::time_point start, std::chrono::seconds limit = 120s) {
    std::vector<std::string> left;
    if (!eventually(
            [&] {
              left = not_synced_since(org, users, before, since);
              return left.empty();
            },
            limit)) {
      ADD_FAILURE() << org << ": " << left.size() << " pairs not synced again, e.g. "
                    << left.front() << " " << marks(org)[left.front()].outcome;
      return -1;
    }
    return seconds_since(start);
  }

  // --- changes on both sides ----------------------------------------------------------

  /// A host appointment made through the REST API of `node`.
  void host_create(int node, const std::string& user, const std::string& subject) {
    const auto& o = org(org_of_.at(user));
    auto [status, body] = http_request(ports_[node], "POST", "/api/v1/appointments",
                                       api_appointment(user, subject), bearer(o.token));
    // The time of its own: the API's body takes a day and an hour.
    ASSERT_EQ(status, 201) << body.dump();
    host_items_[user].push_back({body.value("id", std::int64_t{0}), subject});
    expected_[user].insert(subject);
    // Move it to a slot of its own so no two items of the user share a time.
    (void)slot(user);
  }
  /// Renames one of `user`'s host items through the REST API of `node`.
  void host_rename(int node, const std::string& user, const std::string& suffix) {
    auto& items = host_items_[user];
    if (items.empty()) return;
    auto& item = items[static_cast<std::size_t>(rng_() % items.size())];
    const auto& o = org(org_of_.at(user));
    const std::string path = "/api/v1/appointments/" + std::to_string(item.id);
    const std::string renamed = item.subject + " " + suffix;
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto [got, current] = http_request(ports_[node], "GET", path, nullptr, bearer(o.token));
      ASSERT_EQ(got, 200) << current.dump();
      auto headers = bearer(o.token);
      headers.emplace("If-Match", "\"" + std::to_string(current.value("revision", 0)) + "\"");
      auto [patched, body] =
          http_request(ports_[node], "PATCH", path, {{"subject", renamed}}, headers);
      if (patched == 412) continue;  // a run wrote it meanwhile
      ASSERT_EQ(patched, 200) << body.dump();
      expected_[user].erase(expected_[user].find(item.subject));
      expected_[user].insert(renamed);
      item.subject = renamed;
      return;
    }
    FAIL() << "the rename of " << item.subject << " kept meeting newer revisions";
  }
  void outlook_create(const std::string& user, const std::string& subject) {
    outlook_items_[user].push_back(
        {world_->outlook_create(user + "@example.com", subject, slot(user)), subject});
    expected_[user].insert(subject);
  }
  void outlook_rename(const std::string& user, const std::string& suffix) {
    auto& items = outlook_items_[user];
    if (items.empty()) return;
    auto& item = items[static_cast<std::size_t>(rng_() % items.size())];
    const std::string renamed = item.subject + " " + suffix;
    world_->outlook_update(user + "@example.com", item.id, {{"subject", renamed}});
    expected_[user].erase(expected_[user].find(item.subject));
    expected_[user].insert(renamed);
    item.subject = renamed;
  }

  // --- what both sides hold -----------------------------------------------------------

  /// Each user's host subjects, sorted (read from the organisations' agendas).
  std::map<std::string, std::vector<std::string>> host_subjects() {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& o : orgs_) {
      auto db = cluster_.sql(NodeCluster::org_schema(o.id));
      if (!db) continue;
      auto rows = db->query("SELECT owner, subject FROM appointments");
      EXPECT_TRUE(rows) << rows.error().message;
      if (!rows) continue;
      for (int row = 0; row < rows->size(); ++row) {
        out[rows->text_at(row, 0)].push_back(rows->text_at(row, 1));
      }
    }
    for (auto& [user, subjects] : out) std::sort(subjects.begin(), subjects.end());
    return out;
  }
  std::vector<std::string> expected(const std::string& user) {
    return {expected_[user].begin(), expected_[user].end()};
  }
  /// The users whose mailbox or host agenda differs from what the test made (a missing
  /// change, a duplicate, a stale subject); empty when both sides are exactly right.
  std::vector<std::string> differing(const std::vector<std::string>& users) {
    std::vector<std::string> out;
    auto host = host_subjects();
    for (const auto& user : users) {
      const auto want = expected(user);
      if (host[user] != want ||
          sorted_subjects(world_->exchange_items(user + "@example.com")) != want) {
        out.push_back(user);
      }
    }
    return out;
  }
  std::vector<std::string> all_users() const {
    std::vector<std::string> out;
    for (const auto& o : orgs_) out.insert(out.end(), o.users.begin(), o.users.end());
    return out;
  }
  /// Waits (bounded) for both sides of `users` to hold exactly what was made; reports what
  /// differs.
  void expect_converged(const std::string& when, const std::vector<std::string>& users) {
    std::vector<std::string> left;
    const auto started = Clock::now();
    const bool converged = eventually(
        [&] {
          left = differing(users);
          return left.empty();
        },
        120s);
    if (converged) {
      std::cout << when << ": both sides exactly as made after " << seconds_since(started)
                << " s\n";
      return;
    }
    auto host = host_subjects();
    for (const auto& user : left) {
      const auto mailbox = sorted_subjects(world_->exchange_items(user + "@example.com"));
      ADD_FAILURE()
          << when << ": " << user << "\n  expected: " << json(expected(user)).dump()
          << "\n  host:     " << json(host[user]).dump() << "\n  exchange: " << json(mailbox).dump()
          << "\n  duplicates in exchange: "
          << json(duplicate_subjects(world_->exchange_items(user + "@example.com"))).dump();
      if (&user - &left.front() >= 4) break;
    }
  }

  /// The sum of `name`'s samples on `node` whose labels contain each of `labels`
  /// (`key="value"`); 0 when there are none.
  double metric(int node, const std::string& name, const std::vector<std::string>& labels) {
    httplib::Client client("127.0.0.1", ports_[node]);
    auto reply = client.Get("/metrics", bearer(cluster_.operator_token()));
    EXPECT_TRUE(reply && reply->status == 200);
    if (!reply) return 0;
    double sum = 0;
    std::istringstream lines(reply->body);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
      if (line[name.size()] != '{' && line[name.size()] != ' ') continue;
      bool all = true;
      for (const auto& label : labels) all = all && line.find(label) != std::string::npos;
      if (all) sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  }
  /// Whether `node` holds a live lease of `user`'s pair in `org`.
  bool holds(int node, const std::string& org, const std::string& user) {
    auto db = cluster_.sql(NodeCluster::org_schema(org));
    if (!db) return false;
    auto rows = db->query_int(
        "SELECT count(*) FROM sync_lease WHERE pair = $1 AND holder = $2 AND expires_at > now()",
        {user, node_name(node)});
    return rows && rows->value_or(0) > 0;
  }
  /// Every user's sync on (through node 1), then both sides as made.
  void enable_everyone() {
    for (const auto& user : all_users()) {
      ASSERT_TRUE(cluster_.enable_sync(ports_[0], org_of_.at(user), user));
    }
    ASSERT_NO_FATAL_FAILURE(expect_converged("first syncs", all_users()));
  }
  int owner_index(const std::string& org_id) {
    const auto holder = owners()[org_id];
    for (int node = 0; node < kNodes; ++node) {
      if (node_name(node) == holder) return node;
    }
    ADD_FAILURE() << org_id << " has no owner: " << owners_text();
    return 0;
  }

  /// Runs of `user` with `trigger` in a node's log (its JSON sync_run lines).
  static int runs_in_log(const std::string& log, const std::string& user,
                         const std::string& trigger) {
    int found = 0;
    std::size_t at = 0;
    while (at < log.size()) {
      auto end = log.find('\n', at);
      if (end == std::string::npos) end = log.size();
      const std::string line = log.substr(at, end - at);
      at = end + 1;
      if (line.find("\"sync_run\"") == std::string::npos) continue;
      auto parsed = json::parse(line, nullptr, false);
      if (parsed.is_discarded()) continue;
      if (parsed.value("user", "") == user && parsed.value("trigger", "") == trigger &&
          parsed.value("result", "") != "error") {
        ++found;
      }
    }
    return found;
  }

  std::unique_ptr<World> world_;
  NodeCluster cluster_;
  std::array<std::unique_ptr<ServeProcess>, kNodes> nodes_;
  std::array<int, kNodes> ports_{};
  std::vector<Organisation> orgs_;
  std::map<std::string, std::string> org_of_;
  std::map<std::string, std::multiset<std::string>> expected_;
  std::map<std::string, std::vector<HostItem>> host_items_;
  std::map<std::string, std::vector<OutlookItem>> outlook_items_;
  std::map<std::string, int> slots_;
  std::mt19937 rng_{20271};  // seeded: a failing round replays the same choices
};

/// What one kill measured.
struct KillReport {
  std::string org;
  double takeover = 0;   ///< kill -> a survivor holds the organisation
  double resync = 0;     ///< kill -> every pair of it synced again
  double killed_ms = 0;  ///< when the signal was sent, in the nodes' log time (ms since 1970)
  double realtime = 0;   ///< Outlook change -> host, by a wake-up
};

class ThreeNodeKills : public ThreeNodes {
 protected:
  /// SIGKILLs `victim` while it is in a run of a pair of the organisation it owns (`poke` makes
  /// more work for it when it is idle), makes changes with `during` while it is dead, then
  /// checks the take-over: every pair of that
  /// organisation among `pairs` synced again within lease + tick + `cycle`, an Outlook change in
  /// one of its mailboxes reaching the host by a wake-up; restarts the node and waits for the
  /// shares to even out.
  KillReport kill_and_recover(int victim, const std::vector<std::string>& pairs,
                              const std::function<void(const std::string& org)>& poke,
                              const std::function<void(const std::string& org)>& during,
                              const std::string& round) {
    KillReport report;
    report.org = owned_by(victim);
    EXPECT_FALSE(report.org.empty()) << node_name(victim) << " owns nothing: " << owners_text();
    if (report.org.empty()) return report;
    // Caught in a run: a live pair lease of its own; a moment later, so the kill lands at
    // varied points of a run (seeded).
    bool in_run = false;
    for (int attempt = 0; attempt < 20 && !in_run; ++attempt) {
      in_run = eventually([&] { return syncing(victim, report.org); }, 3s);
      if (!in_run) poke(report.org);
    }
    EXPECT_TRUE(in_run) << node_name(victim) << " never synced " << report.org;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng_() % 300));
    const auto before = marks(report.org);
    const std::int64_t since = server_seconds();
    const auto killed = Clock::now();
    report.killed_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    EXPECT_EQ(nodes_[victim]->stop(SIGKILL), 128 + SIGKILL);
    during(report.org);

    // A survivor takes the organisation: the dead node's lease and heartbeat expire.
    EXPECT_TRUE(eventually(
        [&] {
          auto holder = owners()[report.org];
          return !holder.empty() && holder != node_name(victim);
        },
        60s))
        << owners_text();
    report.takeover = seconds_since(killed);
    std::vector<std::string> of_org;
    for (const auto& user : pairs) {
      if (org_of_.at(user) == report.org) of_org.push_back(user);
    }
    report.resync = wait_synced_since(report.org, of_org, before, since, killed);
    const double lease = kLeaseSeconds;
    EXPECT_LE(report.takeover, lease + lease / 3 + 0.5)
        << round << ": the take-over waited longer than the lease and a tick";
    EXPECT_GE(report.resync, 0);

    // Real-time wake-ups resumed: an Outlook change in one of its mailboxes reaches the host
    // with the safety net an hour away (so it came by a notification).
    const std::string user = of_org[static_cast<std::size_t>(rng_() % of_org.size())];
    const std::string subject = user + " realtime " + round;
    const auto changed = Clock::now();
    outlook_create(user, subject);
    const bool arrived = eventually(
        [&] {
          auto host = host_subjects()[user];
          return std::find(host.begin(), host.end(), subject) != host.end();
        },
        30s);
    report.realtime = seconds_since(changed);
    EXPECT_TRUE(arrived) << round << ": " << subject << " never reached the host";
    int notified = 0;
    for (int node = 0; node < kNodes; ++node) {
      if (node != victim) notified += runs_in_log(nodes_[node]->log(), user, "notification");
    }
    EXPECT_GE(notified, 1) << round << ": no run of " << user << " woken by a notification";

    const auto restarting = Clock::now();
    restart(victim);
    EXPECT_TRUE(wait_balanced()) << round << ": " << owners_text();
    std::cout << round << ": restarted and balanced in " << seconds_since(restarting) << " s\n";
    return report;
  }

  /// Every pair synced again within the lease expiry and one cycle: the organisation was taken
  /// over within the lease and a tick (checked by kill_and_recover), and each of its pairs was
  /// synced by the first run a surviving node gave it after the kill — one pass over the
  /// organisation, no pair left for a later one (a lease still held, a failed run waiting for
  /// the safety net). Read from the survivors' logs (their sync_run lines).
  void expect_one_pass(const KillReport& report, int victim, const std::vector<std::string>& pairs,
                       const std::string& round) {
    std::map<std::string, std::pair<double, std::string>> first;  // user -> (start, result)
    for (int node = 0; node < kNodes; ++node) {
      if (node == victim) continue;
      std::istringstream lines(nodes_[node]->log());
      for (std::string line; std::getline(lines, line);) {
        if (line.find("\"sync_run\"") == std::string::npos &&
            line.find("\"sync_fenced\"") == std::string::npos) {
          continue;
        }
        auto parsed = json::parse(line, nullptr, false);
        if (parsed.is_discarded() || parsed.value("org", "") != report.org) continue;
        const double started = parsed.value("ts_ms", 0.0) - parsed.value("ms", 0.0);
        if (started < report.killed_ms) continue;
        const std::string user = parsed.value("user", "");
        auto& seen = first[user];
        if (seen.second.empty() || started < seen.first) {
          seen = {started, parsed.value("event", "") == "sync_fenced"
                               ? std::string("fenced")
                               : parsed.value("result", std::string("?"))};
        }
      }
    }
    int passed = 0;
    for (const auto& user : pairs) {
      if (org_of_.at(user) != report.org) continue;
      ++passed;
      const auto found = first.find(user);
      EXPECT_TRUE(found != first.end()) << round << ": no run of " << user << " after the kill";
      if (found != first.end()) {
        EXPECT_NE(found->second.second, "error")
            << round << ": the first run of " << user << " after the kill failed";
        EXPECT_NE(found->second.second, "fenced") << round << ": " << user;
      }
    }
    std::cout << fmt::format(
        "{}: killed {} ({}): taken over after {:.2f} s (lease {} s + tick {:.2f} s), each of "
        "its {} pairs synced by its first run since, all after {:.2f} s; Outlook -> host by a "
        "wake-up in {:.2f} s\n",
        round, node_name(victim), report.org, report.takeover, kLeaseSeconds, kLeaseSeconds / 3.0,
        passed, report.resync, report.realtime);
  }

  /// Changes on both sides for a share of every organisation's users through any node, then
  /// `victim` killed while it syncs them, more changes while it is gone, the
  /// take-over checked (kill_and_recover).
  KillReport incremental_round(int victim, const std::string& name) {
    const int per_org = 10;
    const auto survivor = [&] { return (victim + 1 + static_cast<int>(rng_() % 2)) % kNodes; };
    const std::string victims_org = owned_by(victim);
    // The victim's organisation last, so its runs are going on when the signal comes.
    std::vector<const Organisation*> order;
    for (const auto& o : orgs_) {
      if (o.id != victims_org) order.push_back(&o);
    }
    for (const auto& o : orgs_) {
      if (o.id == victims_org) order.push_back(&o);
    }
    for (const Organisation* o : order) {
      for (int k = 0; k < per_org; ++k) {
        const std::string& user = o->users[rng_() % o->users.size()];
        // Through any node: a write on a node that does not own the organisation is handed to
        // the owner.
        const int through = static_cast<int>(rng_() % kNodes);
        host_create(through, user, fmt::format("{} host {}", user, name));
        host_rename(through, user, "(" + name + ")");
        outlook_create(user, fmt::format("{} outlook {}", user, name));
        outlook_rename(user, "(" + name + ")");
      }
    }
    auto poke = [&](const std::string& org_id) {
      // Several pairs at once: one pair's incremental run is over in tens of milliseconds, too
      // short to be caught by a poll of the leases on a loaded machine.
      const auto& o = org(org_id);
      for (int k = 0; k < 8; ++k) {
        const std::string& user = o.users[rng_() % o.users.size()];
        host_create(survivor(), user, fmt::format("{} poke {}-{}", user, name, k));
      }
    };
    auto during = [&](const std::string& org_id) {
      for (const auto& o : orgs_) {
        // More of the stopped node's organisation's; some of the others' too.
        for (int k = 0; k < (o.id == org_id ? 5 : 2); ++k) {
          const std::string& user = o.users[rng_() % o.users.size()];
          host_create(survivor(), user, fmt::format("{} host during {}", user, name));
          outlook_create(user, fmt::format("{} outlook during {}", user, name));
        }
      }
    };
    return kill_and_recover(victim, all_users(), poke, during, name);
  }
};

TEST_F(ThreeNodeKills, KillingANodeDuringFirstAndIncrementalSyncsLosesAndDuplicatesNothing) {
  const auto test_started = Clock::now();
  const int rounds = long_tests() ? 20 : 3;
  ASSERT_NO_FATAL_FAILURE(start(100, /*graph=*/true, /*host_items=*/2, /*outlook_items=*/1));
  std::cout << "set-up (exsim, PostgreSQL, 3 nodes, 3 organisations, 300 users): "
            << seconds_since(test_started) << " s\n";
  std::vector<std::string> enabled;

  // First syncs: each round turns the sync on for a slice of every organisation's users and
  // kills a node in the middle of them.
  for (int round = 0; round < rounds; ++round) {
    const int victim = round % kNodes;
    const int through = (victim + 1) % kNodes;
    const std::string name = fmt::format("first-sync round {}", round + 1);
    std::vector<std::string> slice;
    for (const auto& o : orgs_) {
      for (std::size_t i = static_cast<std::size_t>(round); i < o.users.size();
           i += static_cast<std::size_t>(rounds)) {
        slice.push_back(o.users[i]);
      }
    }
    // The slice of the victim's organisation last, so the kill finds its first syncs running.
    const std::string victims_org = owned_by(victim);
    std::stable_partition(slice.begin(), slice.end(),
                          [&](const std::string& user) { return org_of_[user] != victims_org; });
    for (const auto& user : slice) {
      ASSERT_TRUE(cluster_.enable_sync(ports_[through], org_of_[user], user));
      enabled.push_back(user);
    }
    auto poke = [&](const std::string& org_id) {
      // An idle victim gets a change of one of its users (they are all being synced).
      for (const auto& user : slice) {
        if (org_of_[user] == org_id) {
          host_create(through, user, fmt::format("{} poke {}", user, name));
          return;
        }
      }
    };
    auto during = [&](const std::string& org_id) {
      int made = 0;
      for (const auto& user : enabled) {
        if (org_of_[user] != org_id || made++ >= 3) continue;
        host_create(through, user, fmt::format("{} during {}", user, name));
        outlook_create(user, fmt::format("{} outlook during {}", user, name));
      }
    };
    const auto report = kill_and_recover(victim, enabled, poke, during, name);
    expect_one_pass(report, victim, enabled, name);
    ASSERT_NO_FATAL_FAILURE(expect_converged(name, enabled));
    if (HasFailure()) return;
  }
  std::cout << "first-sync rounds done after " << seconds_since(test_started) << " s\n";

  // Incremental syncs: changes on both sides for a share of every organisation's users, a
  // node killed while it syncs them, more changes while it is dead.
  for (int round = 0; round < rounds; ++round) {
    const int victim = round % kNodes;
    const std::string name = fmt::format("incremental round {}", round + 1);
    auto report = incremental_round(victim, name);
    expect_one_pass(report, victim, all_users(), name);
    ASSERT_NO_FATAL_FAILURE(expect_converged(name, all_users()));
    if (HasFailure()) return;
  }
  // Nothing was sent as mail (R39) and nobody stayed failing.
  EXPECT_EQ(world_->outbox_size(), 0u);
  std::cout << "all rounds done after " << seconds_since(test_started) << " s\n";
}

TEST_F(ThreeNodes, AStoppedNodesStaleBatchIsRefusedByTheEpoch) {
  ASSERT_NO_FATAL_FAILURE(start(10, /*graph=*/false, /*host_items=*/1, /*outlook_items=*/1));
  ASSERT_NO_FATAL_FAILURE(enable_everyone());
  const int victim = owner_index("contoso");
  const int other = (victim + 1) % kNodes;
  const std::string user = "contoso-003";
  const auto& contoso = org("contoso");

  // Exchange answers slowly (its writes done at once, each answer held 1.5 s), so a run is
  // caught waiting for one: two host appointments through another node wake the owner.
  world_->set_faults({{"response_delay_ms", 1500}});
  ASSERT_NO_FATAL_FAILURE(host_create(other, user, user + " made before the stop 1"));
  ASSERT_NO_FATAL_FAILURE(host_create(other, user, user + " made before the stop 2"));
  ASSERT_TRUE(eventually([&] { return holds(victim, "contoso", user); }, 30s))
      << node_name(victim) << " never took " << user << "'s pair";
  std::this_thread::sleep_for(300ms);
  const auto status_of = [&] {
    auto [code, status] = http_request(ports_[other], "GET", "/api/v1/users/" + user + "/status",
                                       nullptr, bearer(contoso.token));
    EXPECT_EQ(code, 200) << status.dump();
    return status;
  };
  const int failures_before = status_of().value("failures", -1);
  const std::int64_t stale_epoch = marks("contoso")[user].epoch;
  const double refused_before = metric(victim, "agendasync_sync_fenced_total", {});
  ASSERT_EQ(::kill(nodes_[victim]->pid(), SIGSTOP), 0);
  const auto stopped = Clock::now();
  world_->set_faults({{"response_delay_ms", 0}});

  // Past its lease: another node takes the organisation and the pair (a higher epoch) and
  // syncs it.
  ASSERT_TRUE(eventually(
      [&] {
        auto holder = owners()["contoso"];
        return !holder.empty() && holder != node_name(victim);
      },
      30s))
      << owners_text();
  ASSERT_TRUE(eventually(
      [&] {
        auto mark = marks("contoso")[user];
        return mark.epoch > stale_epoch && mark.released;
      },
      30s))
      << "nobody took " << user << "'s pair over";
  ASSERT_TRUE(eventually([&] { return differing({user}).empty(); }, 30s));
  std::cout << "stopped " << node_name(victim) << " for " << seconds_since(stopped) << " s (lease "
            << kLeaseSeconds << " s); the pair went from epoch " << stale_epoch << " to "
            << marks("contoso")[user].epoch << "\n";

  // Woken, the stopped node carries on with the run it was in: its next write is refused by
  // the epoch check, counted and logged.
  ASSERT_EQ(::kill(nodes_[victim]->pid(), SIGCONT), 0);
  EXPECT_TRUE(eventually(
      [&] {
        return metric(victim, "agendasync_sync_fenced_total", {"org=\"contoso\""}) > refused_before;
      },
      30s))
      << "no batch refused by the epoch check on " << node_name(victim);
  const std::string log = nodes_[victim]->log();
  EXPECT_NE(log.find("\"sync_fenced\""), std::string::npos) << log.substr(log.size() - 4000);
  EXPECT_NE(log.find("was lost"), std::string::npos);

  // Nothing twice on either side (anything the stale run would still send has had time to).
  std::this_thread::sleep_for(std::chrono::seconds(kLeaseSeconds));
  ASSERT_NO_FATAL_FAILURE(expect_converged("after SIGCONT", all_users()));
  // The refused run is not the pair's failure: its status stays the new holder's good run.
  const auto status = status_of();
  EXPECT_NE(status.value("last_outcome", ""), "error") << status.dump();
  EXPECT_EQ(status.value("failures", -1), failures_before) << status.dump();
  auto state = cluster_.sql(NodeCluster::org_schema("contoso"));
  ASSERT_TRUE(state);
  auto recorded =
      state->query("SELECT outcome, last_error FROM sync_run_status WHERE pair = $1", {user});
  ASSERT_TRUE(recorded && recorded->size() == 1);
  EXPECT_NE(recorded->text_at(0, 0), "failed") << recorded->text_at(0, 1);
  EXPECT_EQ(world_->outbox_size(), 0u);
}

TEST_F(ThreeNodes, AnApiWriteOnOneNodeReachesExchangeThroughTheOwner) {
  ASSERT_NO_FATAL_FAILURE(start(10, /*graph=*/false, /*host_items=*/1, /*outlook_items=*/0));
  ASSERT_NO_FATAL_FAILURE(enable_everyone());
  const int owner = owner_index("contoso");
  const int writer = (owner + 1) % kNodes;
  const auto& contoso = org("contoso");
  const double sent_before =
      metric(writer, "agendasync_cluster_wakeups_total", {"direction=\"sent\""});
  const double received_before =
      metric(owner, "agendasync_cluster_wakeups_total", {"direction=\"received\""});

  // 50 appointments through a node that does not own contoso, one at a time: each from the
  // API call until exsim shows it.
  const int writes = 50;
  std::vector<double> latencies;
  for (int i = 0; i < writes; ++i) {
    const std::string& user = contoso.users[static_cast<std::size_t>(i) % contoso.users.size()];
    const std::string subject =
        fmt::format("{} written through {} #{}", user, node_name(writer), i);
    const auto written = Clock::now();
    ASSERT_NO_FATAL_FAILURE(host_create(writer, user, subject));
    const bool arrived = eventually(
        [&] {
          for (const auto& item : world_->exchange_items(user + "@example.com")) {
            if (item.value("subject", "") == subject) return true;
          }
          return false;
        },
        30s);
    ASSERT_TRUE(arrived) << subject << " never reached Exchange";
    latencies.push_back(seconds_since(written) * 1000);
  }
  std::sort(latencies.begin(), latencies.end());
  const auto at = [&](double q) {
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(q * static_cast<double>(latencies.size())))];
  };
  std::cout << fmt::format(
      "API write on {} -> visible in exsim through {}'s run: p50 {:.0f} ms, p99 {:.0f} ms, max "
      "{:.0f} ms over {} writes\n",
      node_name(writer), node_name(owner), at(0.50), at(0.99), latencies.back(), writes);
  // Generous for a loaded machine: the debounce is 200 ms, a run on loopback tens of ms.
  EXPECT_LT(at(0.99), 5000);

  // Through the owner: it ran every one of those pairs (the writer none), woken over NOTIFY.
  for (const auto& user : contoso.users) {
    EXPECT_EQ(runs_in_log(nodes_[writer]->log(), user, "host-change"), 0) << user;
    EXPECT_GE(runs_in_log(nodes_[owner]->log(), user, "host-change"), 1) << user;
  }
  // (The wake-up counters are brought up to date at each tick of the node.)
  EXPECT_TRUE(eventually(
      [&] {
        return metric(writer, "agendasync_cluster_wakeups_total", {"direction=\"sent\""}) -
                       sent_before >=
                   writes &&
               metric(owner, "agendasync_cluster_wakeups_total", {"direction=\"received\""}) -
                       received_before >=
                   writes;
      },
      10s))
      << "sent " << metric(writer, "agendasync_cluster_wakeups_total", {"direction=\"sent\""})
      << ", received "
      << metric(owner, "agendasync_cluster_wakeups_total", {"direction=\"received\""});
  ASSERT_NO_FATAL_FAILURE(expect_converged("after the writes", all_users()));
}

}  // namespace
}  // namespace agendasync::e2e
