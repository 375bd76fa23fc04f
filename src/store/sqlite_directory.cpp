// Users, activity types and organisation settings of the SQLite store.
#include <algorithm>
#include <cctype>

#include "core/appointment_text.h"
#include "core/utf8.h"
#include "store/settings_names.h"
#include "store/sqlite_agenda_store_impl.h"

namespace agendasync::store {

using sqlite::Value;

namespace {

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

}  // namespace

Result<std::optional<User>> SqliteAgendaStore::load_user(std::string_view user_name) {
  auto row = db_.prepare(
      "SELECT user_name, display_name, exchange_address, blocked, sync_enabled, "
      "direction_override, conflict_policy_override, backend FROM users WHERE user_name = ?1",
      {std::string(user_name)});
  if (!row) return std::unexpected(row.error());
  auto found = row->step();
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::optional<User>{};
  User user;
  user.user_name = row->text_at(0);
  user.display_name = row->text_at(1);
  user.exchange_address = row->text_at(2);
  user.blocked = row->int_at(3) != 0;
  user.sync_enabled = row->int_at(4) != 0;
  if (!row->is_null(5)) {
    auto direction = parse_sync_direction(row->text_at(5));
    if (!direction) return std::unexpected(direction.error());
    user.overrides.direction = *direction;
  }
  if (!row->is_null(6)) {
    auto policy = parse_conflict_policy(row->text_at(6));
    if (!policy) return std::unexpected(policy.error());
    user.overrides.conflict_policy = *policy;
  }
  auto backend = parse_mailbox_backend(row->text_at(7));
  if (!backend) return std::unexpected(backend.error());
  user.backend = *backend;
  return std::optional<User>{std::move(user)};
}

Result<void> SqliteAgendaStore::add_user(const User& user) {
  if (auto valid = validate_user(user); !valid) return valid;
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<void> {
    auto existing = load_user(user.user_name);
    if (!existing) return std::unexpected(existing.error());
    if (*existing) {
      return fail(ErrorKind::kConflict, "user " + (*existing)->user_name +
                                            " already exists; change it with `agendasync users "
                                            "set " +
                                            (*existing)->user_name + " ...`");
    }
    if (auto inserted = db_.run(
            "INSERT INTO users (user_name, display_name, exchange_address, blocked, sync_enabled, "
            "direction_override, conflict_policy_override, backend) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            user_values(user));
        !inserted) {
      return std::unexpected(inserted.error());
    }
    auto revision =
        record_change(ChangeEntity::kUser, user.user_name, ChangeOp::kUpsert, {user.user_name});
    if (!revision) return std::unexpected(revision.error());
    return {};
  });
}

Result<void> SqliteAgendaStore::update_user(const User& user) {
  if (auto valid = validate_user(user); !valid) return valid;
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<void> {
    auto existing = load_user(user.user_name);
    if (!existing) return std::unexpected(existing.error());
    if (!*existing) {
      return fail(ErrorKind::kNotFound, "user " + user.user_name +
                                            " does not exist; add it with `agendasync users add " +
                                            user.user_name + "`");
    }
    auto values = user_values(user);
    values[0] = (*existing)->user_name;  // keep the stored spelling
    if (auto updated =
            db_.run("UPDATE users SET display_name = ?2, exchange_address = ?3, blocked = ?4, "
                    "sync_enabled = ?5, direction_override = ?6, conflict_policy_override = ?7, "
                    "backend = ?8 WHERE user_name = ?1",
                    values);
        !updated) {
      return std::unexpected(updated.error());
    }
    if (matters_to_sync(**existing, user)) {
      auto revision = record_change(ChangeEntity::kUser, (*existing)->user_name, ChangeOp::kUpsert,
                                    {(*existing)->user_name});
      if (!revision) return std::unexpected(revision.error());
    }
    return {};
  });
}

Result<std::optional<User>> SqliteAgendaStore::user(std::string_view user_name) {
  std::lock_guard lock(mutex_);
  return load_user(user_name);
}

Result<std::vector<User>> SqliteAgendaStore::users() {
  std::lock_guard lock(mutex_);
  return sqlite::read_transaction(db_, [&]() -> Result<std::vector<User>> {
    auto names = db_.prepare("SELECT user_name FROM users ORDER BY user_name");
    if (!names) return std::unexpected(names.error());
    std::vector<std::string> all;
    for (;;) {
      auto row = names->step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      all.push_back(names->text_at(0));
    }
    std::vector<User> result;
    for (const auto& name : all) {
      auto user = load_user(name);
      if (!user) return std::unexpected(user.error());
      if (*user) result.push_back(std::move(**user));
    }
    return result;
  });
}

namespace {

/// At most one default and one "Personal" type (R16): `type` takes the roles it claims.
Result<void> take_roles(sqlite::Connection& db, const ActivityType& type) {
  if (type.is_default) {
    if (auto cleared =
            db.run("UPDATE activity_types SET is_default = 0 WHERE name <> ?1", {type.name});
        !cleared) {
      return cleared;
    }
  }
  if (type.is_personal) {
    if (auto cleared =
            db.run("UPDATE activity_types SET is_personal = 0 WHERE name <> ?1", {type.name});
        !cleared) {
      return cleared;
    }
  }
  return {};
}

std::string in_quotes(std::string_view name) { return "\"" + std::string(name) + "\""; }

}  // namespace

Result<void> SqliteAgendaStore::put_activity_type(const ActivityType& type) {
  if (auto name = check_type_name(type.name); !name) return name;
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<void> {
    if (auto roles = take_roles(db_, type); !roles) return roles;
    return db_.run(
        "INSERT INTO activity_types (name, synced, is_default, is_personal) VALUES (?1, ?2, ?3, "
        "?4) "
        "ON CONFLICT (name) DO UPDATE SET synced = excluded.synced, "
        "is_default = excluded.is_default, is_personal = excluded.is_personal",
        {type.name, std::int64_t{type.synced}, std::int64_t{type.is_default},
         std::int64_t{type.is_personal}});
  });
}

Result<std::optional<ActivityType>> SqliteAgendaStore::load_activity_type(std::string_view name) {
  auto row = db_.prepare(
      "SELECT name, synced, is_default, is_personal FROM activity_types WHERE name = ?1",
      {std::string(name)});
  if (!row) return std::unexpected(row.error());
  auto found = row->step();
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::optional<ActivityType>{};
  return std::optional<ActivityType>{
      ActivityType{row->text_at(0), row->int_at(1) != 0, row->int_at(2) != 0, row->int_at(3) != 0}};
}

Result<ActivityType> SqliteAgendaStore::update_activity_type(std::string_view current_name,
                                                             const ActivityType& updated) {
  if (auto name = check_type_name(updated.name); !name) return std::unexpected(name.error());
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<ActivityType> {
    auto current = load_activity_type(current_name);
    if (!current) return std::unexpected(current.error());
    if (!*current) {
      return fail(ErrorKind::kNotFound, "activity type " + in_quotes(current_name) +
                                            " does not exist; list the types with `agendasync "
                                            "activity-types list`");
    }
    const std::string old_name = (*current)->name;
    if (updated.name != old_name) {
      // Names compare without case (the column is NOCASE): "meeting" -> "Meeting" is a
      // respelling of the same type, anything else must be free.
      auto taken = load_activity_type(updated.name);
      if (!taken) return std::unexpected(taken.error());
      if (*taken && (*taken)->name != old_name) {
        return fail(ErrorKind::kConflict,
                    "activity type " + in_quotes((*taken)->name) +
                        " already exists; nothing was changed. Pick another name, or move the "
                        "appointments of " +
                        in_quotes(old_name) + " to it and remove " + in_quotes(old_name));
      }
      // The appointments still name the old type until the rewrite below; the foreign key is
      // checked at commit (this pragma ends with the transaction).
      if (auto deferred = db_.exec("PRAGMA defer_foreign_keys = ON"); !deferred) {
        return std::unexpected(deferred.error());
      }
      if (auto renamed = db_.run("UPDATE activity_types SET name = ?2 WHERE name = ?1",
                                 {old_name, updated.name});
          !renamed) {
        return std::unexpected(renamed.error());
      }
      if (auto moved = retype_appointments(old_name, updated.name); !moved) {
        return std::unexpected(moved.error());
      }
    }
    if (auto roles = take_roles(db_, updated); !roles) return std::unexpected(roles.error());
    if (auto flags =
            db_.run("UPDATE activity_types SET synced = ?2, is_default = ?3, is_personal = ?4 "
                    "WHERE name = ?1",
                    {updated.name, std::int64_t{updated.synced}, std::int64_t{updated.is_default},
                     std::int64_t{updated.is_personal}});
        !flags) {
      return std::unexpected(flags.error());
    }
    return updated;
  });
}

Result<void> SqliteAgendaStore::remove_activity_type(std::string_view name) {
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<void> {
    auto current = load_activity_type(name);
    if (!current) return std::unexpected(current.error());
    if (!*current) {
      return fail(ErrorKind::kNotFound, "activity type " + in_quotes(name) +
                                            " does not exist; list the types with `agendasync "
                                            "activity-types list`");
    }
    const std::string& stored = (*current)->name;
    // Refused while in use: moving the appointments to the default type could send
    // unsynced ones to Exchange or delete synced ones there (R16); the admin decides.
    auto in_use =
        db_.query_int("SELECT count(*) FROM appointments WHERE activity_type = ?1", {stored});
    if (!in_use) return std::unexpected(in_use.error());
    if (in_use->value_or(0) > 0) {
      return fail(ErrorKind::kConflict,
                  "activity type " + in_quotes(stored) + " is used by " +
                      std::to_string(in_use->value_or(0)) +
                      " appointment(s); nothing was changed. Give them another type first "
                      "(`agendasync appointments set ID --activity-type OTHER`), or rename the "
                      "type instead (`agendasync activity-types rename`)");
    }
    return db_.run("DELETE FROM activity_types WHERE name = ?1", {stored});
  });
}

Result<std::vector<ActivityType>> SqliteAgendaStore::activity_types() {
  std::lock_guard lock(mutex_);
  auto rows =
      db_.prepare("SELECT name, synced, is_default, is_personal FROM activity_types ORDER BY name");
  if (!rows) return std::unexpected(rows.error());
  std::vector<ActivityType> result;
  for (;;) {
    auto row = rows->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    result.push_back(ActivityType{rows->text_at(0), rows->int_at(1) != 0, rows->int_at(2) != 0,
                                  rows->int_at(3) != 0});
  }
  return result;
}

Result<OrganisationSettings> SqliteAgendaStore::settings() {
  std::lock_guard lock(mutex_);
  auto rows = db_.prepare("SELECT key, value FROM organisation_settings");
  if (!rows) return std::unexpected(rows.error());
  OrganisationSettings settings;
  for (;;) {
    auto row = rows->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    auto key = rows->text_at(0);
    auto value = rows->text_at(1);
    if (key == "mail_domain") {
      settings.mail_domain = value;
      continue;
    }
    const auto sync_key = sync_key_of(key);
    if (!sync_key) continue;  // from a newer agendasync sharing the database: keep, ignore
    if (auto set = set_sync_setting(settings.sync, *sync_key, value); !set) {
      return fail(ErrorKind::kInvalidData, "database " + db_.path().string() +
                                               ": organisation setting " + set.error().message +
                                               "; fix it with `agendasync settings set`");
    }
  }
  return settings;
}

Result<void> SqliteAgendaStore::set_settings(const OrganisationSettings& settings) {
  auto texts = checked_setting_texts(settings);
  if (!texts) return std::unexpected(texts.error());
  std::lock_guard lock(mutex_);
  return sqlite::write_transaction(db_, [&]() -> Result<void> {
    if (auto put = db_.run("INSERT OR REPLACE INTO organisation_settings (key, value) "
                           "VALUES ('mail_domain', ?1)",
                           {settings.mail_domain});
        !put) {
      return put;
    }
    // Unset keys leave the agenda, so the configuration file's value applies again.
    for (const auto& key : sync_setting_keys()) {
      if (auto removed = db_.run("DELETE FROM organisation_settings WHERE key = ?1",
                                 {stored_setting_key(key.name)});
          !removed) {
        return removed;
      }
    }
    for (const auto& [key, text] : *texts) {
      if (auto put = db_.run("INSERT INTO organisation_settings (key, value) VALUES (?1, ?2)",
                             {stored_setting_key(key), text});
          !put) {
        return put;
      }
    }
    return {};
  });
}

}  // namespace agendasync::store
