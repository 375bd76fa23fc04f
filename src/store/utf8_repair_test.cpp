// Invalid UTF-8: refused on every write, and repaired once (migration 3) in an agenda an
// earlier agendasync let it into. The poisoned fixture is written through SQLite's own API.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/utf8.h"
#include "store/sqlite_agenda_store.h"
#include "store/sqlite_schema.h"
#include "store/test_support.h"

namespace agendasync::store {
namespace {

using testing::at;
using testing::sample_appointment;
using testing::sample_user;
using testing::TempDir;

const std::string kFffd = "\xEF\xBF\xBD";

/// Runs `sql` through the raw SQLite API (no foreign keys, as an old build or a hand edit).
void raw_exec(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "") << "\n"
      << sql;
  sqlite3_free(message);
  sqlite3_close(db);
}

TEST(Utf8Writes, EveryWriteRefusesInvalidUtf8AndChangesNothing) {
  TempDir dir;
  auto store = open_sqlite_agenda_store(dir / "agenda.db", testing::creating()).value();
  ASSERT_TRUE(store->add_user(sample_user("ANNA")));
  auto head = store->head_revision().value();

  auto type = store->put_activity_type({"Caf\xE9", true, false, false});
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(type.error().message.find("not valid UTF-8"), std::string::npos);

  auto user = sample_user("BOB");
  user.display_name = "J\xF6rg";
  auto added = store->add_user(user);
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().message.find("display name is not valid UTF-8"), std::string::npos)
      << added.error().message;

  auto item = sample_appointment("ANNA", "Caf\xE9");
  auto created = store->create_appointment(item);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(created.error().message.find("subject is not valid UTF-8"), std::string::npos)
      << created.error().message;

  EXPECT_EQ(store->head_revision().value(), head);
  EXPECT_EQ(store->activity_types().value().size(), 0u);
  EXPECT_EQ(store->users().value().size(), 1u);
}

/// A current agenda turned back into one of schema version 2: what later migrations added is
/// taken away again, so that opening it runs them.
const std::string kBackToVersion2 =
    std::string(testing::kUndoMigration5) +
    "ALTER TABLE users DROP COLUMN backend; PRAGMA user_version = 2;";

class PoisonedAgenda : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "agenda.db";
    auto store = open_sqlite_agenda_store(path_, testing::creating()).value();
    ASSERT_TRUE(store->add_user(sample_user("ANNA")));
    ASSERT_TRUE(store->put_activity_type({"Meeting", true, true, false}));
    ASSERT_TRUE(store->put_activity_type({"Visit", false, false, false}));
    auto item = sample_appointment("ANNA", "Lunch");
    item.activity_type = "Meeting";
    item.location = "Room 1";
    meeting_id_ = store->create_appointment(item).value().id;
    auto visit = sample_appointment("ANNA", "Customer", at(2026, 3, 3, 9));
    visit.activity_type = "Visit";
    visit_id_ = store->create_appointment(visit).value().id;
    clean_id_ = store->create_appointment(sample_appointment("ANNA", "Clean", at(2026, 3, 4, 9)))
                    .value()
                    .id;
    head_ = store->head_revision().value();
  }

  /// What today's build could leave behind: Latin-1 bytes in a type name (with the
  /// appointments and documents naming it), a subject and location, a display name; then
  /// the schema version before the repair.
  void poison() {
    raw_exec(path_,
             "UPDATE activity_types SET name = CAST(X'4D656574E96E67' AS TEXT) "
             "WHERE name = 'Meeting';"
             "UPDATE activity_types SET name = CAST(X'4D656574E86E67' AS TEXT) "
             "WHERE name = 'Visit';"
             "UPDATE appointments SET activity_type = CAST(X'4D656574E96E67' AS TEXT), "
             "  subject = CAST(X'4C756E6368E9' AS TEXT), "
             "  document = replace(replace(replace(document, '\"Meeting\"', "
             "    '\"' || CAST(X'4D656574E96E67' AS TEXT) || '\"'), '\"Lunch\"', "
             "    '\"' || CAST(X'4C756E6368E9' AS TEXT) || '\"'), '\"Room 1\"', "
             "    '\"Room ' || CAST(X'FF' AS TEXT) || '\"') WHERE id = " +
                 std::to_string(meeting_id_) +
                 ";"
                 "UPDATE appointments SET activity_type = CAST(X'4D656574E86E67' AS TEXT), "
                 "  document = replace(document, '\"Visit\"', "
                 "    '\"' || CAST(X'4D656574E86E67' AS TEXT) || '\"') WHERE id = " +
                 std::to_string(visit_id_) +
                 ";"
                 "UPDATE users SET display_name = CAST(X'4AF6726700' AS TEXT);" +
                 std::string(kBackToVersion2));
  }

  TempDir dir_;
  std::filesystem::path path_;
  AppointmentId meeting_id_ = 0, visit_id_ = 0, clean_id_ = 0;
  Revision head_ = 0;
};

TEST_F(PoisonedAgenda, OpeningRepairsEveryBrokenTextOnceAndRecordsTheChanges) {
  poison();
  auto store = open_sqlite_agenda_store(path_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(sqlite::current_schema_version(), 5);

  // Both type names repair to "Meet\uFFFDng": the second gets a suffix, the flags stay.
  auto types = (*store)->activity_types().value();
  ASSERT_EQ(types.size(), 2u);
  const std::string meeting = "Meet" + kFffd + "ng";
  EXPECT_EQ(types[0], (ActivityType{meeting, true, true, false}));
  EXPECT_EQ(types[1], (ActivityType{meeting + " (2)", false, false, false}));

  auto lunch = (*store)->appointment(meeting_id_).value();
  ASSERT_TRUE(lunch);
  EXPECT_EQ(lunch->item.subject, "Lunch" + kFffd);
  EXPECT_EQ(lunch->item.location, "Room " + kFffd);
  EXPECT_EQ(lunch->item.activity_type, meeting);
  auto visit = (*store)->appointment(visit_id_).value();
  EXPECT_EQ(visit->item.activity_type, meeting + " (2)");
  EXPECT_TRUE(valid_utf8((*store)->user("ANNA").value()->display_name));

  // Each repaired appointment is a change the sync and the host must read; the clean one is
  // left alone.
  auto changes = (*store)->changes_since(testing::feed_after(head_)).value();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].entity_id, std::to_string(meeting_id_));
  EXPECT_EQ(changes[1].entity_id, std::to_string(visit_id_));
  EXPECT_EQ(lunch->revision, head_ + 1);
  EXPECT_EQ((*store)->appointment(clean_id_).value()->revision, head_);
  EXPECT_EQ((*store)->appointments({}).value().size(), 3u);

  // The repaired rows are ordinary rows again: they can be written and their type renamed.
  auto renamed = (*store)->update_activity_type(meeting, {"Meeting", true, true, false});
  ASSERT_TRUE(renamed) << renamed.error().message;
  EXPECT_EQ((*store)->appointment(meeting_id_).value()->item.activity_type, "Meeting");
}

TEST_F(PoisonedAgenda, ACleanAgendaIsUpgradedWithoutAnyChange) {
  raw_exec(path_, kBackToVersion2);
  auto store = open_sqlite_agenda_store(path_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->head_revision().value(), head_);
  EXPECT_EQ((*store)->appointment(meeting_id_).value()->item.subject, "Lunch");
}

}  // namespace
}  // namespace agendasync::store
