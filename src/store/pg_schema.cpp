#include "store/pg_schema.h"

#include <array>
#include <span>

namespace agendasync::store::pg {

namespace {

/// One migration: its SQL (run with search_path = the organisation's schema) and the oldest
/// build that still works on the schema it leaves (see SchemaVersion::compatible_from).
struct Migration {
  const char* sql;
  int compatible_from;
};

/// Migration N+1 is kMigrations[N]. Never edit a released migration: append one. An expanding
/// migration (new table, new nullable or defaulted column) keeps compatible_from, so nodes of
/// the previous release keep running on it during a rolling upgrade; only a contracting one
/// (dropping or renaming what an older build reads or writes) may raise it, one release after
/// the expansion it finishes.
///
/// Names compare like SQLite's NOCASE: columns are COLLATE "C" (byte order, as SQLite) and
/// lookups go through lower(), which under "C" folds ASCII letters only, exactly as NOCASE.
constexpr std::array<Migration, 4> kMigrations = {{
    // 1: the host agenda (as SQLite schema 4), the sync state and its listing stage.
    {R"sql(
CREATE TABLE organisation_settings (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE users (
  user_name                 TEXT COLLATE "C" NOT NULL,
  display_name              TEXT NOT NULL DEFAULT '',
  exchange_address          TEXT NOT NULL DEFAULT '',
  blocked                   BOOLEAN NOT NULL DEFAULT false,
  sync_enabled              BOOLEAN NOT NULL DEFAULT false,
  direction_override        TEXT,
  conflict_policy_override  TEXT,
  backend                   TEXT NOT NULL DEFAULT 'auto' CHECK (backend IN ('auto', 'ews', 'graph'))
);
CREATE UNIQUE INDEX users_by_name ON users (lower(user_name));

CREATE TABLE activity_types (
  name         TEXT COLLATE "C" NOT NULL,
  synced       BOOLEAN NOT NULL DEFAULT true,
  is_default   BOOLEAN NOT NULL DEFAULT false,
  is_personal  BOOLEAN NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX activity_types_by_name ON activity_types (lower(name));
CREATE UNIQUE INDEX activity_types_one_default ON activity_types (is_default) WHERE is_default;
CREATE UNIQUE INDEX activity_types_one_personal ON activity_types (is_personal) WHERE is_personal;

-- The change feed. Every write transaction first locks this row (FOR UPDATE) and takes the
-- next revision from it, so writers of one organisation commit one after another and the
-- feed is gap-free and in commit order (pg_agenda_store.cpp, docs/DECISIONS.md).
CREATE TABLE feed_counter (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  last_revision  BIGINT NOT NULL
);
INSERT INTO feed_counter (id, last_revision) VALUES (1, 0);

CREATE TABLE changes (
  revision   BIGINT PRIMARY KEY,
  entity     TEXT NOT NULL CHECK (entity IN ('appointment', 'user')),
  entity_id  TEXT NOT NULL,
  op         TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  at_utc     BIGINT NOT NULL
);
CREATE TABLE change_users (
  revision   BIGINT NOT NULL REFERENCES changes (revision),
  user_name  TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (revision, user_name)
);
CREATE INDEX change_users_by_user ON change_users (lower(user_name), revision);

CREATE TABLE appointments (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  revision         BIGINT NOT NULL,
  idempotency_key  TEXT COLLATE "C" UNIQUE,
  owner            TEXT COLLATE "C" NOT NULL,
  activity_type    TEXT COLLATE "C",
  project_task     BOOLEAN NOT NULL DEFAULT false,
  subject          TEXT NOT NULL,
  all_day          BOOLEAN NOT NULL,
  start_utc        BIGINT NOT NULL,
  end_utc          BIGINT NOT NULL,
  recurring        BOOLEAN NOT NULL,
  series_until_utc BIGINT,
  document         TEXT NOT NULL
);
CREATE INDEX appointments_by_start ON appointments (start_utc);
CREATE INDEX appointments_by_owner ON appointments (lower(owner));
CREATE INDEX appointments_by_type ON appointments (lower(activity_type));

CREATE TABLE appointment_participants (
  appointment_id  BIGINT NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
  user_name       TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX appointment_participants_key
  ON appointment_participants (appointment_id, lower(user_name));
CREATE INDEX appointment_participants_by_user ON appointment_participants (lower(user_name));

CREATE TABLE tombstones (
  appointment_id   BIGINT PRIMARY KEY,
  revision         BIGINT NOT NULL,
  idempotency_key  TEXT,
  owner            TEXT NOT NULL,
  participants     TEXT NOT NULL,
  deleted_at_utc   BIGINT NOT NULL
);

CREATE TABLE sync_link(
  pair TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL,
  host_ref TEXT COLLATE "C" NOT NULL, host_version TEXT NOT NULL, host_hash TEXT NOT NULL,
  remote_ref TEXT COLLATE "C" NOT NULL, remote_version TEXT NOT NULL, remote_hash TEXT NOT NULL,
  base TEXT NOT NULL, created_on INTEGER, host_held TEXT, remote_held TEXT,
  refind INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pair, key));
CREATE INDEX sync_link_host ON sync_link (pair, host_ref);
CREATE INDEX sync_link_remote ON sync_link (pair, remote_ref);
CREATE TABLE sync_cursor(
  pair TEXT COLLATE "C" NOT NULL, side INTEGER NOT NULL, cursor TEXT NOT NULL,
  PRIMARY KEY (pair, side));
CREATE TABLE sync_journal(
  pair TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, target INTEGER NOT NULL,
  op INTEGER NOT NULL, target_ref TEXT NOT NULL, pending TEXT NOT NULL, run_id TEXT NOT NULL,
  previous TEXT, PRIMARY KEY (pair, key, target));
CREATE TABLE sync_quarantine(
  pair TEXT COLLATE "C" PRIMARY KEY, reason TEXT NOT NULL, approved BOOLEAN NOT NULL);
CREATE TABLE sync_audit(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, pair TEXT NOT NULL, run_id TEXT NOT NULL,
  at BIGINT NOT NULL, side INTEGER NOT NULL, item TEXT NOT NULL, link TEXT COLLATE "C" NOT NULL,
  operation TEXT NOT NULL, rule TEXT NOT NULL, changes TEXT NOT NULL);
CREATE INDEX sync_audit_link ON sync_audit (link);
CREATE TABLE sync_backend(pair TEXT COLLATE "C" PRIMARY KEY, backend TEXT NOT NULL);
CREATE TABLE sync_run_status(
  pair TEXT COLLATE "C" PRIMARY KEY, at BIGINT NOT NULL, outcome TEXT NOT NULL,
  summary TEXT NOT NULL, last_error TEXT NOT NULL, last_success BIGINT NOT NULL);

-- A full listing's scratch (issue 14): UNLOGGED, so it costs no WAL and no fsync; it is
-- emptied when the server crashes, which a listing survives (it starts again). Rows carry
-- the pair, which one node at a time syncs.
CREATE UNLOGGED TABLE sync_stage(
  pair TEXT COLLATE "C" NOT NULL, side INTEGER NOT NULL, ref TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL, version TEXT NOT NULL, carried_key TEXT COLLATE "C",
  own_key TEXT COLLATE "C" NOT NULL, match_key TEXT COLLATE "C" NOT NULL,
  linked BOOLEAN NOT NULL, partner TEXT, done BOOLEAN NOT NULL, modified BIGINT,
  item TEXT NOT NULL, PRIMARY KEY (pair, side, ref));
CREATE INDEX sync_stage_seq ON sync_stage (pair, side, seq);
CREATE INDEX sync_stage_own ON sync_stage (pair, side, own_key, seq);
CREATE INDEX sync_stage_carried ON sync_stage (pair, side, carried_key, seq);
CREATE INDEX sync_stage_free ON sync_stage (pair, side, match_key, seq)
  WHERE NOT linked AND partner IS NULL AND NOT done;
)sql",
     1},
    // 2: leases with fencing (issue 17 §3). Expanding only: builds for schema 1 never read the
    // table and keep working on it.
    {R"sql(
CREATE TABLE sync_lease(
  pair        TEXT COLLATE "C" PRIMARY KEY,
  holder      TEXT NOT NULL,
  epoch       BIGINT NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL);
CREATE INDEX sync_lease_due ON sync_lease (expires_at);
)sql",
     1},
    // 3: the service's tables of the organisation (issue 17: `serve` on PostgreSQL), as the
    // SQLite file's service_* tables (service/service_db.cpp); the same statements run on
    // both (store/sql_database.h). User names compare like SQLite's NOCASE through a
    // case-insensitive collation, so upserts keyed by them (ON CONFLICT) read the same on
    // both engines; docs/DECISIONS.md "One SQL layer for the platform and service tables".
    // Expanding only.
    {R"sql(
CREATE COLLATION agendasync_nocase (provider = icu, locale = 'und-u-ks-level2',
                                    deterministic = false);
CREATE TABLE service_secret(
  name TEXT PRIMARY KEY, sealed TEXT NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE service_webhook(
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, url TEXT NOT NULL,
  secret_sealed TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE service_dead_letter(
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, webhook_id BIGINT NOT NULL,
  url TEXT NOT NULL, event_id TEXT NOT NULL, body TEXT NOT NULL, attempts BIGINT NOT NULL,
  last_error TEXT NOT NULL, failed_at BIGINT NOT NULL);
CREATE TABLE service_sync_status(
  user_name TEXT COLLATE agendasync_nocase PRIMARY KEY, runs BIGINT NOT NULL DEFAULT 0,
  failures BIGINT NOT NULL DEFAULT 0, last_started BIGINT, last_finished BIGINT,
  last_success BIGINT, last_outcome TEXT NOT NULL DEFAULT '', counts TEXT NOT NULL DEFAULT '{}',
  backend TEXT NOT NULL DEFAULT '');
CREATE TABLE service_sync_error(
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  user_name TEXT COLLATE agendasync_nocase NOT NULL, at BIGINT NOT NULL, message TEXT NOT NULL);
CREATE INDEX service_sync_error_user ON service_sync_error(user_name, id);
CREATE TABLE service_user_mode(
  user_name TEXT COLLATE agendasync_nocase PRIMARY KEY, admin_managed BIGINT NOT NULL);
CREATE TABLE service_graph_subscription(
  id TEXT PRIMARY KEY, user_name TEXT COLLATE agendasync_nocase NOT NULL,
  client_state_sealed TEXT NOT NULL, expires_at BIGINT NOT NULL);
CREATE TABLE service_state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
     1},
    // 4: the directory's revision (issue 14 §4, as SQLite schema 5): every statement writing
    // users, organisation settings or activity types raises it, from any node or build, so
    // the daemon keeps them across runs and reads one number per run to know they are still
    // current. The function runs with the schema it was made in (SET search_path FROM
    // CURRENT), whatever the writer's search_path. Expanding only.
    {R"sql(
CREATE TABLE directory_revision (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  revision  BIGINT NOT NULL
);
INSERT INTO directory_revision (id, revision) VALUES (1, 0);
CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE directory_revision SET revision = revision + 1 WHERE id = 1;
  RETURN NULL;
END
$$;
CREATE TRIGGER directory_users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER directory_organisation_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organisation_settings
  FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER directory_activity_types_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON activity_types
  FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
)sql",
     1},
}};

/// The platform schema's migrations (kPlatformSchema: organisations, their connections, API
/// tokens, console sessions and login links, shared by every node), under the same rules.
constexpr std::array<Migration, 1> kPlatformMigrations = {{
    {R"sql(
CREATE TABLE platform_organisation(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, created_at BIGINT NOT NULL,
  database TEXT NOT NULL);
CREATE TABLE platform_connection(
  org TEXT PRIMARY KEY, document TEXT NOT NULL, exchange_password TEXT,
  graph_client_secret TEXT, graph_private_key TEXT, updated_at BIGINT NOT NULL);
CREATE TABLE service_token(
  id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, label TEXT NOT NULL,
  created_at BIGINT NOT NULL, org TEXT NOT NULL DEFAULT 'default');
CREATE INDEX service_token_org ON service_token(org);
-- Console sessions and login links (service/sessions.h): keyed by the SHA-256 of the id or
-- code, never the value, so a copy of the table opens no session.
CREATE TABLE service_session(
  id_hash TEXT PRIMARY KEY, role TEXT NOT NULL, org TEXT NOT NULL, token_id TEXT NOT NULL,
  token_hash TEXT NOT NULL, csrf TEXT NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX service_session_expiry ON service_session(expires_at);
CREATE TABLE service_login_link(
  code_hash TEXT PRIMARY KEY, org TEXT NOT NULL, user_name TEXT NOT NULL,
  expires_at BIGINT NOT NULL);
)sql",
     1},
}};

std::span<const Migration> migrations_of(SchemaKind kind) {
  if (kind == SchemaKind::kPlatform) return kPlatformMigrations;
  return kMigrations;
}

/// Keys of the advisory lock: this constant and the schema's hash. Two schemas whose names
/// hash alike only queue their migrations behind each other, which is harmless.
constexpr std::int64_t kMigrationLockClass = 0x41475359;  // "AGSY"

}  // namespace

int current_schema_version(SchemaKind kind) { return static_cast<int>(migrations_of(kind).size()); }

Result<SchemaVersion> schema_version(Connection& db) {
  // to_regclass is NULL when the table (or the schema) is missing, without an error that
  // would abort the surrounding transaction.
  auto exists = db.query_int(
      "SELECT CASE WHEN to_regclass('agendasync_schema') IS NULL "
      "THEN 0 ELSE 1 END");
  if (!exists) return std::unexpected(exists.error());
  if (exists->value_or(0) == 0) return SchemaVersion{};
  auto rows = db.query("SELECT version, compatible_from FROM agendasync_schema WHERE id = 1");
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return SchemaVersion{};
  return SchemaVersion{static_cast<int>(rows->int_at(0, 0)), static_cast<int>(rows->int_at(0, 1))};
}

Result<void> check_compatible(const SchemaVersion& found, int mine, const std::string& where) {
  if (found.version == 0) {
    return fail(ErrorKind::kNotFound,
                "PostgreSQL " + where +
                    " has no agendasync tables; create them with `agendasync migrate` (once, "
                    "from one node)");
  }
  if (found.version < mine) {
    return fail(ErrorKind::kUnsupported,
                "PostgreSQL " + where + " has schema version " + std::to_string(found.version) +
                    ", older than this agendasync needs (" + std::to_string(mine) +
                    "); nothing was changed. Run `agendasync migrate` once, from one node: "
                    "nodes of the previous release keep working on the migrated schema");
  }
  if (found.compatible_from > mine) {
    return fail(ErrorKind::kUnsupported,
                "PostgreSQL " + where + " has schema version " + std::to_string(found.version) +
                    ", which works only with agendasync builds for schema " +
                    std::to_string(found.compatible_from) + " or newer; this build is for " +
                    std::to_string(mine) + ". Upgrade agendasync on this node");
  }
  return {};
}

Result<void> check_schema(Connection& db, SchemaKind kind) {
  auto found = schema_version(db);
  if (!found) return std::unexpected(found.error());
  return check_compatible(*found, current_schema_version(kind), db.where());
}

Result<MigrationOutcome> migrate(Connection& db, SchemaKind kind) {
  const auto steps = migrations_of(kind);
  const int current = current_schema_version(kind);
  const std::string schema = quote_identifier(db.schema());
  return transaction(db, [&]() -> Result<MigrationOutcome> {
    // Transaction-scoped: released by COMMIT or ROLLBACK, and by the server when this
    // process dies, so a killed migration never leaves the lock behind. Taken before
    // anything is read, so a second migrator sees the first one's result.
    if (auto locked = db.query("SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))",
                               {kMigrationLockClass, db.schema()});
        !locked) {
      return std::unexpected(locked.error());
    }
    if (auto created = db.exec("CREATE SCHEMA IF NOT EXISTS " + schema +
                               "; CREATE TABLE IF NOT EXISTS agendasync_schema ("
                               "id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, "
                               "compatible_from INTEGER NOT NULL)");
        !created) {
      return std::unexpected(created.error());
    }
    auto found = schema_version(db);
    if (!found) return std::unexpected(found.error());
    MigrationOutcome outcome{found->version, found->version};
    if (found->version >= current) {
      // Newer or current: nothing to do; a newer one must still admit this build.
      if (found->version > current) {
        if (auto fits = check_compatible(*found, current, db.where()); !fits) {
          return std::unexpected(fits.error());
        }
      }
      return outcome;
    }
    int compatible_from = found->compatible_from;
    for (int version = found->version; version < current; ++version) {
      const auto& step = steps[static_cast<std::size_t>(version)];
      if (auto applied = db.exec(step.sql); !applied) return std::unexpected(applied.error());
      compatible_from = step.compatible_from;
    }
    if (auto recorded = db.run(
            "INSERT INTO agendasync_schema (id, version, compatible_from) VALUES (1, $1, $2) "
            "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, "
            "compatible_from = EXCLUDED.compatible_from",
            {std::int64_t{current}, std::int64_t{compatible_from}});
        !recorded) {
      return std::unexpected(recorded.error());
    }
    outcome.to = current;
    return outcome;
  });
}

}  // namespace agendasync::store::pg
