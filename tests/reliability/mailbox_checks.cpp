#include "tests/reliability/mailbox_checks.h"

#include <sqlite3.h>

#include <cstdlib>
#include <map>
#include <string_view>

namespace agendasync::reliability {

bool long_tests() {
  const char* value = std::getenv("AGENDASYNC_LONG_TESTS");
  return value != nullptr && std::string_view(value) == "1";
}

std::vector<std::string> duplicate_keys(const std::vector<nlohmann::json>& items) {
  std::map<std::string, int> seen;
  for (const auto& item : items) {
    if (!item.contains("extended_properties")) continue;
    const nlohmann::json& properties = item["extended_properties"];
    for (auto it = properties.begin(); it != properties.end(); ++it) {
      if (it->is_string() && !it->get<std::string>().empty())
        ++seen[it.key() + "=" + it->get<std::string>()];
    }
  }
  std::vector<std::string> duplicates;
  for (const auto& [key, count] : seen)
    if (count > 1) duplicates.push_back(key);
  return duplicates;
}

std::multiset<std::string> exchange_subjects(e2e::World& world, const std::string& mailbox) {
  std::multiset<std::string> subjects;
  for (const auto& item : world.exchange_items(mailbox)) subjects.insert(item.value("subject", ""));
  return subjects;
}

std::multiset<std::string> host_subjects(e2e::World& world, const std::string& user) {
  std::multiset<std::string> subjects;
  for (const auto& stored : world.host_items(user)) subjects.insert(stored.item.subject);
  return subjects;
}

std::string integrity_check(const std::filesystem::path& database) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return "cannot open " + database.string() + ": " + message;
  }
  std::string verdict;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr) == SQLITE_OK) {
    while (sqlite3_step(statement) == SQLITE_ROW) {
      if (!verdict.empty()) verdict += "; ";
      verdict += reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
  } else {
    verdict = sqlite3_errmsg(db);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return verdict;
}

}  // namespace agendasync::reliability
