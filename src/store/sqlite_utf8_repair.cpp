// Why a migration rather than repairing on every read: the broken bytes sit in the stored
// JSON document, which no reader can parse (nlohmann refuses ill-formed UTF-8), and in
// activity type names that the sync compares and the API prints. Rewriting the rows once
// makes every later reader, the feed and the sync see one consistent, valid value.
#include "store/sqlite_utf8_repair.h"

#include <map>
#include <vector>

#include "core/appointment_text.h"
#include "core/utf8.h"
#include "store/appointment_document.h"
#include "store/sqlite_agenda_store_impl.h"

namespace agendasync::store {

namespace {

using sqlite::Connection;

/// Old (broken) activity type name -> its repaired name.
using Renames = std::map<std::string, std::string>;

/// A repaired name no other type has (names compare without case): two broken names can
/// repair to the same text, e.g. "Caf\xE9" and "Caf\xE8"; the second becomes "Caf\uFFFD (2)".
Result<std::string> free_name(Connection& db, const std::string& repaired) {
  std::string candidate = repaired;
  for (int suffix = 2;; ++suffix) {
    auto taken = db.query_int("SELECT count(*) FROM activity_types WHERE name = ?1", {candidate});
    if (!taken) return std::unexpected(taken.error());
    if (taken->value_or(0) == 0) return candidate;
    candidate = repaired + " (" + std::to_string(suffix) + ")";
  }
}

Result<Renames> repair_activity_types(Connection& db) {
  auto rows = db.prepare("SELECT name FROM activity_types ORDER BY rowid");
  if (!rows) return std::unexpected(rows.error());
  std::vector<std::string> broken;
  for (;;) {
    auto row = rows->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    if (!valid_utf8(rows->text_at(0))) broken.push_back(rows->text_at(0));
  }
  Renames renames;
  if (broken.empty()) return renames;
  // Appointments still name the old type until they are rewritten below; the foreign key is
  // checked at commit (the pragma ends with the transaction).
  if (auto deferred = db.exec("PRAGMA defer_foreign_keys = ON"); !deferred) {
    return std::unexpected(deferred.error());
  }
  for (const auto& old_name : broken) {
    auto name = free_name(db, repair_utf8(old_name));
    if (!name) return std::unexpected(name.error());
    if (auto renamed =
            db.run("UPDATE activity_types SET name = ?2 WHERE name = ?1", {old_name, *name});
        !renamed) {
      return std::unexpected(renamed.error());
    }
    renames[old_name] = *name;
  }
  return renames;
}

struct Row {
  AppointmentId id = 0;
  std::string activity_type;
  std::string document;
};

Result<void> repair_appointment(Connection& db, const Row& row, const Renames& renames) {
  auto item = from_document(repair_utf8(row.document));
  if (!item) {
    return fail(ErrorKind::kInvalidData,
                "database " + db.path().string() + ": appointment " + std::to_string(row.id) +
                    " could not be read while repairing its text (" + item.error().message +
                    "); nothing was changed. Restore a backup, or delete the appointment and "
                    "open the database again");
  }
  if (auto renamed = renames.find(row.activity_type); renamed != renames.end()) {
    item->activity_type = renamed->second;
  }
  repair_text_utf8(*item);
  auto revision = append_change(db, ChangeEntity::kAppointment, std::to_string(row.id),
                                ChangeOp::kUpsert, audience(*item));
  if (!revision) return std::unexpected(revision.error());
  return db.run(
      "UPDATE appointments SET revision = ?2, subject = ?3, activity_type = ?4, document = ?5 "
      "WHERE id = ?1",
      {row.id, *revision, item->subject,
       item->activity_type.empty() ? sqlite::Value{} : sqlite::Value{item->activity_type},
       to_document(*item)});
}

Result<void> repair_appointments(Connection& db, const Renames& renames) {
  auto rows = db.prepare(
      "SELECT id, coalesce(activity_type, ''), subject, document FROM appointments ORDER BY id");
  if (!rows) return std::unexpected(rows.error());
  std::vector<Row> broken;
  for (;;) {
    auto row = rows->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    Row found{rows->int_at(0), rows->text_at(1), rows->text_at(3)};
    if (renames.contains(found.activity_type) || !valid_utf8(rows->text_at(2)) ||
        !valid_utf8(found.document)) {
      broken.push_back(std::move(found));
    }
  }
  for (const auto& row : broken) {
    if (auto repaired = repair_appointment(db, row, renames); !repaired) return repaired;
  }
  return {};
}

Result<void> repair_display_names(Connection& db) {
  auto rows = db.prepare("SELECT user_name, display_name FROM users");
  if (!rows) return std::unexpected(rows.error());
  std::vector<std::pair<std::string, std::string>> broken;
  for (;;) {
    auto row = rows->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    if (!valid_utf8(rows->text_at(1))) broken.emplace_back(rows->text_at(0), rows->text_at(1));
  }
  for (const auto& [user_name, display_name] : broken) {
    if (auto fixed = db.run("UPDATE users SET display_name = ?2 WHERE user_name = ?1",
                            {user_name, repair_utf8(display_name)});
        !fixed) {
      return fixed;
    }
  }
  return {};
}

}  // namespace

Result<void> repair_invalid_utf8(Connection& db) {
  auto renames = repair_activity_types(db);
  if (!renames) return std::unexpected(renames.error());
  if (auto appointments = repair_appointments(db, *renames); !appointments) return appointments;
  return repair_display_names(db);
}

}  // namespace agendasync::store
