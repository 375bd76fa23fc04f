#include "store/sqlite_agenda_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "core/appointment_text.h"
#include "store/appointment_document.h"
#include "store/sqlite_agenda_store_impl.h"
#include "store/sqlite_schema.h"

namespace agendasync::store {

using sqlite::Value;

namespace {

std::int64_t seconds(Instant instant) { return epoch_seconds(instant); }
std::int64_t now_utc() { return now_epoch_seconds(); }

Value optional_text(const std::string& text) { return text.empty() ? Value{} : Value{text}; }

/// Refuses files that are SQLite but not ours, before anything is written to them.
Result<void> check_readable(sqlite::Connection& db) {
  // One snapshot: another process may be migrating this very file right now.
  auto state = sqlite::read_transaction(db, [&]() -> Result<std::pair<std::int64_t, std::int64_t>> {
    auto version = db.query_int("PRAGMA user_version");
    if (!version) return std::unexpected(version.error());
    // Reading the schema table touches page 1 and the schema: a corrupt file fails here.
    auto tables = db.query_int("SELECT count(*) FROM sqlite_master");
    if (!tables) return std::unexpected(tables.error());
    return std::pair{version->value_or(0), tables->value_or(0)};
  });
  if (!state) return std::unexpected(state.error());
  auto [version, tables] = *state;
  if (version == 0 && tables > 0) {
    return fail(ErrorKind::kInvalidData,
                "database " + db.path().string() +
                    " is an SQLite database of another application (it has tables but no "
                    "agendasync schema version); nothing was changed. Point `database` in the "
                    "configuration at the agendasync database");
  }
  if (version > sqlite::current_schema_version()) return sqlite::migrate(db);  // refuses
  return {};
}

}  // namespace

Result<std::unique_ptr<AgendaStore>> open_sqlite_agenda_store(const std::filesystem::path& path,
                                                              const SqliteOptions& options) {
  auto db = sqlite::Connection::open(path, options.create);
  if (!db) return std::unexpected(db.error());
  // Connection settings: none of these write to the file.
  if (auto set = db->exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count()) +
                          "; PRAGMA foreign_keys = ON; PRAGMA synchronous = " +
                          (options.fsync_every_commit ? "FULL" : "NORMAL"));
      !set) {
    return std::unexpected(set.error());
  }
  if (auto readable = check_readable(*db); !readable) return std::unexpected(readable.error());
  // WAL lets readers run while one writer commits. Setting it is a no-op when already set.
  if (auto wal = sqlite::enable_wal(*db, options.busy_timeout); !wal)
    return std::unexpected(wal.error());
  if (auto migrated = sqlite::migrate(*db); !migrated) return std::unexpected(migrated.error());
  return std::unique_ptr<AgendaStore>(std::make_unique<SqliteAgendaStore>(std::move(*db)));
}

std::string SqliteAgendaStore::describe() const { return "sqlite:" + db_.path().string(); }

Result<Revision> append_change(sqlite::Connection& db, ChangeEntity entity,
                               const std::string& entity_id, ChangeOp op, const UserSet& users) {
  // Inside BEGIN IMMEDIATE we hold the only write lock, so the counter increment and the
  // commit order agree: revision N is visible before N+1 can commit.
  auto revision = db.query_int(
      "UPDATE feed_counter SET last_revision = last_revision + 1 WHERE id = 1 "
      "RETURNING last_revision");
  if (!revision) return std::unexpected(revision.error());
  if (!*revision)
    return fail(ErrorKind::kPermanent,
                "database " + db.path().string() + ": the change feed counter is missing");
  if (auto inserted = db.run("INSERT INTO changes (revision, entity, entity_id, op, at_utc) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
                             {**revision, std::string(to_string(entity)), entity_id,
                              std::string(to_string(op)), now_utc()});
      !inserted) {
    return std::unexpected(inserted.error());
  }
  for (const auto& user : users) {
    if (auto added = db.run("INSERT INTO change_users (revision, user_name) VALUES (?1, ?2)",
                            {**revision, user});
        !added) {
      return std::unexpected(added.error());
    }
  }
  return **revision;
}

Result<Revision> SqliteAgendaStore::record_change(ChangeEntity entity, const std::string& entity_id,
                                                  ChangeOp op, const UserSet& users) {
  return append_change(db_, entity, entity_id, op, users);
}

Result<void> SqliteAgendaStore::check_references(const Appointment& item) {
  // Broken bytes would fail the document's JSON and every reader after it (issue 13).
  if (auto text = check_text_utf8(item); !text) {
    return fail(ErrorKind::kInvalidData, "appointment: " + text.error().message);
  }
  if (item.owner.empty()) {
    return fail(ErrorKind::kInvalidData, "appointment \"" + item.subject +
                                             "\" has no owner: every host appointment "
                                             "belongs to a user (--owner USER)");
  }
  for (const auto& name : audience(item)) {
    auto known = load_user(name);
    if (!known) return std::unexpected(known.error());
    if (!*known) {
      return fail(ErrorKind::kInvalidData,
                  "appointment \"" + item.subject + "\": user " + name +
                      " is not known; add the user first with `agendasync users add " + name + "`");
    }
  }
  if (!item.activity_type.empty()) {
    auto known =
        db_.query_int("SELECT count(*) FROM activity_types WHERE name = ?1", {item.activity_type});
    if (!known) return std::unexpected(known.error());
    if (known->value_or(0) == 0) {
      return fail(ErrorKind::kInvalidData,
                  "appointment \"" + item.subject + "\": activity type \"" + item.activity_type +
                      "\" is not known; list the types with `agendasync activity-types list`");
    }
  }
  if (item.end < item.start) {
    return fail(ErrorKind::kInvalidData,
                "appointment \"" + item.subject + "\" ends before it starts");
  }
  return {};
}

Result<void> SqliteAgendaStore::write_appointment_row(AppointmentId id, Revision revision,
                                                      const Appointment& item) {
  auto until = series_until(item);
  if (auto updated = db_.run(
          "UPDATE appointments SET revision = ?2, owner = ?3, activity_type = ?4, "
          "project_task = ?5, subject = ?6, all_day = ?7, start_utc = ?8, end_utc = ?9, "
          "recurring = ?10, series_until_utc = ?11, document = ?12 WHERE id = ?1",
          {id, revision, item.owner, optional_text(item.activity_type),
           std::int64_t{item.project_task}, item.subject, std::int64_t{item.all_day},
           seconds(item.start), seconds(item.end), std::int64_t{item.recurrence.has_value()},
           until ? Value{*until} : Value{}, to_document(item)});
      !updated) {
    return std::unexpected(updated.error());
  }
  if (auto cleared =
          db_.run("DELETE FROM appointment_participants WHERE appointment_id = ?1", {id});
      !cleared) {
    return std::unexpected(cleared.error());
  }
  for (const auto& name : item.participants) {
    if (NoCaseLess{}(name, item.owner) || NoCaseLess{}(item.owner, name)) {
      if (auto added =
              db_.run("INSERT OR IGNORE INTO appointment_participants (appointment_id, user_name) "
                      "VALUES (?1, ?2)",
                      {id, name});
          !added) {
        return std::unexpected(added.error());
      }
    }
  }
  return {};
}

Result<void> SqliteAgendaStore::retype_appointments(const std::string& from,
                                                    const std::string& to) {
  auto rows =
      db_.prepare("SELECT id FROM appointments WHERE activity_type = ?1 ORDER BY id", {from});
  if (!rows) return std::unexpected(rows.error());
  std::vector<AppointmentId> ids;
  for (;;) {
    auto row = rows->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    ids.push_back(rows->int_at(0));
  }
  for (AppointmentId id : ids) {
    auto stored = load_appointment(id);
    if (!stored) return std::unexpected(stored.error());
    if (!*stored) continue;
    Appointment item = (*stored)->item;
    item.activity_type = to;
    // A real change of the host item: the sync reads it again and its link's base follows.
    auto revision = record_change(ChangeEntity::kAppointment, std::to_string(id), ChangeOp::kUpsert,
                                  audience(item));
    if (!revision) return std::unexpected(revision.error());
    if (auto written = write_appointment_row(id, *revision, item); !written) return written;
  }
  return {};
}

Result<std::optional<StoredAppointment>> SqliteAgendaStore::load_appointment(AppointmentId id) {
  auto row = db_.prepare(
      "SELECT revision, idempotency_key, document FROM appointments WHERE id = ?1", {id});
  if (!row) return std::unexpected(row.error());
  auto found = row->step();
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::optional<StoredAppointment>{};
  auto item = from_document(row->text_at(2));
  if (!item) {
    return fail(ErrorKind::kInvalidData, "database " + db_.path().string() + ": appointment " +
                                             std::to_string(id) + ": " + item.error().message);
  }
  StoredAppointment stored{id, row->int_at(0), std::nullopt, std::move(*item)};
  if (!row->is_null(1)) stored.idempotency_key = IdempotencyKey(row->text_at(1));
  return std::optional<StoredAppointment>{std::move(stored)};
}

Result<StoredAppointment> SqliteAgendaStore::create_appointment(const Appointment& item,
                                                                std::optional<IdempotencyKey> key) {
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<StoredAppointment> {
    if (key) {
      // A retried create (crash recovery, R28) finds its first attempt instead of duplicating.
      auto existing =
          db_.query_int("SELECT id FROM appointments WHERE idempotency_key = ?1", {key->str()});
      if (!existing) return std::unexpected(existing.error());
      if (*existing) {
        auto stored = load_appointment(**existing);
        if (!stored) return std::unexpected(stored.error());
        return std::move(**stored);
      }
    }
    if (auto checked = check_references(item); !checked) return std::unexpected(checked.error());
    // The row first (for its id), then the revision, then the full row contents.
    if (auto inserted = db_.run(
            "INSERT INTO appointments (revision, idempotency_key, owner, subject, all_day, "
            "start_utc, end_utc, recurring, document) VALUES (0, ?1, ?2, '', 0, 0, 0, 0, '{}')",
            {key ? Value{key->str()} : Value{}, item.owner});
        !inserted) {
      return std::unexpected(inserted.error());
    }
    AppointmentId id = db_.last_insert_rowid();
    auto revision = record_change(ChangeEntity::kAppointment, std::to_string(id), ChangeOp::kUpsert,
                                  audience(item));
    if (!revision) return std::unexpected(revision.error());
    if (auto written = write_appointment_row(id, *revision, item); !written) {
      return std::unexpected(written.error());
    }
    return StoredAppointment{id, *revision, key, item};
  });
}

Result<StoredAppointment> SqliteAgendaStore::update_appointment(AppointmentId id,
                                                                const Appointment& item,
                                                                std::optional<Revision> expected) {
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<StoredAppointment> {
    auto current = load_appointment(id);
    if (!current) return std::unexpected(current.error());
    if (!*current) {
      return fail(ErrorKind::kNotFound,
                  "appointment " + std::to_string(id) + " does not exist (or was deleted)");
    }
    if (expected && *expected != (*current)->revision) {
      return fail(ErrorKind::kConflict,
                  "appointment " + std::to_string(id) + " changed since it was read (revision " +
                      std::to_string(*expected) + ", now " + std::to_string((*current)->revision) +
                      "); read it again and retry");
    }
    if (auto checked = check_references(item); !checked) return std::unexpected(checked.error());
    UserSet users = audience((*current)->item);
    users.merge(audience(item));
    auto revision =
        record_change(ChangeEntity::kAppointment, std::to_string(id), ChangeOp::kUpsert, users);
    if (!revision) return std::unexpected(revision.error());
    if (auto written = write_appointment_row(id, *revision, item); !written) {
      return std::unexpected(written.error());
    }
    return StoredAppointment{id, *revision, (*current)->idempotency_key, item};
  });
}

Result<Revision> SqliteAgendaStore::delete_appointment(AppointmentId id,
                                                       std::optional<Revision> expected) {
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<Revision> {
    auto current = load_appointment(id);
    if (!current) return std::unexpected(current.error());
    if (!*current) {
      return fail(ErrorKind::kNotFound,
                  "appointment " + std::to_string(id) + " does not exist (or was deleted)");
    }
    const auto& stored = **current;
    if (expected && *expected != stored.revision) {
      return fail(ErrorKind::kConflict,
                  "appointment " + std::to_string(id) + " changed since it was read (revision " +
                      std::to_string(*expected) + ", now " + std::to_string(stored.revision) +
                      "); read it again and retry");
    }
    auto revision = record_change(ChangeEntity::kAppointment, std::to_string(id), ChangeOp::kDelete,
                                  audience(stored.item));
    if (!revision) return std::unexpected(revision.error());
    if (auto buried = db_.run(
            "INSERT OR REPLACE INTO tombstones (appointment_id, revision, idempotency_key, owner, "
            "participants, deleted_at_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            {id, *revision, stored.idempotency_key ? Value{stored.idempotency_key->str()} : Value{},
             stored.item.owner, nlohmann::json(stored.item.participants).dump(), now_utc()});
        !buried) {
      return std::unexpected(buried.error());
    }
    if (auto removed = db_.run("DELETE FROM appointments WHERE id = ?1", {id}); !removed) {
      return std::unexpected(removed.error());
    }
    return *revision;
  });
}

Result<std::optional<StoredAppointment>> SqliteAgendaStore::appointment(AppointmentId id) {
  std::lock_guard lock(mutex_);
  return load_appointment(id);
}

Result<std::optional<StoredAppointment>> SqliteAgendaStore::appointment_by_key(
    const IdempotencyKey& key) {
  std::lock_guard lock(mutex_);
  return sqlite::read_transaction(db_, [&]() -> Result<std::optional<StoredAppointment>> {
    auto id = db_.query_int("SELECT id FROM appointments WHERE idempotency_key = ?1", {key.str()});
    if (!id) return std::unexpected(id.error());
    if (!*id) return std::optional<StoredAppointment>{};
    return load_appointment(**id);
  });
}

Result<std::vector<StoredAppointment>> SqliteAgendaStore::appointments(
    const AppointmentQuery& query) {
  std::lock_guard lock(mutex_);
  const bool paged = query.after_id || query.limit;
  auto rows = db_.prepare(
      std::string("SELECT a.id, a.revision, a.idempotency_key, a.document FROM appointments a ") +
          "WHERE (?1 IS NULL OR a.owner = ?1 OR EXISTS (SELECT 1 FROM appointment_participants p "
          "       WHERE p.appointment_id = a.id AND p.user_name = ?1)) "
          "  AND (?2 IS NULL OR CASE WHEN a.recurring "
          "       THEN a.series_until_utc IS NULL OR a.series_until_utc > ?2 "
          "       ELSE a.end_utc > ?2 OR (a.end_utc = a.start_utc AND a.start_utc >= ?2) END) "
          "  AND (?3 IS NULL OR a.start_utc < ?3) "
          "  AND (?4 IS NULL OR a.id > ?4) " +
          std::string(paged ? "ORDER BY a.id LIMIT ?5" : "ORDER BY a.start_utc, a.id LIMIT ?5"),
      {query.user ? Value{*query.user} : Value{},
       query.from ? Value{seconds(*query.from)} : Value{},
       query.to ? Value{seconds(*query.to)} : Value{},
       query.after_id ? Value{*query.after_id} : Value{},
       query.limit ? Value{static_cast<std::int64_t>(*query.limit)} : Value{std::int64_t{-1}}});
  if (!rows) return std::unexpected(rows.error());
  std::vector<StoredAppointment> result;
  for (;;) {
    auto row = rows->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    auto item = from_document(rows->text_at(3));
    if (!item) {
      return fail(ErrorKind::kInvalidData, "database " + db_.path().string() + ": appointment " +
                                               std::to_string(rows->int_at(0)) + ": " +
                                               item.error().message);
    }
    StoredAppointment stored{rows->int_at(0), rows->int_at(1), std::nullopt, std::move(*item)};
    if (!rows->is_null(2)) stored.idempotency_key = IdempotencyKey(rows->text_at(2));
    result.push_back(std::move(stored));
  }
  return result;
}

Result<std::optional<Tombstone>> SqliteAgendaStore::tombstone(AppointmentId id) {
  std::lock_guard lock(mutex_);
  auto row = db_.prepare(
      "SELECT revision, idempotency_key, owner, participants FROM tombstones "
      "WHERE appointment_id = ?1",
      {id});
  if (!row) return std::unexpected(row.error());
  auto found = row->step();
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::optional<Tombstone>{};
  Tombstone stone{id, row->int_at(0), std::nullopt, row->text_at(2), {}};
  if (!row->is_null(1)) stone.idempotency_key = IdempotencyKey(row->text_at(1));
  auto participants = nlohmann::json::parse(row->text_at(3), nullptr, false);
  if (participants.is_array()) {
    for (const auto& name : participants) {
      if (name.is_string()) stone.participants.push_back(name.get<std::string>());
    }
  }
  return std::optional<Tombstone>{std::move(stone)};
}

Result<std::vector<Change>> SqliteAgendaStore::changes_since(const ChangeQuery& query) {
  std::lock_guard lock(mutex_);
  auto rows = db_.prepare(
      "SELECT c.revision, c.entity, c.entity_id, c.op, "
      "       (SELECT group_concat(u.user_name, char(31)) FROM change_users u "
      "        WHERE u.revision = c.revision) "
      "FROM changes c WHERE c.revision > ?1 "
      "  AND (?2 IS NULL OR EXISTS (SELECT 1 FROM change_users u "
      "       WHERE u.revision = c.revision AND u.user_name = ?2)) "
      "ORDER BY c.revision LIMIT ?3",
      {query.after, query.user ? Value{*query.user} : Value{},
       static_cast<std::int64_t>(query.limit)});
  if (!rows) return std::unexpected(rows.error());
  std::vector<Change> result;
  for (;;) {
    auto row = rows->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    Change change;
    change.revision = rows->int_at(0);
    change.entity = rows->text_at(1) == "user" ? ChangeEntity::kUser : ChangeEntity::kAppointment;
    change.entity_id = rows->text_at(2);
    change.op = rows->text_at(3) == "delete" ? ChangeOp::kDelete : ChangeOp::kUpsert;
    std::string users = rows->text_at(4);
    for (std::size_t begin = 0; !users.empty() && begin <= users.size();) {
      auto end = users.find('\x1f', begin);
      if (end == std::string::npos) end = users.size();
      change.users.push_back(users.substr(begin, end - begin));
      begin = end + 1;
    }
    std::sort(change.users.begin(), change.users.end());
    result.push_back(std::move(change));
  }
  return result;
}

Result<Revision> SqliteAgendaStore::head_revision() {
  std::lock_guard lock(mutex_);
  auto head = db_.query_int("SELECT last_revision FROM feed_counter WHERE id = 1");
  if (!head) return std::unexpected(head.error());
  return head->value_or(0);
}

Result<std::int64_t> SqliteAgendaStore::directory_revision() {
  std::lock_guard lock(mutex_);
  auto revision = db_.query_int("SELECT revision FROM directory_revision WHERE id = 1");
  if (!revision) return std::unexpected(revision.error());
  return revision->value_or(0);
}

Result<std::optional<Instant>> SqliteAgendaStore::revision_time(Revision revision) {
  std::lock_guard lock(mutex_);
  auto at = db_.query_int("SELECT at_utc FROM changes WHERE revision = ?1", {revision});
  if (!at) return std::unexpected(at.error());
  if (!*at) return std::optional<Instant>{};
  return std::optional<Instant>{Instant(std::chrono::seconds(**at))};
}

}  // namespace agendasync::store
