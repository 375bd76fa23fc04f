#include "cli/context.h"

#include <cstdlib>
#include <iostream>

#include "platform/platform.h"
#include "service/secrets/key_ring.h"
#include "store/database_locator.h"

namespace agendasync::cli {

std::filesystem::path Context::config_file() const {
  if (!global.config_path.empty()) return global.config_path;
  if (const char* env = std::getenv("AGENDASYNC_CONFIG"); env && *env) return env;
  // An installed node (the Debian package) keeps its file under /etc; a working folder with
  // its own file still wins, so development checkouts behave as before.
  std::error_code ec;
  if (!std::filesystem::exists("agendasync.toml", ec) &&
      std::filesystem::exists(kSystemConfigFile, ec)) {
    return kSystemConfigFile;
  }
  return "agendasync.toml";
}

Result<config::Config> Context::load_node_config() const {
  auto config = config::load_config(config_file());
  if (!config && !global.database_path.empty() && config.error().kind == ErrorKind::kNotFound) {
    // --database alone works without a configuration file (the agenda commands need no
    // connection).
    config = config::Config{};
  }
  if (!config) return std::unexpected(config.error());
  if (!global.database_path.empty()) config->database = global.database_path;
  return config;
}

namespace {

/// The platform tables of the node's database, opened with the key ring of the environment
/// (only a connection's secrets need it).
Result<std::unique_ptr<platform::Platform>> open_platform(const config::Config& node) {
  auto ring = service::secrets::load_key_ring({});
  if (!ring) return std::unexpected(ring.error());
  return platform::Platform::open(node, std::move(*ring));
}

/// The organisation `org_flag` names (which must exist), else the node's only one. Opens the
/// platform into `platform` when it needs it, so a caller that goes on to read the
/// organisation's configuration does not open it again.
Result<std::string> resolve_organisation(const config::Config& node, const std::string& org_flag,
                                         std::unique_ptr<platform::Platform>& platform) {
  if (store::is_postgres_locator(node.database.string())) {
    auto opened = open_platform(node);
    if (!opened && opened.error().kind != ErrorKind::kNotFound) {
      return std::unexpected(opened.error());
    }
    if (opened) platform = std::move(*opened);
    if (!org_flag.empty()) {
      if (auto valid = platform::check_org_id(org_flag); !valid) {
        return std::unexpected(valid.error());
      }
      if (platform) {
        auto found = platform->organisation(org_flag);
        if (found) return found->id;
        if (found.error().kind != ErrorKind::kNotFound) return std::unexpected(found.error());
      }
      // An organisation the platform does not list (its schema made by `agendasync migrate
      // --org`, as before the platform moved to PostgreSQL): the node's file is its
      // configuration. No daemon serves it until `agendasync orgs add` registers it.
      platform.reset();
      return org_flag;
    }
    // No platform schema yet (`agendasync init` makes it), or no organisation in it: default.
    if (!platform) return std::string(platform::kDefaultOrg);
    auto all = platform->organisations();
    if (!all) return std::unexpected(all.error());
    if (all->empty()) {
      platform.reset();
      return std::string(platform::kDefaultOrg);
    }
    if (all->size() == 1) return all->front().id;
    std::string ids;
    for (const auto& organisation : *all) ids += (ids.empty() ? "" : ", ") + organisation.id;
    return agendasync::fail(ErrorKind::kInvalidData,
                            "this node holds " + std::to_string(all->size()) + " organisations (" +
                                ids + "): name one with --org NAME");
  }
  std::error_code ec;
  if (org_flag.empty() && !std::filesystem::exists(node.database, ec)) {
    return std::string(platform::kDefaultOrg);  // no agenda yet: `init` makes default's
  }
  auto opened = open_platform(node);
  if (!opened) return std::unexpected(opened.error());
  platform = std::move(*opened);
  if (!org_flag.empty()) {
    auto found = platform->organisation(org_flag);
    if (!found) return std::unexpected(found.error());
    return found->id;
  }
  auto all = platform->organisations();
  if (!all) return std::unexpected(all.error());
  if (all->size() == 1) return all->front().id;
  std::string ids;
  for (const auto& organisation : *all) ids += (ids.empty() ? "" : ", ") + organisation.id;
  return agendasync::fail(ErrorKind::kInvalidData,
                          "this node holds " + std::to_string(all->size()) + " organisations (" +
                              ids + "): name one with --org NAME");
}

}  // namespace

Result<std::string> Context::organisation() const {
  auto node = load_node_config();
  if (!node) return std::unexpected(node.error());
  std::unique_ptr<platform::Platform> platform;
  return resolve_organisation(*node, global.org, platform);
}

Result<config::Config> Context::load_config() const {
  auto node = load_node_config();
  if (!node) return std::unexpected(node.error());
  std::unique_ptr<platform::Platform> platform;
  auto org = resolve_organisation(*node, global.org, platform);
  if (!org) return std::unexpected(org.error());
  if (*org == platform::kDefaultOrg || !platform) return node;
  return platform->organisation_config(*org);
}

Result<std::filesystem::path> Context::database_file() const {
  auto config = load_config();
  if (!config) return std::unexpected(config.error());
  return config->database;
}

Result<std::unique_ptr<store::AgendaStore>> Context::open_store() const {
  auto org = organisation();
  if (!org) return std::unexpected(org.error());
  auto path = database_file();
  if (!path) return std::unexpected(path.error());
  return store::open_agenda_store(path->string(), *org);
}

std::string Context::mail_domain(store::AgendaStore& store) const {
  if (auto settings = store.settings(); settings && !settings->mail_domain.empty()) {
    return settings->mail_domain;
  }
  if (auto config = load_config(); config) return config->exchange.mail_domain;
  return {};
}

void Context::fail(const Error& error, ExitCode code) { fail(error.message, code); }

void Context::fail(const std::string& message, ExitCode code) {
  std::cerr << "agendasync: error: " << message << "\n";
  exit_code = code;
}

}  // namespace agendasync::cli
