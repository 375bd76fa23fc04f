#pragma once
/// The tables nodes coordinate through on PostgreSQL (issue 17): the node registry, the
/// ownership of each organisation's real-time watchers, and the shared back-offs. They live
/// in one schema of their own (`agendasync_cluster` in production; tests take a fresh one
/// each), beside the organisations' `org_<id>` schemas. Like the store's, they change only
/// through `agendasync migrate`, under an advisory lock; a node refuses to start on missing
/// or older tables, saying what to run.
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/pg_connection.h"

namespace agendasync::cluster {

/// The schema production nodes use.
inline constexpr std::string_view kClusterSchema = "agendasync_cluster";

/// The target holding the cluster tables on the server `database` names (a libpq URI or
/// keyword string), in `schema`.
store::pg::Target cluster_target(std::string_view database,
                                 std::string_view schema = kClusterSchema);

/// This build's version of the cluster schema.
int cluster_schema_version();

/// Creates the schema when missing and applies what it lacks, in one transaction under a
/// transaction-scoped advisory lock keyed by the schema. Returns the version found before.
Result<int> migrate_cluster(const store::pg::Target& target);

/// kNotFound naming `agendasync migrate` when the tables are missing or older than this
/// build. A newer version passes: cluster migrations only expand.
Result<void> check_cluster_schema(store::pg::Connection& db);

}  // namespace agendasync::cluster
