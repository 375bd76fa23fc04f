#pragma once
/// Shared by the daemon benchmarks over EWS: the agenda's configuration pointing at exsim
/// (service account svc@example.com, impersonation, two-way) and an integration token.
#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/ews/testing/exsim_process.h"
#include "core/error.h"
#include "service/service_db.h"
#include "service/tokens.h"

namespace agendasync::benchsetup {

/// Writes <dir>/agendasync.toml (and the password file) for an agenda at `database`.
inline void write_ews_config(const std::filesystem::path& dir,
                             const std::filesystem::path& database,
                             const ews::testing::ExsimProcess& exsim) {
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

}  // namespace agendasync::benchsetup
