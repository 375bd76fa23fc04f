#include "config/config.h"

#include <toml++/toml.h>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "config/config_names.h"
#include "core/database_name.h"
#include "core/utf8.h"

namespace agendasync::config {

namespace {

constexpr std::initializer_list<ExchangeBackend> kBackends = {
    ExchangeBackend::kNone, ExchangeBackend::kEws, ExchangeBackend::kGraph,
    ExchangeBackend::kHybrid};
constexpr std::initializer_list<ExchangeVersion> kVersions = {
    ExchangeVersion::k2013, ExchangeVersion::k2013Sp1, ExchangeVersion::k2016,
    ExchangeVersion::k2019};
constexpr std::initializer_list<EwsAccess> kAccesses = {EwsAccess::kImpersonation,
                                                        EwsAccess::kDelegate};
constexpr std::initializer_list<EwsAuth> kAuths = {EwsAuth::kNtlm, EwsAuth::kBasic,
                                                   EwsAuth::kOAuth};
constexpr std::initializer_list<SyncDirection> kDirections = {
    SyncDirection::kToExchange, SyncDirection::kFromExchange, SyncDirection::kTwoWay};
constexpr std::initializer_list<ConflictPolicy> kPolicies = {
    ConflictPolicy::kNewestWins, ConflictPolicy::kHostWins, ConflictPolicy::kExchangeWins};
constexpr std::initializer_list<DeletedInExchange> kDeletedBehaviours = {
    DeletedInExchange::kRecreate, DeletedInExchange::kLeaveDeleted};

/// Thrown inside the parser only; turned into a Result at its edge.
struct ConfigError {
  Error error;
};

/// Reads one TOML document into a Config, key by key, with messages that point at the line.
class Reader {
 public:
  Reader(const toml::table& root, std::filesystem::path source)
      : root_(root), source_(std::move(source)) {}

  Config read() {
    Config config;
    config.source = source_;
    using Handler = std::function<void(const toml::node&, const std::string&)>;
    // One table per section: key -> how to read it. Anything else is an unknown key.
    std::map<std::string, std::map<std::string, Handler>> sections;
    sections[""] = {
        {"database", [&](auto& n, auto& k) { config.database = text(n, k); }},
    };
    auto& ex = config.exchange;
    sections["exchange"] = {
        {"backend", [&](auto& n, auto& k) { ex.backend = name(n, k, kBackends); }},
        {"version", [&](auto& n, auto& k) { ex.version = version(n, k); }},
        {"url", [&](auto& n, auto& k) { ex.url = text(n, k); }},
        {"autodiscover", [&](auto& n, auto& k) { ex.autodiscover = boolean(n, k); }},
        {"auth", [&](auto& n, auto& k) { ex.auth = name(n, k, kAuths); }},
        {"user", [&](auto& n, auto& k) { ex.user = text(n, k); }},
        {"domain", [&](auto& n, auto& k) { ex.domain = text(n, k); }},
        {"password_file", [&](auto& n, auto& k) { ex.password.file = text(n, k); }},
        {"password_env", [&](auto& n, auto& k) { ex.password.env = text(n, k); }},
        {"password", [&](auto& n, auto& k) { inline_secret(n, k); }},
        {"mail_domain", [&](auto& n, auto& k) { ex.mail_domain = text(n, k); }},
        {"access", [&](auto& n, auto& k) { ex.access = name(n, k, kAccesses); }},
        {"streaming_connections",
         [&](auto& n, auto& k) {
           ex.streaming_connections = integer(n, k, {1, 1000});
         }},
    };
    auto& graph = config.graph;
    sections["graph"] = {
        {"tenant_id", [&](auto& n, auto& k) { graph.tenant_id = text(n, k); }},
        {"client_id", [&](auto& n, auto& k) { graph.client_id = text(n, k); }},
        {"client_secret_file", [&](auto& n, auto& k) { graph.client_secret.file = text(n, k); }},
        {"client_secret_env", [&](auto& n, auto& k) { graph.client_secret.env = text(n, k); }},
        {"client_secret", [&](auto& n, auto& k) { inline_secret(n, k); }},
        {"certificate_file", [&](auto& n, auto& k) { graph.certificate_file = text(n, k); }},
        {"private_key_file", [&](auto& n, auto& k) { graph.private_key.file = text(n, k); }},
        {"private_key_env", [&](auto& n, auto& k) { graph.private_key.env = text(n, k); }},
        {"private_key", [&](auto& n, auto& k) { inline_secret(n, k); }},
        {"graph_url", [&](auto& n, auto& k) { graph.graph_url = text(n, k); }},
        {"authority_url", [&](auto& n, auto& k) { graph.authority_url = text(n, k); }},
    };
    auto& sync = config.sync;
    sections["sync"] = {
        {"direction", [&](auto& n, auto& k) { sync.direction = name(n, k, kDirections); }},
        {"conflict_policy",
         [&](auto& n, auto& k) { sync.conflict_policy = name(n, k, kPolicies); }},
        {"first_sync_days",
         [&](auto& n, auto& k) { sync.first_sync_days = integer(n, k, kFirstSyncDaysRange); }},
        {"deleted_in_exchange",
         [&](auto& n, auto& k) { sync.deleted_in_exchange = name(n, k, kDeletedBehaviours); }},
        {"breaker_share",
         [&](auto& n, auto& k) {
           sync.breaker_share_percent = integer(n, k, kBreakerSharePercentRange, " percent");
         }},
        {"breaker_min_items",
         [&](auto& n, auto& k) { sync.breaker_min_items = integer(n, k, kBreakerMinItemsRange); }},
        {"first_sync_approval",
         [&](auto& n, auto& k) { sync.first_sync_approval = boolean(n, k); }},
        {"send_meeting_requests",
         [&](auto& n, auto& k) { sync.send_meeting_requests = boolean(n, k); }},
        {"users_choose_direction",
         [&](auto& n, auto& k) { sync.users_choose_direction = boolean(n, k); }},
    };
    sections["server"] = {
        {"listen", [&](auto& n, auto& k) { config.server.listen = text(n, k); }},
        {"port",
         [&](auto& n, auto& k) {
           config.server.port = integer(n, k, {0, 65535});
         }},
        {"public_url", [&](auto& n, auto& k) { config.server.public_url = text(n, k); }},
        {"node_name", [&](auto& n, auto& k) { config.server.node_name = text(n, k); }},
        {"max_connections",
         [&](auto& n, auto& k) {
           config.server.max_connections = integer(n, k, {1, 1000000});
         }},
        {"console_session_minutes",
         [&](auto& n, auto& k) {
           config.server.console_session_minutes = integer(n, k, {1, 43200});
         }},
        {"log_level",
         [&](auto& n, auto& k) {
           config.server.log_level = text(n, k);
           static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
           if (!kLevels.contains(config.server.log_level)) {
             throw bad(n, k,
                       "\"" + config.server.log_level +
                           "\" is not a log level; use trace, debug, info, warn or error");
           }
         }},
    };
    sections["cluster"] = {
        {"lease_seconds",
         [&](auto& n, auto& k) {
           config.cluster.lease_seconds = integer(n, k, {1, 3600});
         }},
    };
    sections["tls"] = {
        {"ca_bundle", [&](auto& n, auto& k) { config.tls.ca_bundle = text(n, k); }},
        {"proxy", [&](auto& n, auto& k) { config.tls.proxy = text(n, k); }},
    };

    for (auto&& [key, node] : root_) {
      std::string top(key.str());
      if (node.is_table()) {
        auto section = sections.find(top);
        if (section == sections.end() || top.empty()) {
          throw bad(node, top,
                    "unknown section [" + top +
                        "]; known sections: [exchange], "
                        "[graph], [sync], [server], [cluster], [tls]");
        }
        for (auto&& [inner, value] : *node.as_table()) {
          std::string full = top + "." + std::string(inner.str());
          auto handler = section->second.find(std::string(inner.str()));
          if (handler == section->second.end()) {
            throw bad(value, full, "unknown key" + suggestion(section->second));
          }
          handler->second(value, full);
        }
      } else {
        auto handler = sections[""].find(top);
        if (handler == sections[""].end())
          throw bad(node, top, "unknown key" + suggestion(sections[""]));
        handler->second(node, top);
      }
    }
    check_combinations(config);
    return config;
  }

 private:
  static std::string suggestion(
      const std::map<std::string, std::function<void(const toml::node&, const std::string&)>>&
          keys) {
    std::string out = " (known keys here:";
    for (const auto& [name, handler] : keys) {
      if (name != "password" && name != "client_secret" && name != "private_key") out += " " + name;
    }
    return out + ")";
  }

  std::string where(const toml::node* node) const {
    std::string out = source_.string();
    if (node && node->source().begin.line > 0) {
      out += ":" + std::to_string(node->source().begin.line);
    }
    return out;
  }

  ConfigError bad(const toml::node& node, const std::string& key, const std::string& what) const {
    return ConfigError{
        Error::make(ErrorKind::kInvalidData, where(&node) + ": " + key + ": " + what)};
  }
  ConfigError bad_key(const std::string& key, const std::string& what) const {
    // For combinations of keys: point at the key's line when it is present.
    auto node = root_.at_path(key).node();
    return ConfigError{
        Error::make(ErrorKind::kInvalidData, where(node) + ": " + key + ": " + what)};
  }

  static const char* type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a number";
      case toml::node_type::boolean:
        return "true/false";
      case toml::node_type::table:
        return "a table";
      case toml::node_type::array:
        return "an array";
      default:
        return "a date/time";
    }
  }

  std::string text(const toml::node& node, const std::string& key) const {
    if (!node.is_string()) {
      throw bad(node, key, std::string("expected a string in quotes, found ") + type_name(node));
    }
    return node.as_string()->get();
  }

  bool boolean(const toml::node& node, const std::string& key) const {
    if (!node.is_boolean()) {
      throw bad(node, key, std::string("expected true or false, found ") + type_name(node));
    }
    return node.as_boolean()->get();
  }

  /// `unit` follows the range in messages (" percent").
  int integer(const toml::node& node, const std::string& key, SettingRange range,
              const char* unit = "") const {
    if (!node.is_integer()) {
      throw bad(node, key, std::string("expected a whole number, found ") + type_name(node));
    }
    auto value = node.as_integer()->get();
    if (!range.contains(value)) {
      throw bad(node, key,
                std::to_string(value) + " is out of range " + std::to_string(range.min) + ".." +
                    std::to_string(range.max) + unit);
    }
    return static_cast<int>(value);
  }

  template <class Enum>
  Enum name(const toml::node& node, const std::string& key,
            std::initializer_list<Enum> values) const {
    auto value = text(node, key);
    auto parsed = parse_name(value, values);
    if (!parsed) {
      throw bad(node, key, "\"" + value + "\" is not a valid value; use " + list_names(values));
    }
    return *parsed;
  }

  ExchangeVersion version(const toml::node& node, const std::string& key) const {
    auto value = node.is_integer() ? std::to_string(node.as_integer()->get()) : text(node, key);
    if (auto parsed = parse_name(value, kVersions)) return *parsed;
    if (value.starts_with("2010") || value.starts_with("2007") || value.starts_with("2003")) {
      throw bad(node, key,
                "Exchange " + value +
                    " is not supported (R1): AgendaSync needs Exchange 2013 "
                    "or newer; upgrade the server or use Exchange Online "
                    "through [graph]");
    }
    throw bad(node, key, "\"" + value + "\" is not a valid value; use " + list_names(kVersions));
  }

  [[noreturn]] void inline_secret(const toml::node& node, const std::string& key) const {
    throw bad(node, key,
              "secrets are never written in the configuration file; put it in a "
              "file readable only by the service and set " +
                  key + "_file, or set " + key +
                  "_env to the name of an environment variable that holds it");
  }

  static bool is_loopback_url(std::string_view url) {
    for (std::string_view prefix : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
      if (url.starts_with(prefix) &&
          (url.size() == prefix.size() || url[prefix.size()] == ':' || url[prefix.size()] == '/')) {
        return true;
      }
    }
    return false;
  }

  void check_combinations(Config& config) const {
    const auto& ex = config.exchange;
    const bool uses_ews =
        ex.backend == ExchangeBackend::kEws || ex.backend == ExchangeBackend::kHybrid;
    if (config.sync.send_meeting_requests.value_or(false) && uses_ews) {
      // R39: the EWS connector writes every item with SendToNone; accepting the key would
      // promise meeting mail that never goes out (in a hybrid organisation, for some users).
      throw bad_key("sync.send_meeting_requests",
                    "real meeting requests need backend = \"graph\" (Exchange Online); the EWS "
                    "backend writes attendees as information only. Set it to false");
    }
    if (!ex.mail_domain.empty() && !is_valid_address("user@" + ex.mail_domain)) {
      throw bad_key("exchange.mail_domain", "\"" + ex.mail_domain +
                                                "\" is not a valid mail domain (e.g. example.com, "
                                                "without @)");
    }
    if (!ex.password.file.empty() && !ex.password.env.empty()) {
      throw bad_key("exchange.password_env", "set either password_file or password_env, not both");
    }
    if (!config.graph.client_secret.file.empty() && !config.graph.client_secret.env.empty()) {
      throw bad_key("graph.client_secret_env",
                    "set either client_secret_file or client_secret_env, not both");
    }
    if (!config.graph.private_key.file.empty() && !config.graph.private_key.env.empty()) {
      throw bad_key("graph.private_key_env",
                    "set either private_key_file or private_key_env, not both");
    }
    for (const auto& [key, url] : {std::pair{"graph.graph_url", config.graph.graph_url},
                                   std::pair{"graph.authority_url", config.graph.authority_url}}) {
      if (!url.starts_with("https://") && !is_loopback_url(url)) {
        throw bad_key(
            key, "\"" + url + "\" must start with https:// (TLS 1.2 or newer is required, R6)");
      }
    }
    auto& public_url = config.server.public_url;
    while (public_url.ends_with('/')) public_url.pop_back();
    if (!public_url.empty() && !public_url.starts_with("https://") &&
        !is_loopback_url(public_url)) {
      throw bad_key("server.public_url",
                    "\"" + public_url +
                        "\" must start with https:// (Microsoft Graph delivers change "
                        "notifications over HTTPS only)");
    }
    if (!ex.url.empty() && !ex.url.starts_with("https://") && !is_loopback_url(ex.url)) {
      throw bad_key("exchange.url", "\"" + ex.url +
                                        "\" must start with https:// (TLS 1.2 or "
                                        "newer is required, R6)");
    }
    if (uses_ews) {
      const std::string backend = to_string(ex.backend);
      if (ex.backend == ExchangeBackend::kHybrid && ex.url.empty()) {
        // Its on-premises Autodiscover (on the EWS server first) is what tells a mailbox that
        // moved to Exchange Online from one that did not (R41).
        throw bad_key("exchange.url",
                      "backend \"hybrid\" needs the on-premises EWS address (e.g. "
                      "https://mail.example.com/EWS/Exchange.asmx) beside [graph]");
      }
      if (ex.url.empty() && !ex.autodiscover) {
        throw bad_key("exchange.url",
                      "backend \"ews\" needs the EWS address (e.g. "
                      "https://mail.example.com/EWS/Exchange.asmx) or "
                      "autodiscover = true");
      }
      if (ex.auth != EwsAuth::kOAuth && (ex.user.empty() || ex.password.empty())) {
        throw bad_key("exchange.user", "backend \"" + backend + "\" with " +
                                           std::string(to_string(ex.auth)) +
                                           " authentication needs the service account: set "
                                           "user and password_file (or password_env)");
      }
      if (ex.auth == EwsAuth::kBasic) {
        config.warnings.push_back(where(root_.at_path("exchange.auth").node()) +
                                  ": exchange.auth: Basic authentication is deprecated; prefer "
                                  "ntlm (on premises) or oauth (Exchange Online)");
      }
    }
    const auto& graph = config.graph;
    if (ex.backend == ExchangeBackend::kGraph || ex.backend == ExchangeBackend::kHybrid ||
        (ex.backend == ExchangeBackend::kEws && ex.auth == EwsAuth::kOAuth)) {
      if (graph.tenant_id.empty()) {
        throw bad_key("graph.tenant_id",
                      "Exchange Online needs the directory (tenant) id of the "
                      "app registration in [graph] tenant_id");
      }
      if (graph.client_id.empty()) {
        throw bad_key("graph.client_id",
                      "Exchange Online needs the application (client) id of "
                      "the app registration in [graph] client_id");
      }
      if (graph.client_secret.empty() && !graph.uses_certificate()) {
        throw bad_key("graph.client_secret_file",
                      "Exchange Online needs the app's credential: set client_secret_file or "
                      "client_secret_env, or certificate_file with private_key_file (or "
                      "private_key_env), in [graph]");
      }
      if (!graph.client_secret.empty() && graph.uses_certificate()) {
        throw bad_key("graph.certificate_file",
                      "set either a client secret or a certificate in [graph], not both");
      }
      if (graph.uses_certificate() && graph.private_key.empty()) {
        throw bad_key("graph.private_key_file",
                      "certificate_file needs its private key: set private_key_file or "
                      "private_key_env in [graph]");
      }
    }
  }

  const toml::table& root_;
  std::filesystem::path source_;
};

/// Relative paths in a config file mean "next to the config file".
void resolve_relative(Config& config) {
  auto base = config.source.parent_path();
  auto resolve = [&](std::filesystem::path& path) {
    if (!path.empty() && path.is_relative()) path = base / path;
  };
  // A PostgreSQL server (a URI or a libpq keyword string) is not a path next to the file.
  if (!names_postgres_server(config.database.string())) resolve(config.database);
  resolve(config.exchange.password.file);
  resolve(config.graph.client_secret.file);
  resolve(config.graph.certificate_file);
  resolve(config.graph.private_key.file);
  resolve(config.tls.ca_bundle);
}

/// The error for the first line that is not UTF-8: "file:line: section.key: ...", or nullopt.
std::optional<Error> invalid_utf8_line(std::string_view text, const std::filesystem::path& source) {
  auto at = first_invalid_utf8(text);
  if (!at) return std::nullopt;
  std::string section;
  std::size_t line_number = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < *at; ++i) {
    if (text[i] != '\n') continue;
    std::string_view line = text.substr(line_start, i - line_start);
    if (line.starts_with("[") && line.find(']') != std::string_view::npos) {
      section = std::string(line.substr(1, line.find(']') - 1));
    }
    ++line_number;
    line_start = i + 1;
  }
  std::string_view line = text.substr(line_start, text.find('\n', line_start) - line_start);
  std::string where;
  if (auto equals = line.find('='); equals != std::string_view::npos && equals < *at - line_start) {
    std::string key(line.substr(0, equals));
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    while (!key.empty() && (key.front() == ' ' || key.front() == '\t')) key.erase(0, 1);
    if (valid_utf8(key)) where = (section.empty() ? "" : section + ".") + key + ": ";
  }
  return Error::make(ErrorKind::kInvalidData,
                     source.string() + ":" + std::to_string(line_number) + ": " + where +
                         "not valid UTF-8 (ill-formed byte at column " +
                         std::to_string(*at - line_start + 1) +
                         "); nothing was read. Save the file as UTF-8 (e.g. iconv -f LATIN1 -t "
                         "UTF-8)");
}

}  // namespace

Result<Config> parse_config(std::string_view text, const std::filesystem::path& source) {
  // Checked before toml++ so the message names the line and key the way every other
  // configuration error does, and tells what to do.
  if (auto invalid = invalid_utf8_line(text, source)) return std::unexpected(*invalid);
  toml::table root;
  try {
    root = toml::parse(text, source.string());
  } catch (const toml::parse_error& error) {
    return fail(ErrorKind::kInvalidData,
                source.string() + ":" + std::to_string(error.source().begin.line) + ":" +
                    std::to_string(error.source().begin.column) +
                    ": not valid TOML: " + std::string(error.description()));
  }
  try {
    auto config = Reader(root, source).read();
    resolve_relative(config);
    return config;
  } catch (const ConfigError& error) {
    return std::unexpected(error.error);
  }
}

Result<Config> load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(ErrorKind::kNotFound, "cannot read configuration file " + file.string() +
                                          ": create one with `agendasync init` or pass "
                                          "--config FILE");
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file);
}

Result<Secret> load_secret(const SecretSource& source, std::string_view what) {
  if (!source.value.empty()) return source.value;
  if (!source.env.empty()) {
    const char* value = std::getenv(source.env.c_str());
    if (!value || !*value) {
      return fail(ErrorKind::kInvalidData, std::string(what) + ": environment variable " +
                                               source.env + " is not set or empty");
    }
    return Secret(value);
  }
  if (!source.file.empty()) {
    std::ifstream in(source.file, std::ios::binary);
    if (!in) {
      return fail(ErrorKind::kNotFound, std::string(what) + ": cannot read secret file " +
                                            source.file.string() +
                                            "; check that it exists and is readable by this user");
    }
    std::string value;
    std::getline(in, value);
    if (!value.empty() && value.back() == '\r') value.pop_back();
    if (value.empty()) {
      return fail(ErrorKind::kInvalidData,
                  std::string(what) + ": secret file " + source.file.string() + " is empty");
    }
    return Secret(std::move(value));
  }
  return fail(ErrorKind::kInvalidData, std::string(what) + " is not configured: set " +
                                           std::string(what) + "_file or " + std::string(what) +
                                           "_env");
}

Result<Secret> load_secret_pem(const SecretSource& source, std::string_view what) {
  std::string value;
  std::string origin;
  if (!source.value.empty()) {
    value = source.value.reveal();
    origin = "the stored value";
  } else if (!source.env.empty()) {
    const char* text = std::getenv(source.env.c_str());
    if (text) value = text;
    origin = "environment variable " + source.env;
  } else if (!source.file.empty()) {
    std::ifstream in(source.file, std::ios::binary);
    if (!in) {
      return fail(ErrorKind::kNotFound, std::string(what) + ": cannot read " +
                                            source.file.string() +
                                            "; check that it exists and is readable by this user");
    }
    std::stringstream text;
    text << in.rdbuf();
    value = text.str();
    origin = "file " + source.file.string();
  } else {
    return load_secret(source, what);  // names both settings
  }
  if (value.find("-----BEGIN") == std::string::npos) {
    return fail(ErrorKind::kInvalidData,
                std::string(what) + ": " + origin +
                    " holds no PEM block (-----BEGIN ...); export the key in PEM format");
  }
  return Secret(std::move(value));
}

}  // namespace agendasync::config
