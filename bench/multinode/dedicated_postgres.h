#pragma once
/// A PostgreSQL server of the multi-node benchmark's own: initdb in a folder of the run,
/// loopback only, a free port, pg_stat_statements preloaded, so that every statement the
/// nodes send can be counted, and its processes' CPU time read. Stopped (and its folder left
/// to the caller) when destroyed. As root, initdb and the server run as the `postgres` user,
/// which PostgreSQL requires (scripts/services.sh does the same for the tests' server).
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/error.h"

namespace agendasync::bench {

/// What the server did for one database up to a moment (counters: subtract two snapshots).
struct StatementCounts {
  /// pg_stat_statements' calls by normalised statement text (summed over the schemas: one
  /// organisation's "UPDATE sync_lease ..." is another's too).
  std::map<std::string, std::int64_t> calls;
  /// pg_stat_statements' rows (returned or changed) by the same text.
  std::map<std::string, std::int64_t> rows;
  /// pg_stat_database's committed + rolled-back transactions.
  std::int64_t transactions = 0;
  /// user + system CPU of the server's processes (the postmaster, its live children and the
  /// children that already exited), seconds.
  double cpu_seconds = 0;

  std::int64_t total_calls() const;
  /// Calls (or rows) of the statements whose normalised text starts with `prefix`.
  std::int64_t calls_starting(const std::string& prefix) const;
  std::int64_t rows_starting(const std::string& prefix) const;
  /// this - earlier, per statement (statements absent earlier count from 0).
  StatementCounts minus(const StatementCounts& earlier) const;
};

class DedicatedPostgres {
 public:
  /// initdb + start under `dir` (made here; must not exist). kTransient with the server's log
  /// when it does not come up.
  static Result<std::unique_ptr<DedicatedPostgres>> start(const std::filesystem::path& dir);
  ~DedicatedPostgres();
  DedicatedPostgres(const DedicatedPostgres&) = delete;
  DedicatedPostgres& operator=(const DedicatedPostgres&) = delete;

  /// libpq keyword string of database `name` on this server.
  std::string conninfo(const std::string& name) const;
  /// Runs one statement in database `postgres` (CREATE/DROP DATABASE ...).
  Result<void> admin(const std::string& sql) const;
  /// The counters of database `name` now.
  Result<StatementCounts> counts(const std::string& name) const;
  /// The settings the server runs with beyond initdb's, for the results' note.
  static const char* settings();

 private:
  DedicatedPostgres(std::filesystem::path dir, std::filesystem::path bin, int port)
      : dir_(std::move(dir)), bin_(std::move(bin)), port_(port) {}
  pid_t postmaster() const;

  std::filesystem::path dir_;
  std::filesystem::path bin_;
  int port_;
};

}  // namespace agendasync::bench
