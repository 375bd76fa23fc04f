#pragma once
/// The store contract suite's backends: every contract test runs once on SQLite (a file in a
/// temporary folder) and once on PostgreSQL (a schema of its own on the server the test script
/// starts, AGENDASYNC_TEST_PG, dropped afterwards), so parallel test processes never share
/// data. A missing AGENDASYNC_TEST_PG fails the PostgreSQL half; it never skips it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <random>
#include <string>

#include "store/agenda_store.h"
#include "store/pg_agenda_store.h"
#include "store/pg_connection.h"
#include "store/pg_schema.h"
#include "store/sqlite_agenda_store.h"
#include "store/test_support.h"

namespace agendasync::store::testing {

enum class Backend { kSqlite, kPostgres };

/// GoogleTest prints the parameter by this ("GetParam() = postgres").
inline void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::kSqlite ? "sqlite" : "postgres");
}

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

/// The server the test script started ("host=127.0.0.1 port=... user=postgres dbname=...").
inline Result<std::string> test_server() {
  const char* conninfo = std::getenv("AGENDASYNC_TEST_PG");
  if (!conninfo || !*conninfo) {
    return fail(ErrorKind::kNotFound,
                "AGENDASYNC_TEST_PG is not set: the PostgreSQL half of the store contract needs "
                "the server scripts/test.sh starts; run `source scripts/services.sh; "
                "start_test_services` first");
  }
  return std::string(conninfo);
}

/// A schema name no other test (in this or another process) uses.
inline std::string unique_schema(const std::string& prefix = "t") {
  static std::atomic<int> counter{0};
  std::random_device random;
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(random() % 1000000);
}

/// A PostgreSQL database of one test's own on the test server, created empty and dropped (with
/// whatever connections are left) at the end: for what a whole database shares (the platform
/// schema, organisation `default`, `agendasync serve` processes), which a schema per test
/// cannot keep apart. The server string must be a keyword string (AGENDASYNC_TEST_PG is).
class ScratchDatabase {
 public:
  ScratchDatabase() = default;
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  ~ScratchDatabase() {
    if (name_.empty()) return;
    if (auto admin = pg::Connection::open({server_, ""})) {
      (void)(*admin)->exec("DROP DATABASE IF EXISTS " + pg::quote_identifier(name_) +
                           " WITH (FORCE)");
    }
  }
  /// Creates the database; its connection string.
  Result<std::string> create() {
    auto server = test_server();
    if (!server) return std::unexpected(server.error());
    server_ = *server;
    auto admin = pg::Connection::open({server_, ""});
    if (!admin) return std::unexpected(admin.error());
    name_ = unique_schema("agendasync_t");
    if (auto made = (*admin)->exec("CREATE DATABASE " + pg::quote_identifier(name_)); !made) {
      name_.clear();
      return std::unexpected(made.error());
    }
    conninfo_ = server_ + " dbname=" + name_;
    return conninfo_;
  }
  const std::string& conninfo() const { return conninfo_; }

 private:
  std::string server_;
  std::string name_;
  std::string conninfo_;
};

/// One test's database: a file for SQLite, a schema for PostgreSQL.
class ContractDatabase {
 public:
  explicit ContractDatabase(Backend backend) : backend_(backend) {}
  ~ContractDatabase() {
    if (backend_ != Backend::kPostgres || target_.schema.empty()) return;
    if (auto admin = pg::Connection::open({target_.conninfo, ""})) {
      (void)(*admin)->exec("DROP SCHEMA IF EXISTS " + pg::quote_identifier(target_.schema) +
                           " CASCADE");
    }
  }
  ContractDatabase(const ContractDatabase&) = delete;
  ContractDatabase& operator=(const ContractDatabase&) = delete;

  /// Creates the empty database (for PostgreSQL: its schema, migrated).
  Result<void> create() {
    if (backend_ == Backend::kSqlite) {
      auto opened = open(true);
      if (!opened) return std::unexpected(opened.error());
      return {};
    }
    auto server = test_server();
    if (!server) return std::unexpected(server.error());
    target_ = {*server, unique_schema()};
    auto db = pg::Connection::open(target_);
    if (!db) return std::unexpected(db.error());
    auto migrated = pg::migrate(**db);
    if (!migrated) return std::unexpected(migrated.error());
    return {};
  }

  /// A new handle on the database, with connections of its own (another writer).
  Result<std::unique_ptr<AgendaStore>> open(bool create = false) const {
    if (backend_ == Backend::kSqlite) {
      SqliteOptions options;
      options.create = create;
      return open_sqlite_agenda_store(agenda_path(), options);
    }
    return open_pg_agenda_store(target_);
  }

  Backend backend() const { return backend_; }
  std::filesystem::path agenda_path() const { return dir_ / "agenda.db"; }
  std::filesystem::path state_path() const { return dir_ / "agenda.db.sync.db"; }
  const pg::Target& target() const { return target_; }

  /// Everything the agenda holds, to check that a refused write changed nothing.
  std::string image() const {
    if (backend_ == Backend::kSqlite) return database_image(agenda_path());
    auto db = pg::Connection::open(target_);
    if (!db) return "unreadable: " + db.error().message;
    std::string image;
    for (const char* table :
         {"organisation_settings", "users", "activity_types", "feed_counter", "changes",
          "change_users", "appointments", "appointment_participants", "tombstones"}) {
      auto rows = (*db)->query(std::string("SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY "
                                           "t::text), '') FROM ") +
                               table + " t");
      image += std::string(table) + ":" + (rows ? rows->text_at(0, 0) : rows.error().message);
    }
    return image;
  }

 private:
  Backend backend_;
  TempDir dir_;
  pg::Target target_;
};

}  // namespace agendasync::store::testing
