#include "cli/context.h"

#include <cstdlib>
#include <iostream>

#include "store/sqlite_agenda_store.h"

namespace agendasync::cli {

std::filesystem::path Context::config_file() const {
  if (!global.config_path.empty()) return global.config_path;
  if (const char* env = std::getenv("AGENDASYNC_CONFIG"); env && *env) return env;
  return "agendasync.toml";
}

Result<config::Config> Context::load_config() const { return config::load_config(config_file()); }

Result<std::filesystem::path> Context::database_file() const {
  if (!global.database_path.empty()) return std::filesystem::path(global.database_path);
  auto config = load_config();
  if (!config) return std::unexpected(config.error());
  return config->database;
}

Result<std::unique_ptr<store::AgendaStore>> Context::open_store() const {
  auto path = database_file();
  if (!path) return std::unexpected(path.error());
  return store::open_sqlite_agenda_store(*path);
}

std::string Context::mail_domain(store::AgendaStore& store) const {
  if (auto settings = store.settings(); settings && !settings->mail_domain.empty()) {
    return settings->mail_domain;
  }
  if (global.database_path.empty()) {
    if (auto config = load_config(); config) return config->exchange.mail_domain;
  }
  return {};
}

void Context::fail(const Error& error, ExitCode code) { fail(error.message, code); }

void Context::fail(const std::string& message, ExitCode code) {
  std::cerr << "agendasync: error: " << message << "\n";
  exit_code = code;
}

}  // namespace agendasync::cli
