// PostgreSQL schema versions (issue 17 §2): the compatibility window, migrations under an
// advisory lock from processes starting at once, and connection errors that say what to do.
#include "store/pg_schema.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/contract_support.h"
#include "store/database_locator.h"
#include "store/pg_agenda_store.h"

namespace agendasync::store {
namespace {

using testing::test_server;
using testing::unique_schema;

bool mentions(const Error& error, std::string_view text) {
  return error.message.find(text) != std::string::npos;
}

/// A schema of this test's own, dropped at the end.
class PgSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = test_server();
    ASSERT_TRUE(server) << server.error().message;
    target_ = {*server, unique_schema("m")};
  }
  void TearDown() override {
    if (auto admin = pg::Connection::open({target_.conninfo, ""})) {
      (void)(*admin)->exec("DROP SCHEMA IF EXISTS " + pg::quote_identifier(target_.schema) +
                           " CASCADE");
    }
  }
  std::unique_ptr<pg::Connection> connect() {
    auto db = pg::Connection::open(target_);
    EXPECT_TRUE(db) << db.error().message;
    return db ? std::move(*db) : nullptr;
  }
  /// Records `version` / `compatible_from` as a later release's migration would.
  void pretend(int version, int compatible_from) {
    auto db = connect();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->run("UPDATE agendasync_schema SET version = $1, compatible_from = $2",
                        {std::int64_t{version}, std::int64_t{compatible_from}}));
  }
  pg::Target target_;
};

TEST(PgSchemaWindow, ABuildRunsOnItsOwnVersionAndOnNewerOnesThatStillAdmitIt) {
  EXPECT_TRUE(pg::check_compatible({3, 1}, 3, "s"));
  EXPECT_TRUE(pg::check_compatible({4, 3}, 3, "s")) << "expanded by the next release";
  EXPECT_TRUE(pg::check_compatible({5, 2}, 3, "s"));
  auto contracted = pg::check_compatible({5, 4}, 3, "s");
  ASSERT_FALSE(contracted);
  EXPECT_EQ(contracted.error().kind, ErrorKind::kUnsupported);
  EXPECT_TRUE(mentions(contracted.error(), "Upgrade agendasync")) << contracted.error().message;
  auto older = pg::check_compatible({2, 1}, 3, "s");
  ASSERT_FALSE(older);
  EXPECT_TRUE(mentions(older.error(), "agendasync migrate")) << older.error().message;
  auto missing = pg::check_compatible({0, 0}, 3, "s");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(mentions(missing.error(), "agendasync migrate")) << missing.error().message;
}

TEST_F(PgSchema, MigrateCreatesTheSchemaOnceAndThenHasNothingToDo) {
  auto db = connect();
  ASSERT_TRUE(db);
  auto first = pg::migrate(*db);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->from, 0);
  EXPECT_EQ(first->to, pg::current_schema_version());
  auto again = pg::migrate(*db);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->from, again->to);
  auto found = pg::schema_version(*db).value();
  EXPECT_EQ(found.version, pg::current_schema_version());
}

TEST_F(PgSchema, ANodeNeverMigratesAndRefusesASchemaOutsideItsWindow) {
  // Missing: refused, and nothing is created.
  auto missing = open_pg_agenda_store(target_);
  ASSERT_FALSE(missing);
  EXPECT_TRUE(mentions(missing.error(), "agendasync migrate")) << missing.error().message;
  EXPECT_EQ(pg::schema_version(*connect()).value().version, 0);

  PgStoreOptions creating;
  creating.create = true;
  ASSERT_TRUE(open_pg_agenda_store(target_, creating));
  const int mine = pg::current_schema_version();

  pretend(mine + 1, mine);  // the next release expanded the schema: this build still runs
  auto expanded = open_pg_agenda_store(target_);
  ASSERT_TRUE(expanded) << expanded.error().message;
  EXPECT_TRUE((*expanded)->add_user(testing::sample_user("ANNA")));

  pretend(mine + 2, mine + 1);  // and a later one contracted it: this build must stop
  auto contracted = open_pg_agenda_store(target_);
  ASSERT_FALSE(contracted);
  EXPECT_EQ(contracted.error().kind, ErrorKind::kUnsupported);
  EXPECT_TRUE(mentions(contracted.error(), target_.schema)) << contracted.error().message;
  EXPECT_TRUE(mentions(contracted.error(), "Upgrade agendasync")) << contracted.error().message;
  // migrate from this (older) build leaves a newer schema alone, and says why.
  auto db = connect();
  auto refused = pg::migrate(*db);
  ASSERT_FALSE(refused);
  EXPECT_EQ(pg::schema_version(*db).value().version, mine + 2);
}

TEST_F(PgSchema, ProcessesMigratingAtOnceQueueOnTheLockAndTheSchemaIsMadeOnce) {
  constexpr int kProcesses = 6;
  // Every child waits on this pipe, so they start their migrations together.
  int start[2];
  ASSERT_EQ(pipe(start), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(start[1]);
      char go = 0;
      if (read(start[0], &go, 1) < 0) _exit(3);
      auto db = pg::Connection::open(target_);
      if (!db) _exit(2);
      auto migrated = pg::migrate(**db);
      // Exit code 10 + the version migrated from: exactly one child may have found 0.
      _exit(migrated ? 10 + migrated->from : 1);
    }
    children.push_back(pid);
  }
  close(start[0]);
  close(start[1]);  // EOF releases every child at once
  int created = 0, found_done = 0;
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    const int code = WEXITSTATUS(status);
    ASSERT_GE(code, 10) << "a migrating process failed with " << code;
    (code == 10 ? created : found_done)++;
  }
  EXPECT_EQ(created, 1) << "the schema was made by exactly one process";
  EXPECT_EQ(found_done, kProcesses - 1);
  EXPECT_EQ(pg::schema_version(*connect()).value().version, pg::current_schema_version());
}

TEST(PgConnection, AnUnreachableServerOrMissingDatabaseSaysWhatToCheck) {
  // A port nothing listens on (bound and closed, so it is free but unused right now).
  auto unreachable = pg::Connection::open({"host=127.0.0.1 port=1 connect_timeout=2", "s"});
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().kind, ErrorKind::kTransient);
  EXPECT_TRUE(mentions(unreachable.error(), "unreachable")) << unreachable.error().message;
  EXPECT_TRUE(mentions(unreachable.error(), "127.0.0.1:1")) << unreachable.error().message;

  auto server = test_server();
  ASSERT_TRUE(server) << server.error().message;
  auto missing = pg::Connection::open({*server + " dbname=no_such_database_here", "s"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(mentions(missing.error(), "createdb")) << missing.error().message;
}

TEST(PgConnection, APasswordNeverAppearsInAMessage) {
  auto refused = pg::Connection::open(
      {"postgresql://someone:s3cret-pw@127.0.0.1:1/agenda?connect_timeout=2", "s"});
  ASSERT_FALSE(refused);
  EXPECT_FALSE(mentions(refused.error(), "s3cret-pw")) << refused.error().message;
}

TEST(DatabaseLocator, UrisAndKeywordStringsArePostgresPathsAreSqlite) {
  EXPECT_TRUE(is_postgres_locator("postgresql://db1/agendasync"));
  EXPECT_TRUE(is_postgres_locator("postgres://u@db1:5433/a"));
  EXPECT_TRUE(is_postgres_locator("host=127.0.0.1 port=5432 user=postgres dbname=postgres"));
  EXPECT_TRUE(is_postgres_locator(" dbname = agenda"));
  EXPECT_FALSE(is_postgres_locator("agenda.db"));
  EXPECT_FALSE(is_postgres_locator("/var/lib/agendasync/agenda.db"));
  EXPECT_FALSE(is_postgres_locator("/data/a=b/agenda.db"));
  EXPECT_EQ(organisation_schema("customer-1042").value(), "org_customer_1042");
  EXPECT_EQ(organisation_schema("default").value(), "org_default");
  EXPECT_TRUE(organisation_schema(std::string(59, 'a')));
  EXPECT_FALSE(organisation_schema(std::string(60, 'a')));
}

}  // namespace
}  // namespace agendasync::store
