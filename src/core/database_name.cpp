#include "core/database_name.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace agendasync {

bool names_postgres_server(std::string_view database) {
  if (database.starts_with("postgresql://") || database.starts_with("postgres://")) return true;
  // A keyword string starts with a libpq keyword and '=' (the libpq manual, "Connection
  // Strings"); a file named like that would be a strange agenda.
  static constexpr std::array<std::string_view, 10> kKeywords = {
      "host",    "hostaddr", "port",    "dbname",           "user",
      "service", "sslmode",  "options", "application_name", "connect_timeout"};
  std::size_t start = 0;
  while (start < database.size() && std::isspace(static_cast<unsigned char>(database[start]))) {
    ++start;
  }
  const auto equals = database.find('=', start);
  if (equals == std::string_view::npos) return false;
  auto keyword = database.substr(start, equals - start);
  while (!keyword.empty() && std::isspace(static_cast<unsigned char>(keyword.back()))) {
    keyword.remove_suffix(1);
  }
  return std::find(kKeywords.begin(), kKeywords.end(), keyword) != kKeywords.end();
}

}  // namespace agendasync
