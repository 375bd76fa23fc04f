#pragma once
/// Shared by the daemon benchmarks over EWS: the agenda's configuration pointing at exsim
/// (service account svc@example.com, impersonation, two-way) and an integration token.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "service/service_db.h"
#include "service/tokens.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace agendasync::benchsetup {

/// Writes <dir>/agendasync.toml (and the password file) for an agenda at `database`.
inline void write_ews_config(const std::filesystem::path& dir,
                             const std::filesystem::path& database,
                             const exsimtest::ExsimProcess& exsim) {
  std::ofstream(dir / "password") << "s3cret\n";
  std::ofstream(dir / "agendasync.toml")
      << "database = \"" << database.string() << "\"\n[exchange]\nbackend = \"ews\"\n"
      << "version = \"2016\"\nurl = \"" << exsim.ews_url() << "\"\nauth = \"basic\"\n"
      << "user = \"svc@example.com\"\npassword_file = \"" << (dir / "password").string()
      << "\"\nmail_domain = \"example.com\"\n[sync]\ndirection = \"two-way\"\n"
      << "[tls]\nca_bundle = \"" << exsim.ca_path() << "\"\n";
}

/// A new integration token in the agenda at `database`.
inline Result<std::string> integration_token(const std::filesystem::path& database,
                                             const std::string& label) {
  auto db = service::ServiceDb::open(database);
  if (!db) return std::unexpected(db.error());
  service::TokenStore tokens(**db);
  auto created = tokens.create("integration", label);
  if (!created) return std::unexpected(created.error());
  return created->value.reveal();
}

/// Prints `result` (the benchmark's one JSON object) and ends the run: on success the
/// temporary folder goes, on failure it stays for a look and the exit code is 1.
inline int finish_run(const nlohmann::json& result, bool succeeded,
                      const std::filesystem::path& dir) {
  std::cout << result.dump(2) << "\n";
  if (!succeeded) {
    std::cerr << "kept the daemon's log and databases for a look: " << dir.string() << "\n";
    return 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace agendasync::benchsetup
