#pragma once
/// The PostgreSQL implementation of AgendaStore (many nodes, R33; issue 17): one
/// organisation's agenda in one schema of a shared database, reached through a small
/// connection pool. Same contract as the SQLite store (the contract suite runs both).
#include <chrono>
#include <cstddef>
#include <memory>

#include "core/error.h"
#include "store/agenda_store.h"
#include "store/pg_connection.h"

namespace agendasync::store {

struct PgStoreOptions {
  /// Create the schema and its tables when missing, or bring an older schema up to date
  /// (`agendasync init`, tests). Off: a node refuses a missing schema, and one outside its
  /// compatibility window, naming `agendasync migrate` (migrations never run as nodes start).
  bool create = false;
  /// Connections this store opens at most (PostgreSQL's max_connections must cover every
  /// node's pools).
  std::size_t max_connections = 4;
  /// false: commits do not wait for the WAL flush (`synchronous_commit = off`), the daemon's
  /// API, as SQLite's synchronous=NORMAL (docs/DECISIONS.md "API write durability").
  bool fsync_every_commit = true;
};

/// Opens the agenda in `target.schema`. Fails naming the server and schema (never the
/// password) when PostgreSQL is unreachable, refuses the login, or the schema is missing or
/// outside this build's compatibility window.
Result<std::unique_ptr<AgendaStore>> open_pg_agenda_store(const pg::Target& target,
                                                          const PgStoreOptions& options = {});

}  // namespace agendasync::store
