// The connection's statement cache: a statement given back is reused for the same SQL text
// with fresh bindings, two statements of one text can be open at once, and SQL built at run
// time beyond the cache's bounds still runs (compiled anew, then finalized).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sqlite_connection.h"
#include "store/test_support.h"

namespace agendasync::store::sqlite {
namespace {

using agendasync::store::testing::TempDir;

Connection open_numbers(const TempDir& dir) {
  auto db = Connection::open(dir.path() / "cache.db", /*create=*/true);
  EXPECT_TRUE(db.has_value());
  EXPECT_TRUE(db->exec("CREATE TABLE numbers(n INTEGER, word TEXT)"));
  for (int n = 1; n <= 3; ++n) {
    EXPECT_TRUE(db->run("INSERT INTO numbers(n, word) VALUES (?1, ?2)",
                        {std::int64_t{n}, "w" + std::to_string(n)}));
  }
  return std::move(*db);
}

TEST(SqliteConnection, AReusedStatementRunsWithItsNewBindings) {
  TempDir dir;
  Connection db = open_numbers(dir);
  const std::string sql = "SELECT word FROM numbers WHERE n = ?1";
  for (int round = 0; round < 3; ++round) {
    for (std::int64_t n = 1; n <= 3; ++n) {
      auto statement = db.prepare(sql, {n});
      ASSERT_TRUE(statement.has_value());
      auto row = statement->step();
      ASSERT_TRUE(row.has_value() && *row);
      EXPECT_EQ(statement->text_at(0), "w" + std::to_string(n));
    }
  }
  // A parameter left unbound reads NULL: the previous run's binding was cleared.
  auto unbound = db.query_int("SELECT ?1 IS NULL", {});
  ASSERT_TRUE(unbound.has_value());
  auto bound = db.query_int("SELECT ?1 IS NULL", {std::int64_t{7}});
  ASSERT_TRUE(bound.has_value());
  EXPECT_EQ(bound->value_or(-1), 0);
  auto again = db.query_int("SELECT ?1 IS NULL", {});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->value_or(-1), 1);
}

TEST(SqliteConnection, TwoStatementsOfOneTextCanBeOpenAtOnce) {
  TempDir dir;
  Connection db = open_numbers(dir);
  const std::string sql = "SELECT n FROM numbers WHERE n >= ?1 ORDER BY n";
  auto outer = db.prepare(sql, {std::int64_t{1}});
  ASSERT_TRUE(outer.has_value());
  std::vector<std::int64_t> pairs;
  for (;;) {
    auto row = outer->step();
    ASSERT_TRUE(row.has_value());
    if (!*row) break;
    auto inner = db.prepare(sql, {outer->int_at(0)});
    ASSERT_TRUE(inner.has_value());
    while (true) {
      auto inner_row = inner->step();
      ASSERT_TRUE(inner_row.has_value());
      if (!*inner_row) break;
      pairs.push_back(outer->int_at(0) * 10 + inner->int_at(0));
    }
  }
  EXPECT_EQ(pairs, (std::vector<std::int64_t>{11, 12, 13, 22, 23, 33}));
}

TEST(SqliteConnection, ManyDistinctTextsBeyondTheCacheStillRun) {
  TempDir dir;
  Connection db = open_numbers(dir);
  for (int round = 0; round < 2; ++round) {
    for (int k = 0; k < 300; ++k) {
      auto value = db.query_int("SELECT " + std::to_string(k) + " + n FROM numbers WHERE n = ?1",
                                {std::int64_t{2}});
      ASSERT_TRUE(value.has_value());
      EXPECT_EQ(value->value_or(-1), k + 2);
    }
  }
}

}  // namespace
}  // namespace agendasync::store::sqlite
