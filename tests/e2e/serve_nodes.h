#pragma once
/// Test-only: what the end-to-end tests of `agendasync serve` processes share — running the
/// real binary, the REST API over real HTTP, and a cluster of nodes on one PostgreSQL database
/// of the test's own (issue 17) over a World's exsim: the node configuration, `init`, an
/// operator token, the secret key file, organisations made through the API, and SQL on the
/// database for assertions on leases and statuses.
#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/contract_support.h"
#include "store/pg_connection.h"
#include "tests/demo/serve_process.h"
#include "tests/e2e/world.h"

namespace agendasync::e2e {

/// `Authorization: Bearer <token>`.
httplib::Headers bearer(const std::string& token);

/// A request to a daemon on loopback `port`: any method with a JSON body (none when null) and
/// extra headers. Status 0 when the request failed; the body as JSON (discarded when not).
std::pair<int, nlohmann::json> http_request(int port, const std::string& method,
                                            const std::string& path,
                                            const nlohmann::json& body = nullptr,
                                            const httplib::Headers& headers = {});

/// A host appointment as the REST API takes it: one hour on 2027-01-(12 + day) at `hour`.
nlohmann::json api_appointment(const std::string& owner, const std::string& subject, int day = 0,
                               int hour = 9);

/// The subjects in a list of items (exsim's or the API's), sorted.
std::vector<std::string> sorted_subjects(const nlohmann::json& items);
std::vector<std::string> sorted_subjects(const std::vector<nlohmann::json>& items);

struct NodeClusterOptions {
  /// [cluster] lease_seconds: pair leases, ownership leases and heartbeats.
  int lease_seconds = 2;
  /// Give the nodes the platform's Graph app (exsim's app registration) in [graph], so an
  /// organisation may connect with backend "graph"; each node then has a fixed port and its
  /// own [server] public_url, which Graph posts its notifications to.
  bool graph_app = false;
};

/// Nodes of one cluster: one PostgreSQL database of the test's own (dropped at the end) on
/// AGENDASYNC_TEST_PG, the configuration of `world` without its [exchange] (organisation
/// default has no connection), `init` run, an operator token and a secret key file made.
class NodeCluster {
 public:
  /// Fatal test failures (ASSERT) when any step fails: call under ASSERT_NO_FATAL_FAILURE.
  void set_up(World& world, NodeClusterOptions options = {});

  const std::string& conninfo() const { return conninfo_; }
  const std::string& operator_token() const { return operator_; }
  std::filesystem::path key_file() const;
  const std::filesystem::path& config_path() const { return config_; }

  /// The real binary on the cluster's configuration.
  CommandResult cli(const std::vector<std::string>& args);

  /// `agendasync serve` named `name`, safety net an hour away, watchers refreshed every
  /// second, with `extra` flags. `port` 0: any free one (no Graph app); with the Graph app each
  /// node needs its own port for its public_url: pass the same one again for a restart.
  std::unique_ptr<demotest::ServeProcess> start_node(const std::string& name, int port = 0,
                                                     const std::vector<std::string>& extra = {});

  /// The `connection` body for an organisation on the world's exsim over EWS (its service
  /// account) or over Graph (the platform's app, exsim's tenant).
  nlohmann::json ews_connection() const;
  nlohmann::json graph_connection() const;

  /// Creates organisation `id` through the node on `port` with `connection`; returns an
  /// integration token of it ("" and a test failure when a step failed).
  std::string create_organisation(int port, const std::string& id,
                                  const nlohmann::json& connection);
  /// Adds an admin-managed user to `org` through the node on `port`, its sync on or off.
  bool add_user(int port, const std::string& org, const std::string& user,
                const std::string& mailbox, bool sync_enabled);
  /// Turns `user`'s sync on through the node on `port`.
  bool enable_sync(int port, const std::string& org, const std::string& user);

  /// A connection to the database with `schema` as its search path ("": none), for assertions
  /// on leases, ownership and statuses. A test failure and null when it cannot connect.
  std::unique_ptr<store::pg::Connection> sql(const std::string& schema = "") const;
  /// The schema of organisation `org`.
  static std::string org_schema(const std::string& org);

 private:
  World* world_ = nullptr;
  NodeClusterOptions options_;
  store::testing::ScratchDatabase database_;
  std::string conninfo_;
  std::filesystem::path config_;
  std::string base_config_;
  std::string operator_;
  std::map<std::string, int> lives_;  ///< starts of each node name
};

}  // namespace agendasync::e2e
