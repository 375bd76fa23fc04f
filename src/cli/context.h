#pragma once
/// What every command shares: the global options, how to find the configuration and the
/// database, exit codes and error output. The CLI is thin: commands parse arguments, call the
/// libraries and print.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "store/agenda_store.h"

namespace agendasync::cli {

/// 0 ok, 1 the operation failed, 2 the command line is wrong (unknown option, malformed
/// value).
enum ExitCode : int { kExitOk = 0, kExitRuntime = 1, kExitUsage = 2 };

/// The configuration of an installed node (the Debian package's conffile).
inline constexpr const char* kSystemConfigFile = "/etc/agendasync/agendasync.toml";

struct GlobalOptions {
  /// --config; empty = $AGENDASYNC_CONFIG, else ./agendasync.toml when it exists, else
  /// kSystemConfigFile when that exists, else ./agendasync.toml.
  std::string config_path;
  /// --database: overrides the configuration's `database` (the node's database).
  std::string database_path;
  /// --org: the organisation a command acts on; empty = the only one (or default).
  std::string org;
};

struct Context {
  GlobalOptions global;
  /// Set by the command that ran.
  int exit_code = kExitOk;

  /// The configuration file in effect.
  std::filesystem::path config_file() const;
  /// The node's configuration as the file says it, with --database applied.
  Result<config::Config> load_node_config() const;
  /// The organisation the command acts on: --org (which must exist), else the node's only
  /// organisation; with several and no --org, an error listing them.
  Result<std::string> organisation() const;
  /// The organisation's configuration: for organisation default the file as it is; for any
  /// other, the node's file with its database and its connection from the platform tables
  /// (secrets opened with $AGENDASYNC_SECRET_KEY).
  Result<config::Config> load_config() const;
  /// The organisation's agenda database.
  Result<std::filesystem::path> database_file() const;
  /// Opens the existing agenda database.
  Result<std::unique_ptr<store::AgendaStore>> open_store() const;
  /// The mail domain users' mailboxes resolve against (R7): the organisation setting in the
  /// database, else the configuration's [exchange] mail_domain.
  std::string mail_domain(store::AgendaStore& store) const;

  /// Prints "agendasync: error: ..." to stderr and records `code`.
  void fail(const Error& error, ExitCode code);
  void fail(const std::string& message, ExitCode code);
};

}  // namespace agendasync::cli
