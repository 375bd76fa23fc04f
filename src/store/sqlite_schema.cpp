#include "store/sqlite_schema.h"

#include <array>
#include <string>

#include "store/sqlite_utf8_repair.h"

namespace agendasync::store::sqlite {

namespace {

/// Migration N+1 is kMigrations[N]. Never edit a released migration: append a new one.
constexpr std::array<const char*, 5> kMigrations = {
    // 1: the host agenda.
    R"sql(
CREATE TABLE organisation_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
  user_name                 TEXT PRIMARY KEY COLLATE NOCASE,
  display_name              TEXT NOT NULL DEFAULT '',
  exchange_address          TEXT NOT NULL DEFAULT '',
  blocked                   INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
  sync_enabled              INTEGER NOT NULL DEFAULT 0 CHECK (sync_enabled IN (0, 1)),
  direction_override        TEXT,
  conflict_policy_override  TEXT
);

CREATE TABLE activity_types (
  name         TEXT PRIMARY KEY COLLATE NOCASE,
  synced       INTEGER NOT NULL DEFAULT 1 CHECK (synced IN (0, 1)),
  is_default   INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  is_personal  INTEGER NOT NULL DEFAULT 0 CHECK (is_personal IN (0, 1))
);
CREATE UNIQUE INDEX activity_types_one_default ON activity_types (is_default) WHERE is_default;
CREATE UNIQUE INDEX activity_types_one_personal ON activity_types (is_personal) WHERE is_personal;

-- The change feed. Revisions are assigned inside the writing transaction (BEGIN IMMEDIATE),
-- so they are gap-free and commit in order.
CREATE TABLE feed_counter (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  last_revision  INTEGER NOT NULL
);
INSERT INTO feed_counter (id, last_revision) VALUES (1, 0);

CREATE TABLE changes (
  revision   INTEGER PRIMARY KEY,
  entity     TEXT NOT NULL CHECK (entity IN ('appointment', 'user')),
  entity_id  TEXT NOT NULL,
  op         TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  at_utc     INTEGER NOT NULL
);
CREATE TABLE change_users (
  revision   INTEGER NOT NULL REFERENCES changes (revision),
  user_name  TEXT NOT NULL COLLATE NOCASE,
  PRIMARY KEY (user_name, revision)
) WITHOUT ROWID;

-- Appointments: the full item as a JSON document (lossless), plus the columns queries need.
CREATE TABLE appointments (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  revision         INTEGER NOT NULL,
  idempotency_key  TEXT UNIQUE,
  owner            TEXT NOT NULL COLLATE NOCASE REFERENCES users (user_name),
  activity_type    TEXT COLLATE NOCASE REFERENCES activity_types (name),
  project_task     INTEGER NOT NULL DEFAULT 0 CHECK (project_task IN (0, 1)),
  subject          TEXT NOT NULL,
  all_day          INTEGER NOT NULL CHECK (all_day IN (0, 1)),
  start_utc        INTEGER NOT NULL,
  end_utc          INTEGER NOT NULL,
  recurring        INTEGER NOT NULL CHECK (recurring IN (0, 1)),
  -- For series: no occurrence starts after this (UNTIL); NULL = open-ended or counted.
  series_until_utc INTEGER,
  document         TEXT NOT NULL
);
CREATE INDEX appointments_by_start ON appointments (start_utc);
CREATE INDEX appointments_by_owner ON appointments (owner);

CREATE TABLE appointment_participants (
  appointment_id  INTEGER NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
  user_name       TEXT NOT NULL COLLATE NOCASE REFERENCES users (user_name),
  PRIMARY KEY (appointment_id, user_name)
) WITHOUT ROWID;
CREATE INDEX appointment_participants_by_user ON appointment_participants (user_name);

CREATE TABLE tombstones (
  appointment_id   INTEGER PRIMARY KEY,
  revision         INTEGER NOT NULL,
  idempotency_key  TEXT,
  owner            TEXT NOT NULL,
  participants     TEXT NOT NULL,  -- JSON array of user names
  deleted_at_utc   INTEGER NOT NULL
);
)sql",
    // 2: the feed's user lists are read by revision (without it, reading the feed is
    // quadratic in its length).
    R"sql(
CREATE INDEX change_users_by_revision ON change_users (revision, user_name);
)sql",
    // 3: text stored before the UTF-8 check is repaired (data only: run_code_step below).
    "",
    // 4: R41, hybrid organisations: which connection serves each user's mailbox. Every
    // existing user is 'auto', which outside a hybrid organisation means the connection's.
    R"sql(
ALTER TABLE users ADD COLUMN backend TEXT NOT NULL DEFAULT 'auto'
  CHECK (backend IN ('auto', 'ews', 'graph'));
)sql",
    // 5: the directory's revision (issue 14 §4): every write of users, organisation settings
    // or activity types raises it, whoever makes it, so the daemon keeps them across runs
    // and reads one number per run to know they are still current (AgendaStore::
    // directory_revision).
    R"sql(
CREATE TABLE directory_revision (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  revision  INTEGER NOT NULL
);
INSERT INTO directory_revision (id, revision) VALUES (1, 0);
CREATE TRIGGER directory_users_insert AFTER INSERT ON users BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER directory_users_update AFTER UPDATE ON users BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER directory_users_delete AFTER DELETE ON users BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER directory_organisation_settings_insert AFTER INSERT ON organisation_settings BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER directory_organisation_settings_update AFTER UPDATE ON organisation_settings BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER directory_organisation_settings_delete AFTER DELETE ON organisation_settings BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER directory_activity_types_insert AFTER INSERT ON activity_types BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER directory_activity_types_update AFTER UPDATE ON activity_types BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER directory_activity_types_delete AFTER DELETE ON activity_types BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
END;
)sql",
};

/// The part of a migration that SQL cannot express, run right after its SQL.
Result<void> run_code_step(Connection& db, int version) {
  if (version == 3) return repair_invalid_utf8(db);
  return {};
}

}  // namespace

int current_schema_version() { return static_cast<int>(kMigrations.size()); }

namespace {

Result<int> schema_version(Connection& db) {
  auto version = db.query_int("PRAGMA user_version");
  if (!version) return std::unexpected(version.error());
  return static_cast<int>(version->value_or(0));
}

Result<void> refuse_newer(const Connection& db, int found) {
  return fail(ErrorKind::kUnsupported,
              "database " + db.path().string() + " has schema version " + std::to_string(found) +
                  ", newer than this agendasync understands (" +
                  std::to_string(current_schema_version()) +
                  "); nothing was changed. Upgrade agendasync, or restore a backup made "
                  "before the upgrade");
}

}  // namespace

Result<void> migrate(Connection& db) {
  // A read first: a newer or already current database is left untouched.
  auto found = schema_version(db);
  if (!found) return std::unexpected(found.error());
  if (*found > current_schema_version()) return refuse_newer(db, *found);
  if (*found == current_schema_version()) return {};

  return write_transaction(db, [&]() -> Result<void> {
    // Another process may have migrated between the read above and our write lock.
    auto locked = schema_version(db);
    if (!locked) return std::unexpected(locked.error());
    if (*locked > current_schema_version()) return refuse_newer(db, *locked);
    for (int version = *locked; version < current_schema_version(); ++version) {
      if (auto applied = db.exec(kMigrations[static_cast<std::size_t>(version)]); !applied) {
        return std::unexpected(applied.error());
      }
      if (auto step = run_code_step(db, version + 1); !step) return step;
      // user_version lives in the database header and is part of this transaction.
      if (auto bumped = db.exec("PRAGMA user_version = " + std::to_string(version + 1)); !bumped) {
        return std::unexpected(bumped.error());
      }
    }
    return {};
  });
}

}  // namespace agendasync::store::sqlite
