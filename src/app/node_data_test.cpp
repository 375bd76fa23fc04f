// The node's files as one unit (issue 19): an online backup while another connection writes,
// restore, and migrate with a backup first only when an agenda is behind.
#include "app/node_data.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "store/sqlite_agenda_store.h"
#include "store/sqlite_backup.h"
#include "store/sqlite_schema.h"
#include "store/test_support.h"

namespace agendasync::app {
namespace {

using store::testing::TempDir;

/// One statement through the raw SQLite API (what an older agendasync or sqlite3 would do).
void raw_exec(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << sql << ": " << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

User named(std::string name) {
  User user;
  user.user_name = std::move(name);
  return user;
}

int schema(const std::filesystem::path& path) {
  auto version = store::sqlite::schema_version_of(path);
  EXPECT_TRUE(version) << version.error().message;
  return version.value_or(-1);
}

std::vector<std::string> user_names(const std::filesystem::path& path) {
  auto opened = store::open_sqlite_agenda_store(path);
  EXPECT_TRUE(opened) << opened.error().message;
  std::vector<std::string> names;
  if (!opened) return names;
  auto users = (*opened)->users();
  EXPECT_TRUE(users);
  for (const auto& user : users.value_or(std::vector<User>{})) names.push_back(user.user_name);
  return names;
}

class NodeData : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.database = dir_ / "agenda.db";
    store::SqliteOptions create;
    create.create = true;
    auto opened = store::open_sqlite_agenda_store(node_.database, create);
    ASSERT_TRUE(opened) << opened.error().message;
    ASSERT_TRUE((*opened)->add_user(named("ALICE")));
    // An organisation of its own under organisations/<id>/, with a sync state beside it.
    std::filesystem::create_directories(dir_ / "organisations" / "contoso");
    auto other = store::open_sqlite_agenda_store(dir_ / "organisations/contoso/agenda.db", create);
    ASSERT_TRUE(other) << other.error().message;
    raw_exec(dir_ / "organisations/contoso/agenda.sync.db", "CREATE TABLE state (x)");
  }
  TempDir dir_;
  TempDir out_;
  config::Config node_;
};

TEST_F(NodeData, ListsEveryDatabaseOfTheNode) {
  auto files = node_files(node_);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].relative, "agenda.db");
  EXPECT_EQ(files[1].relative, "organisations/contoso/agenda.db");
  EXPECT_EQ(files[2].relative, "organisations/contoso/agenda.sync.db");
  EXPECT_TRUE(files[1].agenda);
  EXPECT_FALSE(files[2].agenda);
}

TEST_F(NodeData, BackupWhileAnotherConnectionWritesIsConsistent) {
  auto writer_store = store::open_sqlite_agenda_store(node_.database);
  ASSERT_TRUE(writer_store);
  std::atomic<bool> stop{false};
  std::atomic<int> added{0};
  std::thread writer([&] {
    while (!stop) {
      if ((*writer_store)->add_user(named("U" + std::to_string(added.load())))) {
        ++added;
      }
    }
  });
  while (added < 20) std::this_thread::yield();
  auto report = backup_node(node_, out_ / "backup");
  stop = true;
  writer.join();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->files.size(), 3u);
  // One snapshot: a whole database at some commit, with ALICE and a prefix of the writes.
  auto names = user_names(out_ / "backup/agenda.db");
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(std::count(names.begin(), names.end(), "ALICE"), 1);
  EXPECT_GE(names.size(), 21u);
  EXPECT_LE(names.size(), static_cast<std::size_t>(added.load()) + 1);
  EXPECT_FALSE(std::filesystem::exists(out_ / "backup/agenda.db.partial"));
  EXPECT_TRUE(std::filesystem::exists(out_ / "backup/organisations/contoso/agenda.sync.db"));
}

TEST_F(NodeData, BackupNeverWritesIntoAFolderThatHoldsSomething) {
  ASSERT_TRUE(backup_node(node_, out_ / "backup"));
  auto again = backup_node(node_, out_ / "backup");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
}

TEST_F(NodeData, RestoreBringsBackTheBackedUpContent) {
  ASSERT_TRUE(backup_node(node_, out_ / "backup"));
  {
    auto opened = store::open_sqlite_agenda_store(node_.database);
    ASSERT_TRUE(opened);
    ASSERT_TRUE((*opened)->add_user(named("BOB")));
  }
  auto restored = restore_node(node_, out_ / "backup");
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(restored->files.size(), 3u);
  EXPECT_EQ(user_names(node_.database), std::vector<std::string>{"ALICE"});
}

TEST_F(NodeData, RestoreRefusesABackupOfANewerSchemaAndChangesNothing) {
  ASSERT_TRUE(backup_node(node_, out_ / "backup"));
  raw_exec(out_ / "backup/agenda.db", "PRAGMA user_version = 999");
  {
    auto opened = store::open_sqlite_agenda_store(node_.database);
    ASSERT_TRUE((*opened)->add_user(named("BOB")));
  }
  auto restored = restore_node(node_, out_ / "backup");
  ASSERT_FALSE(restored);
  EXPECT_EQ(restored.error().kind, ErrorKind::kUnsupported);
  EXPECT_EQ(user_names(node_.database).size(), 2u);
}

TEST_F(NodeData, MigrateBacksUpFirstOnlyWhenAnAgendaIsBehind) {
  const int current = store::sqlite::current_schema_version();
  // The agenda as schema 3 left it (migration 4 added users.backend, 5 the directory revision).
  raw_exec(node_.database, std::string(store::testing::kUndoMigration5) +
                               "ALTER TABLE users DROP COLUMN backend; PRAGMA user_version = 3");
  auto status = schema_status(node_);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->behind());
  EXPECT_EQ(schema(node_.database), 3);  // status changes nothing

  auto migrated = migrate_node(node_, out_ / "before");
  ASSERT_TRUE(migrated) << migrated.error().message;
  EXPECT_EQ(migrated->backup, out_ / "before");
  EXPECT_EQ(schema(out_ / "before/agenda.db"), 3);
  EXPECT_EQ(schema(node_.database), current);
  EXPECT_EQ(user_names(node_.database), std::vector<std::string>{"ALICE"});

  auto again = migrate_node(node_, out_ / "again");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->backup.empty());
  EXPECT_FALSE(std::filesystem::exists(out_ / "again"));
}

TEST_F(NodeData, MigrateRefusesANewerSchemaBeforeAnyBackupOrWrite) {
  raw_exec(dir_ / "organisations/contoso/agenda.db", "PRAGMA user_version = 999");
  auto status = schema_status(node_);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->ahead());
  auto migrated = migrate_node(node_, out_ / "before");
  ASSERT_FALSE(migrated);
  EXPECT_EQ(migrated.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(migrated.error().message.find("newer than this agendasync understands"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out_ / "before"));
}

}  // namespace
}  // namespace agendasync::app
