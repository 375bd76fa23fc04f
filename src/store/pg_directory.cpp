// Users, activity types and organisation settings of the PostgreSQL store. Names compare
// as SQLite's NOCASE: lower() of a COLLATE "C" column folds ASCII letters only.
#include "core/settings.h"
#include "store/pg_agenda_store_impl.h"
#include "store/settings_names.h"

namespace agendasync::store {

using pg::Value;

namespace {

constexpr const char* kUserColumns =
    "user_name, display_name, exchange_address, blocked, sync_enabled, direction_override, "
    "conflict_policy_override, backend";

Value optional_name(const char* name, bool present) {
  return present ? Value{std::string(name)} : Value{};
}

std::vector<Value> user_values(const User& user) {
  return {user.user_name,
          user.display_name,
          user.exchange_address,
          std::int64_t{user.blocked},
          std::int64_t{user.sync_enabled},
          optional_name(user.overrides.direction ? to_string(*user.overrides.direction) : "",
                        user.overrides.direction.has_value()),
          optional_name(
              user.overrides.conflict_policy ? to_string(*user.overrides.conflict_policy) : "",
              user.overrides.conflict_policy.has_value()),
          std::string(to_string(user.backend))};
}

Result<User> user_from(const pg::Rows& rows, int row) {
  User user;
  user.user_name = rows.text_at(row, 0);
  user.display_name = rows.text_at(row, 1);
  user.exchange_address = rows.text_at(row, 2);
  user.blocked = rows.bool_at(row, 3);
  user.sync_enabled = rows.bool_at(row, 4);
  if (!rows.is_null(row, 5)) {
    auto direction = parse_sync_direction(rows.text_at(row, 5));
    if (!direction) return std::unexpected(direction.error());
    user.overrides.direction = *direction;
  }
  if (!rows.is_null(row, 6)) {
    auto policy = parse_conflict_policy(rows.text_at(row, 6));
    if (!policy) return std::unexpected(policy.error());
    user.overrides.conflict_policy = *policy;
  }
  auto backend = parse_mailbox_backend(rows.text_at(row, 7));
  if (!backend) return std::unexpected(backend.error());
  user.backend = *backend;
  return user;
}

ActivityType type_from(const pg::Rows& rows, int row) {
  return ActivityType{rows.text_at(row, 0), rows.bool_at(row, 1), rows.bool_at(row, 2),
                      rows.bool_at(row, 3)};
}

/// At most one default and one "Personal" type (R16): `type` takes the roles it claims.
Result<void> take_roles(pg::Connection& db, const ActivityType& type) {
  const std::pair<bool, const char*> roles[] = {
      {type.is_default,
       "UPDATE activity_types SET is_default = false WHERE lower(name) <> lower($1::text)"},
      {type.is_personal,
       "UPDATE activity_types SET is_personal = false WHERE lower(name) <> lower($1::text)"}};
  for (const auto& [claims, sql] : roles) {
    if (!claims) continue;
    if (auto cleared = db.run(sql, {type.name}); !cleared) return std::unexpected(cleared.error());
  }
  return {};
}

std::string in_quotes(std::string_view name) { return "\"" + std::string(name) + "\""; }

}  // namespace

Result<std::optional<User>> PgAgendaStore::load_user(pg::Connection& db,
                                                     std::string_view user_name) {
  auto rows = db.query(std::string("SELECT ") + kUserColumns +
                           " FROM users WHERE lower(user_name) = lower($1::text)",
                       {std::string(user_name)});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<User>{};
  auto user = user_from(*rows, 0);
  if (!user) return std::unexpected(user.error());
  return std::optional<User>{std::move(*user)};
}

Result<void> PgAgendaStore::add_user(const User& user) {
  if (auto valid = validate_user(user); !valid) return valid;
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<void> {
    auto existing = load_user(conn, user.user_name);
    if (!existing) return std::unexpected(existing.error());
    if (*existing) {
      return fail(ErrorKind::kConflict, "user " + (*existing)->user_name +
                                            " already exists; change it with `agendasync users "
                                            "set " +
                                            (*existing)->user_name + " ...`");
    }
    if (auto inserted = conn.run(std::string("INSERT INTO users (") + kUserColumns +
                                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                                 user_values(user));
        !inserted) {
      return std::unexpected(inserted.error());
    }
    auto revision = record_change(conn, ChangeEntity::kUser, user.user_name, ChangeOp::kUpsert,
                                  {user.user_name});
    if (!revision) return std::unexpected(revision.error());
    return {};
  });
}

Result<void> PgAgendaStore::update_user(const User& user) {
  if (auto valid = validate_user(user); !valid) return valid;
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<void> {
    auto existing = load_user(conn, user.user_name);
    if (!existing) return std::unexpected(existing.error());
    if (!*existing) {
      return fail(ErrorKind::kNotFound, "user " + user.user_name +
                                            " does not exist; add it with `agendasync users add " +
                                            user.user_name + "`");
    }
    auto values = user_values(user);
    values[0] = (*existing)->user_name;  // keep the stored spelling
    if (auto updated =
            conn.run("UPDATE users SET display_name = $2, exchange_address = $3, blocked = $4, "
                     "sync_enabled = $5, direction_override = $6, conflict_policy_override = $7, "
                     "backend = $8 WHERE user_name = $1",
                     values);
        !updated) {
      return std::unexpected(updated.error());
    }
    if (matters_to_sync(**existing, user)) {
      auto revision = record_change(conn, ChangeEntity::kUser, (*existing)->user_name,
                                    ChangeOp::kUpsert, {(*existing)->user_name});
      if (!revision) return std::unexpected(revision.error());
    }
    return {};
  });
}

Result<std::optional<User>> PgAgendaStore::user(std::string_view user_name) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  return load_user(**db, user_name);
}

Result<std::vector<User>> PgAgendaStore::users() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(std::string("SELECT ") + kUserColumns +
                           " FROM users ORDER BY lower(user_name), user_name");
  if (!rows) return std::unexpected(rows.error());
  std::vector<User> result;
  for (int row = 0; row < rows->size(); ++row) {
    auto user = user_from(*rows, row);
    if (!user) return std::unexpected(user.error());
    result.push_back(std::move(*user));
  }
  return result;
}

Result<void> PgAgendaStore::put_activity_type(const ActivityType& type) {
  if (auto name = check_type_name(type.name); !name) return name;
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<void> {
    if (auto roles = take_roles(conn, type); !roles) return roles;
    auto put = conn.run(
        "INSERT INTO activity_types (name, synced, is_default, is_personal) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT ((lower(name))) DO UPDATE SET "
        "synced = EXCLUDED.synced, is_default = EXCLUDED.is_default, "
        "is_personal = EXCLUDED.is_personal",
        {type.name, std::int64_t{type.synced}, std::int64_t{type.is_default},
         std::int64_t{type.is_personal}});
    if (!put) return std::unexpected(put.error());
    return {};
  });
}

Result<std::optional<ActivityType>> PgAgendaStore::load_activity_type(pg::Connection& db,
                                                                      std::string_view name) {
  auto rows = db.query(
      "SELECT name, synced, is_default, is_personal FROM activity_types "
      "WHERE lower(name) = lower($1::text)",
      {std::string(name)});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<ActivityType>{};
  return std::optional<ActivityType>{type_from(*rows, 0)};
}

Result<ActivityType> PgAgendaStore::update_activity_type(std::string_view current_name,
                                                         const ActivityType& updated) {
  if (auto name = check_type_name(updated.name); !name) return std::unexpected(name.error());
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<ActivityType> {
    auto current = load_activity_type(conn, current_name);
    if (!current) return std::unexpected(current.error());
    if (!*current) {
      return fail(ErrorKind::kNotFound, "activity type " + in_quotes(current_name) +
                                            " does not exist; list the types with `agendasync "
                                            "activity-types list`");
    }
    const std::string old_name = (*current)->name;
    if (updated.name != old_name) {
      // Names compare without case: "meeting" -> "Meeting" is a respelling of the same type,
      // anything else must be free.
      auto taken = load_activity_type(conn, updated.name);
      if (!taken) return std::unexpected(taken.error());
      if (*taken && (*taken)->name != old_name) {
        return fail(ErrorKind::kConflict,
                    "activity type " + in_quotes((*taken)->name) +
                        " already exists; nothing was changed. Pick another name, or move the "
                        "appointments of " +
                        in_quotes(old_name) + " to it and remove " + in_quotes(old_name));
      }
      if (auto renamed = conn.run("UPDATE activity_types SET name = $2 WHERE name = $1",
                                  {old_name, updated.name});
          !renamed) {
        return std::unexpected(renamed.error());
      }
      if (auto moved = retype_appointments(conn, old_name, updated.name); !moved) {
        return std::unexpected(moved.error());
      }
    }
    if (auto roles = take_roles(conn, updated); !roles) return std::unexpected(roles.error());
    if (auto flags =
            conn.run("UPDATE activity_types SET synced = $2, is_default = $3, is_personal = $4 "
                     "WHERE name = $1",
                     {updated.name, std::int64_t{updated.synced}, std::int64_t{updated.is_default},
                      std::int64_t{updated.is_personal}});
        !flags) {
      return std::unexpected(flags.error());
    }
    return updated;
  });
}

Result<void> PgAgendaStore::remove_activity_type(std::string_view name) {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<void> {
    auto current = load_activity_type(conn, name);
    if (!current) return std::unexpected(current.error());
    if (!*current) {
      return fail(ErrorKind::kNotFound, "activity type " + in_quotes(name) +
                                            " does not exist; list the types with `agendasync "
                                            "activity-types list`");
    }
    const std::string& stored = (*current)->name;
    // Refused while in use: moving the appointments to the default type could send
    // unsynced ones to Exchange or delete synced ones there (R16); the admin decides.
    auto in_use = conn.query_int(
        "SELECT count(*) FROM appointments WHERE lower(activity_type) = lower($1::text)", {stored});
    if (!in_use) return std::unexpected(in_use.error());
    if (in_use->value_or(0) > 0) {
      return fail(ErrorKind::kConflict,
                  "activity type " + in_quotes(stored) + " is used by " +
                      std::to_string(in_use->value_or(0)) +
                      " appointment(s); nothing was changed. Give them another type first "
                      "(`agendasync appointments set ID --activity-type OTHER`), or rename the "
                      "type instead (`agendasync activity-types rename`)");
    }
    auto removed = conn.run("DELETE FROM activity_types WHERE name = $1", {stored});
    if (!removed) return std::unexpected(removed.error());
    return {};
  });
}

Result<std::vector<ActivityType>> PgAgendaStore::activity_types() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query(
      "SELECT name, synced, is_default, is_personal FROM activity_types "
      "ORDER BY lower(name), name");
  if (!rows) return std::unexpected(rows.error());
  std::vector<ActivityType> result;
  for (int row = 0; row < rows->size(); ++row) result.push_back(type_from(*rows, row));
  return result;
}

Result<OrganisationSettings> PgAgendaStore::settings() {
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  auto rows = (*db)->query("SELECT key, value FROM organisation_settings");
  if (!rows) return std::unexpected(rows.error());
  OrganisationSettings settings;
  for (int row = 0; row < rows->size(); ++row) {
    const std::string key = rows->text_at(row, 0);
    const std::string value = rows->text_at(row, 1);
    if (key == "mail_domain") {
      settings.mail_domain = value;
      continue;
    }
    const auto sync_key = sync_key_of(key);
    if (!sync_key) continue;  // from a newer agendasync sharing the database: keep, ignore
    if (auto set = set_sync_setting(settings.sync, *sync_key, value); !set) {
      return fail(ErrorKind::kInvalidData, "PostgreSQL " + pool_->where() +
                                               ": organisation setting " + set.error().message +
                                               "; fix it with `agendasync settings set`");
    }
  }
  return settings;
}

Result<void> PgAgendaStore::set_settings(const OrganisationSettings& settings) {
  auto texts = checked_setting_texts(settings);
  if (!texts) return std::unexpected(texts.error());
  auto db = pool_->borrow();
  if (!db) return std::unexpected(db.error());
  pg::Connection& conn = **db;
  return pg_write_transaction(conn, [&]() -> Result<void> {
    if (auto put =
            conn.run("INSERT INTO organisation_settings (key, value) VALUES ('mail_domain', $1) "
                     "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                     {settings.mail_domain});
        !put) {
      return std::unexpected(put.error());
    }
    // Unset keys leave the agenda, so the configuration file's value applies again.
    for (const auto& key : sync_setting_keys()) {
      if (auto removed = conn.run("DELETE FROM organisation_settings WHERE key = $1",
                                  {stored_setting_key(key.name)});
          !removed) {
        return std::unexpected(removed.error());
      }
    }
    for (const auto& [key, text] : *texts) {
      if (auto put = conn.run("INSERT INTO organisation_settings (key, value) VALUES ($1, $2)",
                              {stored_setting_key(key), text});
          !put) {
        return std::unexpected(put.error());
      }
    }
    return {};
  });
}

}  // namespace agendasync::store
