#pragma once
/// Helpers for the store's tests: a temporary directory, file contents, a sample user and
/// appointment.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "core/appointment.h"
#include "core/settings.h"
#include "store/agenda_store.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::store::testing {

/// A fresh directory under the system temp dir, removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("agendasync-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
             "-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// SQL that takes SQLite migration 5 (the directory revision) away again, for tests that turn
/// a current agenda back into an older schema (set user_version after it).
inline constexpr const char* kUndoMigration5 =
    "DROP TRIGGER directory_users_insert; "
    "DROP TRIGGER directory_users_update; "
    "DROP TRIGGER directory_users_delete; "
    "DROP TRIGGER directory_organisation_settings_insert; "
    "DROP TRIGGER directory_organisation_settings_update; "
    "DROP TRIGGER directory_organisation_settings_delete; "
    "DROP TRIGGER directory_activity_types_insert; "
    "DROP TRIGGER directory_activity_types_update; "
    "DROP TRIGGER directory_activity_types_delete; "
    "DROP TABLE directory_revision; ";

/// The bytes of a file; empty when it does not exist.
/// The bytes of a file that is *not* an SQLite database in use (a junk file, a key file).
/// Never for a database: closing a descriptor of a database file drops every POSIX lock this
/// process holds on it, those of its live SQLite connections included.
inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Every page of the database at `path` as SQLite reads it (main file with the WAL applied),
/// through a read-only SQLite connection: the "changes nothing" check for a database. Empty
/// when the file is missing or not readable as a database.
inline std::string database_image(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  std::string image;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_int64 size = 0;
    if (unsigned char* bytes = sqlite3_serialize(db, "main", &size, 0)) {
      image.assign(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
      sqlite3_free(bytes);
    }
  }
  sqlite3_close_v2(db);
  return image;
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline Instant at(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
  using namespace std::chrono;
  return sys_days{std::chrono::year{year} / month / day} + hours{hour} + minutes{minute};
}

inline User sample_user(std::string name) {
  User user;
  user.user_name = std::move(name);
  user.display_name = "Display " + user.user_name;
  user.sync_enabled = true;
  return user;
}

/// A plain one-hour appointment of `owner`.
inline Appointment sample_appointment(std::string owner, std::string subject = "Meeting",
                                      Instant start = at(2026, 3, 2, 9)) {
  Appointment item;
  item.subject = std::move(subject);
  item.start = start;
  item.end = start + std::chrono::hours{1};
  item.time_zone = "Europe/Amsterdam";
  item.owner = std::move(owner);
  return item;
}

/// Feed queries and listings (GCC 12 warns on designated initializers that skip members).
inline ChangeQuery feed_after(Revision after, std::size_t limit = 1000) {
  ChangeQuery query;
  query.after = after;
  query.limit = limit;
  return query;
}
inline ChangeQuery feed_for(Revision after, std::string user) {
  ChangeQuery query = feed_after(after);
  query.user = std::move(user);
  return query;
}
inline AppointmentQuery of_user(std::string user) {
  AppointmentQuery query;
  query.user = std::move(user);
  return query;
}
inline AppointmentQuery in_window(Instant from, Instant to) {
  AppointmentQuery query;
  query.from = from;
  query.to = to;
  return query;
}
inline SqliteOptions creating() {
  SqliteOptions options;
  options.create = true;
  return options;
}

}  // namespace agendasync::store::testing
