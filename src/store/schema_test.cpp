// Migrations: from empty, re-open is a no-op, a newer database is refused untouched.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "store/sqlite_agenda_store.h"
#include "store/sqlite_schema.h"
#include "store/test_support.h"

namespace agendasync::store {
namespace {

using testing::database_image;
using testing::TempDir;

/// Runs one statement with the raw SQLite API and returns the first column of the first row.
std::string raw_query(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

TEST(Schema, MigratesAnEmptyFileToTheCurrentVersion) {
  TempDir dir;
  auto path = dir / "agenda.db";
  {
    auto store = open_sqlite_agenda_store(path, testing::creating());
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ((*store)->head_revision().value(), 0);
    EXPECT_EQ((*store)->describe(), "sqlite:" + path.string());
  }
  EXPECT_EQ(raw_query(path, "PRAGMA user_version"),
            std::to_string(sqlite::current_schema_version()));
  EXPECT_EQ(raw_query(path, "PRAGMA journal_mode"), "wal");
  for (const char* table :
       {"organisation_settings", "users", "activity_types", "appointments",
        "appointment_participants", "tombstones", "changes", "change_users", "feed_counter"}) {
    EXPECT_EQ(raw_query(path, std::string("SELECT count(*) FROM sqlite_master WHERE name = '") +
                                  table + "'"),
              "1")
        << table;
  }
}

TEST(Schema, ReopeningAnExistingDatabaseChangesNothing) {
  TempDir dir;
  auto path = dir / "agenda.db";
  {
    auto store = open_sqlite_agenda_store(path, testing::creating());
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->add_user(testing::sample_user("ANNA")));
  }
  auto before = database_image(path);
  ASSERT_FALSE(before.empty());
  {
    auto store = open_sqlite_agenda_store(path);
    ASSERT_TRUE(store) << store.error().message;
    auto users = (*store)->users();
    ASSERT_TRUE(users);
    ASSERT_EQ(users->size(), 1u);
    EXPECT_EQ(users->front().user_name, "ANNA");
  }
  EXPECT_EQ(database_image(path), before);
}

TEST(Schema, AnOlderDatabaseIsUpgradedKeepingItsData) {
  TempDir dir;
  auto path = dir / "agenda.db";
  {
    auto store = open_sqlite_agenda_store(path, testing::creating()).value();
    ASSERT_TRUE(store->add_user(testing::sample_user("ANNA")));
  }
  // Back to schema version 1: what migrations 2, 4 and 5 add is gone.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, testing::kUndoMigration5, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  raw_query(path, "DROP INDEX change_users_by_revision");
  raw_query(path, "ALTER TABLE users DROP COLUMN backend");
  raw_query(path, "PRAGMA user_version = 1");
  {
    auto store = open_sqlite_agenda_store(path);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ((*store)->users().value().size(), 1u);
    // Migration 4 (R41): every existing user is routed automatically.
    EXPECT_EQ((*store)->user("ANNA").value()->backend, MailboxBackend::kAuto);
    EXPECT_EQ((*store)->head_revision().value(), 1);
    // Migration 5: the directory's revision starts at 0 and counts writes from then on.
    EXPECT_EQ((*store)->directory_revision().value(), 0);
    ASSERT_TRUE((*store)->add_user(testing::sample_user("BEN")));
    EXPECT_GT((*store)->directory_revision().value(), 0);
  }
  EXPECT_EQ(raw_query(path, "PRAGMA user_version"),
            std::to_string(sqlite::current_schema_version()));
  EXPECT_EQ(raw_query(path,
                      "SELECT count(*) FROM sqlite_master WHERE name = "
                      "'change_users_by_revision'"),
            "1");
}

TEST(Schema, AMissingFileIsNotCreatedWithoutTheCreateOption) {
  TempDir dir;
  auto path = dir / "missing.db";
  auto store = open_sqlite_agenda_store(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(store.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(store.error().message.find("agendasync init"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Schema, ADatabaseFromANewerVersionIsRefusedAndLeftUntouched) {
  TempDir dir;
  auto path = dir / "agenda.db";
  { ASSERT_TRUE(open_sqlite_agenda_store(path, testing::creating())); }
  raw_query(path, "PRAGMA user_version = 999");
  auto before = database_image(path);
  auto store = open_sqlite_agenda_store(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(store.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(store.error().message.find("999"), std::string::npos);
  EXPECT_NE(store.error().message.find("Upgrade agendasync"), std::string::npos);
  EXPECT_EQ(database_image(path), before);
}

TEST(Schema, AnotherApplicationsDatabaseIsRefusedAndLeftUntouched) {
  TempDir dir;
  auto path = dir / "other.db";
  raw_query(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)");
  auto before = database_image(path);
  auto store = open_sqlite_agenda_store(path, testing::creating());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(store.error().message.find("another application"), std::string::npos);
  EXPECT_EQ(database_image(path), before);
  EXPECT_EQ(raw_query(path, "PRAGMA user_version"), "0");
}

TEST(Schema, ConcurrentFirstOpensMigrateOnce) {
  TempDir dir;
  auto path = dir / "agenda.db";
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  std::mutex mutex;
  std::vector<std::string> errors;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto store = open_sqlite_agenda_store(path, testing::creating());
      if (store) {
        ++opened;
      } else {
        std::lock_guard lock(mutex);
        errors.push_back(store.error().message);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), 4) << ::testing::PrintToString(errors);
  EXPECT_EQ(raw_query(path, "SELECT count(*) FROM feed_counter"), "1");
}

}  // namespace
}  // namespace agendasync::store
