#include "store/pg_agenda_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/appointment_text.h"
#include "store/appointment_document.h"
#include "store/pg_agenda_store_impl.h"
#include "store/pg_schema.h"

namespace agendasync::store {

using pg::Value;

namespace {

Value optional_text(const std::string& text) { return text.empty() ? Value{} : Value{text}; }
Value optional_key(const std::optional<IdempotencyKey>& key) {
  return key ? Value{key->str()} : Value{};
}

Result<StoredAppointment> stored_from(const pg::Rows& rows, int row, AppointmentId id) {
  auto item = from_document(rows.text_at(row, 3));
  if (!item) return std::unexpected(item.error());
  StoredAppointment stored{id, rows.int_at(row, 1), std::nullopt, std::move(*item)};
  if (!rows.is_null(row, 2)) stored.idempotency_key = IdempotencyKey(rows.text_at(row, 2));
  return stored;
}

Error stale(AppointmentId id, Revision expected, Revision now) {
  return Error::make(ErrorKind::kConflict, "appointment " + std::to_string(id) +
                                               " changed since it was read (revision " +
                                               std::to_string(expected) + ", now " +
                                               std::to_string(now) + "); read it again and retry");
}

Error missing(AppointmentId id) {
  return Error::make(ErrorKind::kNotFound,
                     "appointment " + std::to_string(id) + " does not exist (or was deleted)");
}

}  // namespace

Result<std::unique_ptr<AgendaStore>> open_pg_agenda_store(const pg::Target& target,
                                                          const PgStoreOptions& options) {
  pg::PoolOptions pool_options;
  pool_options.max_connections = options.max_connections;
  pool_options.fsync_every_commit = options.fsync_every_commit;
  auto pool = pg::Pool::open(target, pool_options);
  if (!pool) return std::unexpected(pool.error());
  {
    auto db = (*pool)->borrow();
    if (!db) return std::unexpected(db.error());
    auto found = pg::schema_version(**db);
    if (!found) return std::unexpected(found.error());
    if (options.create && found->version < pg::current_schema_version()) {
      if (auto migrated = pg::migrate(**db); !migrated) return std::unexpected(migrated.error());
    } else if (auto fits =
                   pg::check_compatible(*found, pg::current_schema_version(), (*db)->where());
               !fits) {
      return std::unexpected(fits.error());
    }
  }
  return std::unique_ptr<AgendaStore>(std::make_unique<PgAgendaStore>(std::move(*pool)));
}

std::string PgAgendaStore::describe() const { return pool_->where(); }

Error PgAgendaStore::damaged(AppointmentId id, const Error& error) const {
  return Error::make(ErrorKind::kInvalidData, "PostgreSQL " + pool_->where() + ": appointment " +
                                                  std::to_string(id) + ": " + error.message);
}

Result<Revision> PgAgendaStore::record_change(pg::Connection& db, ChangeEntity entity,
                                              const std::string& entity_id, ChangeOp op,
                                              const UserSet& users) {
  // The row is locked since the transaction began (pg_write_transaction), so the increment
  // and the commit order agree: revision N is visible before N+1 can be taken.
  auto revision = db.query_int(
      "UPDATE feed_counter SET last_revision = last_revision + 1 WHERE id = 1 "
      "RETURNING last_revision");
  if (!revision) return std::unexpected(revision.error());
  if (!*revision) {
    return fail(ErrorKind::kPermanent,
                "PostgreSQL " + db.where() + ": the change feed counter is missing");
  }
  if (auto inserted = db.run("INSERT INTO changes (revision, entity, entity_id, op, at_utc) "
                             "VALUES ($1, $2, $3, $4, $5)",
                             {**revision, std::string(to_string(entity)), entity_id,
                              std::string(to_string(op)), now_epoch_seconds()});
      !inserted) {
    return std::unexpected(inserted.error());
  }
  if (!users.empty()) {
    // One statement for the whole audience: a round trip per user would dominate a write.
    std::string sql = "INSERT INTO change_users (revision, user_name) VALUES ";
    std::vector<Value> params{**revision};
    for (const auto& user : users) {
      if (params.size() > 1) sql += ", ";
      params.emplace_back(user);
      sql += "($1, $" + std::to_string(params.size()) + ")";
    }
    if (auto added = db.run(sql, params); !added) return std::unexpected(added.error());
  }
  return **revision;
}

Result<void> PgAgendaStore::check_references(pg::Connection& db, const Appointment& item) {
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
    auto known = load_user(db, name);
    if (!known) return std::unexpected(known.error());
    if (!*known) {
      return fail(ErrorKind::kInvalidData,
                  "appointment \"" + item.subject + "\": user " + name +
                      " is not known; add the user first with `agendasync users add " + name + "`");
    }
  }
  if (!item.activity_type.empty()) {
    auto known =
        db.query_int("SELECT count(*) FROM activity_types WHERE lower(name) = lower($1::text)",
                     {item.activity_type});
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

Result<void> PgAgendaStore::write_appointment_row(pg::Connection& db, AppointmentId id,
                                                  Revision revision, const Appointment& item) {
  auto until = series_until(item);
  if (auto updated =
          db.run("UPDATE appointments SET revision = $2, owner = $3, activity_type = $4, "
                 "project_task = $5, subject = $6, all_day = $7, start_utc = $8, end_utc = $9, "
                 "recurring = $10, series_until_utc = $11, document = $12 WHERE id = $1",
                 {id, revision, item.owner, optional_text(item.activity_type),
                  std::int64_t{item.project_task}, item.subject, std::int64_t{item.all_day},
                  epoch_seconds(item.start), epoch_seconds(item.end),
                  std::int64_t{item.recurrence.has_value()}, until ? Value{*until} : Value{},
                  to_document(item)});
      !updated) {
    return std::unexpected(updated.error());
  }
  if (auto cleared = db.run("DELETE FROM appointment_participants WHERE appointment_id = $1", {id});
      !cleared) {
    return std::unexpected(cleared.error());
  }
  for (const auto& name : item.participants) {
    if (NoCaseLess{}(name, item.owner) || NoCaseLess{}(item.owner, name)) {
      if (auto added = db.run(
              "INSERT INTO appointment_participants (appointment_id, user_name) VALUES ($1, $2) "
              "ON CONFLICT DO NOTHING",
              {id, name});
          !added) {
        return std::unexpected(added.error());
      }
    }
  }
  return {};
}

Result<void> PgAgendaStore::retype_appointments(pg::Connection& db, const std::string& from,
                                                const std::string& to) {
  auto rows = db.query(
      "SELECT id FROM appointments WHERE lower(activity_type) = lower($1::text) ORDER BY id",
      {from});
  if (!rows) return std::unexpected(rows.error());
  for (int row = 0; row < rows->size(); ++row) {
    const AppointmentId id = rows->int_at(row, 0);
    auto stored = load_appointment(db, id);
    if (!stored) return std::unexpected(stored.error());
    if (!*stored) continue;
    Appointment item = (*stored)->item;
    item.activity_type = to;
    // A real change of the host item: the sync reads it again and its link's base follows.
    auto revision = record_change(db, ChangeEntity::kAppointment, std::to_string(id),
                                  ChangeOp::kUpsert, audience(item));
    if (!revision) return std::unexpected(revision.error());
    if (auto written = write_appointment_row(db, id, *revision, item); !written) return written;
  }
  return {};
}

Result<std::optional<StoredAppointment>> PgAgendaStore::load_appointment(pg::Connection& db,
                                                                         AppointmentId id) {
  auto rows = db.query(
      "SELECT id, revision, idempotency_key, document FROM appointments WHERE id = $1", {id});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<StoredAppointment>{};
  auto stored = stored_from(*rows, 0, id);
  if (!stored) return std::unexpected(damaged(id, stored.error()));
  return std::optional<StoredAppointment>{std::move(*stored)};
}

Result<StoredAppointment> PgAgendaStore::create_appointment(const Appointment& item,
                                                            std::optional<IdempotencyKey> key) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<StoredAppointment> {
    if (key) {
      // A retried create (crash recovery, R28) finds its first attempt instead of duplicating.
      auto existing =
          conn.query_int("SELECT id FROM appointments WHERE idempotency_key = $1", {key->str()});
      if (!existing) return std::unexpected(existing.error());
      if (*existing) {
        auto stored = load_appointment(conn, **existing);
        if (!stored) return std::unexpected(stored.error());
        return std::move(**stored);
      }
    }
    if (auto checked = check_references(conn, item); !checked) {
      return std::unexpected(checked.error());
    }
    // The row first (for its id), then the revision, then the full row contents.
    auto id = conn.query_int(
        "INSERT INTO appointments (revision, idempotency_key, owner, subject, all_day, "
        "start_utc, end_utc, recurring, document) "
        "VALUES (0, $1, $2, '', false, 0, 0, false, '{}') RETURNING id",
        {optional_key(key), item.owner});
    if (!id) return std::unexpected(id.error());
    auto revision = record_change(conn, ChangeEntity::kAppointment, std::to_string(**id),
                                  ChangeOp::kUpsert, audience(item));
    if (!revision) return std::unexpected(revision.error());
    if (auto written = write_appointment_row(conn, **id, *revision, item); !written) {
      return std::unexpected(written.error());
    }
    return StoredAppointment{**id, *revision, key, item};
  });
}

Result<StoredAppointment> PgAgendaStore::update_appointment(AppointmentId id,
                                                            const Appointment& item,
                                                            std::optional<Revision> expected) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<StoredAppointment> {
    auto current = load_appointment(conn, id);
    if (!current) return std::unexpected(current.error());
    if (!*current) return std::unexpected(missing(id));
    if (expected && *expected != (*current)->revision) {
      return std::unexpected(stale(id, *expected, (*current)->revision));
    }
    if (auto checked = check_references(conn, item); !checked) {
      return std::unexpected(checked.error());
    }
    UserSet users = audience((*current)->item);
    users.merge(audience(item));
    auto revision = record_change(conn, ChangeEntity::kAppointment, std::to_string(id),
                                  ChangeOp::kUpsert, users);
    if (!revision) return std::unexpected(revision.error());
    if (auto written = write_appointment_row(conn, id, *revision, item); !written) {
      return std::unexpected(written.error());
    }
    return StoredAppointment{id, *revision, (*current)->idempotency_key, item};
  });
}

Result<Revision> PgAgendaStore::delete_appointment(AppointmentId id,
                                                   std::optional<Revision> expected) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<Revision> {
    auto current = load_appointment(conn, id);
    if (!current) return std::unexpected(current.error());
    if (!*current) return std::unexpected(missing(id));
    const auto& stored = **current;
    if (expected && *expected != stored.revision) {
      return std::unexpected(stale(id, *expected, stored.revision));
    }
    auto revision = record_change(conn, ChangeEntity::kAppointment, std::to_string(id),
                                  ChangeOp::kDelete, audience(stored.item));
    if (!revision) return std::unexpected(revision.error());
    if (auto buried = conn.run(
            "INSERT INTO tombstones (appointment_id, revision, idempotency_key, owner, "
            "participants, deleted_at_utc) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (appointment_id) DO UPDATE SET revision = EXCLUDED.revision, "
            "idempotency_key = EXCLUDED.idempotency_key, owner = EXCLUDED.owner, "
            "participants = EXCLUDED.participants, deleted_at_utc = EXCLUDED.deleted_at_utc",
            {id, *revision, optional_key(stored.idempotency_key), stored.item.owner,
             nlohmann::json(stored.item.participants).dump(), now_epoch_seconds()});
        !buried) {
      return std::unexpected(buried.error());
    }
    if (auto removed = conn.run("DELETE FROM appointments WHERE id = $1", {id}); !removed) {
      return std::unexpected(removed.error());
    }
    return *revision;
  });
}

Result<std::optional<StoredAppointment>> PgAgendaStore::appointment(AppointmentId id) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  return load_appointment(**db, id);
}

Result<std::optional<StoredAppointment>> PgAgendaStore::appointment_by_key(
    const IdempotencyKey& key) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(
      "SELECT id, revision, idempotency_key, document FROM appointments "
      "WHERE idempotency_key = $1",
      {key.str()});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<StoredAppointment>{};
  auto stored = stored_from(*rows, 0, rows->int_at(0, 0));
  if (!stored) return std::unexpected(damaged(rows->int_at(0, 0), stored.error()));
  return std::optional<StoredAppointment>{std::move(*stored)};
}

Result<std::vector<StoredAppointment>> PgAgendaStore::appointments(const AppointmentQuery& query) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  const bool paged = query.after_id || query.limit;
  auto rows = (*db)->query(
      std::string("SELECT a.id, a.revision, a.idempotency_key, a.document FROM appointments a ") +
          "WHERE ($1::text IS NULL OR lower(a.owner) = lower($1::text) OR EXISTS (SELECT 1 FROM "
          "       appointment_participants p WHERE p.appointment_id = a.id "
          "       AND lower(p.user_name) = lower($1::text))) "
          "  AND ($2::bigint IS NULL OR CASE WHEN a.recurring "
          "       THEN a.series_until_utc IS NULL OR a.series_until_utc > $2::bigint "
          "       ELSE a.end_utc > $2::bigint "
          "         OR (a.end_utc = a.start_utc AND a.start_utc >= $2::bigint) END) "
          "  AND ($3::bigint IS NULL OR a.start_utc < $3::bigint) "
          "  AND ($4::bigint IS NULL OR a.id > $4::bigint) " +
          std::string(paged ? "ORDER BY a.id LIMIT $5::bigint"
                            : "ORDER BY a.start_utc, a.id LIMIT $5::bigint"),
      {query.user ? Value{*query.user} : Value{},
       query.from ? Value{epoch_seconds(*query.from)} : Value{},
       query.to ? Value{epoch_seconds(*query.to)} : Value{},
       query.after_id ? Value{*query.after_id} : Value{},
       query.limit ? Value{static_cast<std::int64_t>(*query.limit)} : Value{}});
  if (!rows) return std::unexpected(rows.error());
  std::vector<StoredAppointment> result;
  result.reserve(static_cast<std::size_t>(rows->size()));
  for (int row = 0; row < rows->size(); ++row) {
    auto stored = stored_from(*rows, row, rows->int_at(row, 0));
    if (!stored) return std::unexpected(damaged(rows->int_at(row, 0), stored.error()));
    result.push_back(std::move(*stored));
  }
  return result;
}

Result<std::optional<Tombstone>> PgAgendaStore::tombstone(AppointmentId id) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(
      "SELECT revision, idempotency_key, owner, participants FROM tombstones "
      "WHERE appointment_id = $1",
      {id});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Tombstone>{};
  Tombstone stone{id, rows->int_at(0, 0), std::nullopt, rows->text_at(0, 2), {}};
  if (!rows->is_null(0, 1)) stone.idempotency_key = IdempotencyKey(rows->text_at(0, 1));
  auto participants = nlohmann::json::parse(rows->text_at(0, 3), nullptr, false);
  if (participants.is_array()) {
    for (const auto& name : participants) {
      if (name.is_string()) stone.participants.push_back(name.get<std::string>());
    }
  }
  return std::optional<Tombstone>{std::move(stone)};
}

Result<std::vector<Change>> PgAgendaStore::changes_since(const ChangeQuery& query) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  // One statement, one snapshot: a revision is in it only if every lower one is (writers
  // commit in revision order, pg_write_transaction).
  auto rows = (*db)->query(
      "SELECT c.revision, c.entity, c.entity_id, c.op, "
      "       (SELECT string_agg(u.user_name, chr(31)) FROM change_users u "
      "        WHERE u.revision = c.revision) "
      "FROM changes c WHERE c.revision > $1::bigint "
      "  AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM change_users u "
      "       WHERE u.revision = c.revision AND lower(u.user_name) = lower($2::text))) "
      "ORDER BY c.revision LIMIT $3::bigint",
      {query.after, query.user ? Value{*query.user} : Value{},
       static_cast<std::int64_t>(query.limit)});
  if (!rows) return std::unexpected(rows.error());
  std::vector<Change> result;
  for (int row = 0; row < rows->size(); ++row) {
    Change change;
    change.revision = rows->int_at(row, 0);
    change.entity =
        rows->text_at(row, 1) == "user" ? ChangeEntity::kUser : ChangeEntity::kAppointment;
    change.entity_id = rows->text_at(row, 2);
    change.op = rows->text_at(row, 3) == "delete" ? ChangeOp::kDelete : ChangeOp::kUpsert;
    const std::string users = rows->is_null(row, 4) ? std::string() : rows->text_at(row, 4);
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

Result<Revision> PgAgendaStore::head_revision() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto head = (*db)->query_int("SELECT last_revision FROM feed_counter WHERE id = 1");
  if (!head) return std::unexpected(head.error());
  return head->value_or(0);
}

Result<std::int64_t> PgAgendaStore::directory_revision() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto revision = (*db)->query_int("SELECT revision FROM directory_revision WHERE id = 1");
  if (!revision) return std::unexpected(revision.error());
  return revision->value_or(0);
}

Result<std::optional<Instant>> PgAgendaStore::revision_time(Revision revision) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto at = (*db)->query_int("SELECT at_utc FROM changes WHERE revision = $1", {revision});
  if (!at) return std::unexpected(at.error());
  if (!*at) return std::optional<Instant>{};
  return std::optional<Instant>{Instant(std::chrono::seconds(**at))};
}

}  // namespace agendasync::store
