#pragma once
/// The agendasync configuration file (TOML) as typed values. Parsing validates everything it
/// can without touching the network; every error names the file, the line (when known) and
/// the key. Secrets are never read from the file itself: it names a file or an environment
/// variable that holds them (R9).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "core/settings.h"

namespace agendasync::config {

/// kHybrid (R41): Exchange Server and Exchange Online together, [exchange]'s EWS fields and
/// [graph] both set; each user's mailbox is served by one of them (User::backend).
enum class ExchangeBackend { kNone, kEws, kGraph, kHybrid };
/// R1: the EWS RequestServerVersion family. 2010 and older are refused at parse time.
enum class ExchangeVersion { k2013, k2013Sp1, k2016, k2019 };
/// R4. Basic is accepted but flagged as deprecated.
enum class EwsAuth { kNtlm, kBasic, kOAuth };
/// How the service account reaches each user's mailbox (R3): the ApplicationImpersonation
/// right, or full mailbox access as a delegate.
enum class EwsAccess { kImpersonation, kDelegate };

const char* to_string(ExchangeBackend value);
const char* to_string(ExchangeVersion value);
const char* to_string(EwsAuth value);
const char* to_string(EwsAccess value);

/// Where a secret lives: a file (first line, trailing newline dropped) or an environment
/// variable, or — for an organisation whose connection is kept in the database, sealed with
/// the key ring — the value itself, held in memory only (never read from or written to a
/// configuration file). All empty = no secret configured.
struct SecretSource {
  std::filesystem::path file;
  std::string env;
  Secret value;
  bool empty() const { return file.empty() && env.empty() && value.empty(); }
  bool operator==(const SecretSource&) const = default;
};

/// Reads the secret `source` points at. `what` names it in errors ("exchange.password").
Result<Secret> load_secret(const SecretSource& source, std::string_view what);
/// Reads a multi-line secret (a PEM private key): the whole file or variable, which must hold
/// a "-----BEGIN" block. `what` names it in errors ("graph.private_key").
Result<Secret> load_secret_pem(const SecretSource& source, std::string_view what);

struct ExchangeConfig {
  ExchangeBackend backend = ExchangeBackend::kNone;
  ExchangeVersion version = ExchangeVersion::k2016;
  std::string url;            ///< https://host/EWS/Exchange.asmx (R2)
  bool autodiscover = false;  ///< off by default (R2)
  EwsAuth auth = EwsAuth::kNtlm;
  std::string user;    ///< the impersonating service account (R3)
  std::string domain;  ///< NetBIOS domain for NTLM (R4)
  SecretSource password;
  std::string mail_domain;  ///< "E-mail DNS" (R7)
  EwsAccess access = EwsAccess::kImpersonation;
  /// Delegate mode only: the streaming connections the service account may hold at once
  /// (Exchange's HangingConnectionLimit, 3 on premises, charged to the account when it does
  /// not impersonate). Under impersonation each group's connection is charged to its own
  /// anchor mailbox and this is not used.
  int streaming_connections = 3;
  bool operator==(const ExchangeConfig&) const = default;
};

/// Exchange Online through Microsoft Graph (R5): the Entra ID app registration, with either a
/// client secret or a certificate (public PEM file + private key as a secret reference).
struct GraphConfig {
  std::string tenant_id;  ///< directory id (R5)
  std::string client_id;  ///< application id
  SecretSource client_secret;
  std::filesystem::path certificate_file;  ///< the app's certificate (PEM, public part)
  /// The certificate itself (PEM), for a connection kept in the database; wins over the file.
  std::string certificate_pem;
  SecretSource private_key;  ///< its private key (PEM)
  /// Graph's version root; overridable for national clouds and for exsim in tests.
  std::string graph_url = "https://graph.microsoft.com/v1.0";
  /// Entra ID's authority (token endpoint host); overridable like graph_url.
  std::string authority_url = "https://login.microsoftonline.com";
  bool uses_certificate() const { return !certificate_file.empty() || !certificate_pem.empty(); }
  bool operator==(const GraphConfig&) const = default;
};

/// [sync]: the configuration file's layer of the sync settings. A key left out of the file
/// stays nullopt, so the built-in default applies and `agendasync settings show` says so;
/// organisation settings in the agenda and users' overrides win over it (core/settings.h).
using SyncConfig = SyncSettingsLayer;

struct ServerConfig {
  std::string listen = "127.0.0.1";
  int port = 8080;
  /// The daemon's address as Microsoft Graph reaches it (https://sync.example.com, no
  /// trailing slash); Graph change notifications go to <public_url>/api/v1/notifications/graph.
  /// Empty = no Graph notifications (the safety-net interval is the latency).
  std::string public_url;
  /// Open HTTP connections the daemon accepts; beyond it a new one gets 503 and is closed.
  /// Each waiting connection costs a socket and a few kilobytes, no thread (1..1000000).
  int max_connections = 1024;
  /// The daemon's log level: trace, debug, info, warn or error. SIGHUP applies a change
  /// without a restart.
  std::string log_level = "info";
  /// How long an admin console session lasts after sign-in, in minutes (1..43200; no sliding
  /// renewal). `serve --console-session-seconds` overrides it.
  int console_session_minutes = 480;
  /// This node's name among the nodes on one PostgreSQL database (leases are held under it);
  /// empty = the host name. `serve --node-name` overrides it.
  std::string node_name = "";
  bool operator==(const ServerConfig&) const = default;
};

/// Many nodes on one PostgreSQL database (issue 17); unused on SQLite.
struct ClusterConfig {
  /// How long a node's lease on a pair lasts without renewal (renewed every third of it): after
  /// a node dies, another takes its pairs over within this (1..3600).
  int lease_seconds = 30;
  bool operator==(const ClusterConfig&) const = default;
};

struct TlsConfig {
  std::filesystem::path ca_bundle;  ///< extra CA bundle (PEM); empty = system store (R6)
  std::string proxy;                ///< outbound HTTP proxy, e.g. http://proxy:3128
  bool operator==(const TlsConfig&) const = default;
};

struct Config {
  /// The file this came from (empty when parsed from text without one).
  std::filesystem::path source;
  /// The agenda: an SQLite file (relative paths are resolved against the config file's
  /// folder), or a PostgreSQL server as a `postgresql://` URI or libpq keyword string (many
  /// nodes, core/database_name.h), kept as written.
  std::filesystem::path database = "agenda.db";
  ExchangeConfig exchange;
  GraphConfig graph;
  SyncConfig sync;
  ServerConfig server;
  ClusterConfig cluster;
  TlsConfig tls;
  /// Accepted but worth telling the admin (deprecated Basic auth, ...).
  std::vector<std::string> warnings;
};

/// Reads and validates `file`.
Result<Config> load_config(const std::filesystem::path& file);
/// Parses `text` as if read from `source` (for messages and relative paths).
Result<Config> parse_config(std::string_view text, const std::filesystem::path& source);

/// The commented configuration `agendasync init` writes: every key, with its default, and
/// where secrets go.
std::string default_config_text(const std::filesystem::path& database);
/// Writes default_config_text to `file`. Refuses (kConflict) when the file exists: an
/// existing configuration is never overwritten.
Result<void> write_default_config(const std::filesystem::path& file,
                                  const std::filesystem::path& database);

}  // namespace agendasync::config
