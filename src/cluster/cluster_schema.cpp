#include "cluster/cluster_schema.h"

#include <array>

namespace agendasync::cluster {

namespace {

/// Migration N+1 is kMigrations[N]; never edit a released one, append. Expanding only
/// (new tables, defaulted columns): a node of the previous release keeps running on it.
constexpr std::array<const char*, 1> kMigrations = {
    // 1: nodes, organisation ownership, shared back-offs.
    R"sql(
-- One row per node that ever started here; dead ones stay (their heartbeat ages) so an
-- operator sees them in GET /api/v1/nodes until they come back under the same name.
CREATE TABLE nodes (
  name          TEXT COLLATE "C" PRIMARY KEY,
  version       TEXT NOT NULL DEFAULT '',
  started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  heartbeat_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  stopped       BOOLEAN NOT NULL DEFAULT false
);

-- Which node runs an organisation's real-time watchers (EWS streams, Graph subscriptions)
-- and its safety net: a lease taken with FOR UPDATE SKIP LOCKED, renewed every ttl/3; each
-- take raises the epoch. A free row has expires_at <= now().
CREATE TABLE org_owner (
  org         TEXT COLLATE "C" PRIMARY KEY,
  holder      TEXT COLLATE "C" NOT NULL DEFAULT '',
  epoch       BIGINT NOT NULL DEFAULT 0,
  expires_at  TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
CREATE INDEX org_owner_by_holder ON org_owner (holder);

-- A back-off Exchange asked for (Retry-After, ErrorServerBusy) per budget key
-- (net::Request::budget_key): every node waits until `until`.
CREATE TABLE budget_holds (
  key    TEXT COLLATE "C" PRIMARY KEY,
  until  TIMESTAMPTZ NOT NULL
);
)sql",
};

}  // namespace

store::pg::Target cluster_target(std::string_view database, std::string_view schema) {
  return store::pg::Target{std::string(database), std::string(schema)};
}

int cluster_schema_version() { return static_cast<int>(kMigrations.size()); }

Result<int> migrate_cluster(const store::pg::Target& target) {
  // Connect without the search_path first: the schema may not exist yet.
  auto db = store::pg::Connection::open({target.conninfo, ""});
  if (!db) return std::unexpected(db.error());
  store::pg::Connection& conn = **db;
  const std::string schema = store::pg::quote_identifier(target.schema);
  return store::pg::transaction(conn, [&]() -> Result<int> {
    // Several `migrate` commands at once queue here; the second finds nothing to do.
    if (auto locked = conn.query("SELECT pg_advisory_xact_lock(hashtext($1))",
                                 {"agendasync_cluster_schema:" + target.schema});
        !locked) {
      return std::unexpected(locked.error());
    }
    if (auto made = conn.exec("CREATE SCHEMA IF NOT EXISTS " + schema +
                              "; SET LOCAL search_path TO " + schema +
                              "; CREATE TABLE IF NOT EXISTS cluster_schema (version "
                              "INTEGER NOT NULL); ");
        !made) {
      return std::unexpected(made.error());
    }
    auto found = conn.query_int("SELECT max(version) FROM cluster_schema");
    if (!found) return std::unexpected(found.error());
    const int from = static_cast<int>(found->value_or(0));
    if (from > cluster_schema_version()) {
      return fail(ErrorKind::kUnsupported, "the cluster tables at " + conn.where() +
                                               " are at version " + std::to_string(from) +
                                               ", newer than this build's " +
                                               std::to_string(cluster_schema_version()) +
                                               "; run `agendasync migrate` from an upgraded node");
    }
    for (int next = from; next < cluster_schema_version(); ++next) {
      if (auto applied = conn.exec(kMigrations[static_cast<std::size_t>(next)]); !applied) {
        return std::unexpected(applied.error());
      }
    }
    if (auto noted = conn.run("DELETE FROM cluster_schema"); !noted) {
      return std::unexpected(noted.error());
    }
    if (auto noted = conn.run("INSERT INTO cluster_schema (version) VALUES ($1::integer)",
                              {static_cast<std::int64_t>(cluster_schema_version())});
        !noted) {
      return std::unexpected(noted.error());
    }
    return from;
  });
}

Result<void> check_cluster_schema(store::pg::Connection& db) {
  auto exists = db.query_int(
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND "
      "table_name = 'cluster_schema'",
      {db.schema()});
  if (!exists) return std::unexpected(exists.error());
  int found = 0;
  if (exists->value_or(0) > 0) {
    auto version = db.query_int("SELECT max(version) FROM cluster_schema");
    if (!version) return std::unexpected(version.error());
    found = static_cast<int>(version->value_or(0));
  }
  if (found < cluster_schema_version()) {
    return fail(ErrorKind::kNotFound,
                "the cluster tables at " + db.where() + " are " +
                    (found == 0 ? std::string("missing")
                                : "at version " + std::to_string(found) +
                                      ", older than this "
                                      "build's " +
                                      std::to_string(cluster_schema_version())) +
                    "; run `agendasync migrate` once (from one node) before starting nodes");
  }
  // A newer version is fine: cluster migrations only expand (new tables, defaulted
  // columns), so a node of the previous release keeps working during a rolling upgrade.
  return {};
}

}  // namespace agendasync::cluster
