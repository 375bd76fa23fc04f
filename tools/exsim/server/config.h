#pragma once
/// exsim's start-up configuration: mailboxes, accounts and their rights, version, TLS, auth.
/// Read from a JSON file (see README.md) and/or command-line flags.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exsim/ews/versions.h"
#include "exsim/graph/graph_limits.h"

namespace exsim {

/// A mailbox the server hosts (its calendar is what clients sync).
struct MailboxConfig {
  MailboxConfig() = default;
  /// So that `{address, name}` keeps working where mailboxes are listed in code.
  MailboxConfig(std::string address_, std::string display_name_ = "")
      : address(std::move(address_)), display_name(std::move(display_name_)) {}

  std::string address;       // primary SMTP address
  std::string display_name;  // defaults to the local part
  /// Hybrid placement (store/mailbox_location.h): "" or "everywhere" (both protocols),
  /// "onpremises" (EWS only), "online" (moved to Exchange Online: Graph only).
  std::string location;
  std::string target_address;  // moved online: Autodiscover's RedirectAddr; default below
};

/// A logon account. Its own mailbox is the mailbox with the same address, if any.
struct AccountConfig {
  std::string user;                      // "svc@example.com"; "DOMAIN\\svc" and "svc" also log on
  std::string password;                  // never logged
  bool impersonation = false;            // holds the ApplicationImpersonation role
  std::vector<std::string> full_access;  // mailboxes it may open as a delegate ("*" = all)
};

/// TLS settings: a self-signed CA and server certificate are generated when no files are given.
struct TlsConfig {
  bool enabled = false;
  std::string min_version = "1.2";  // "1.0", "1.1", "1.2" or "1.3"
  std::string cert_file;            // PEM; generated when empty
  std::string key_file;
  std::string ca_out;  // where to write the generated CA certificate (clients trust it)
};

/// An Entra ID app registration (client) the token endpoint knows.
struct GraphAppConfig {
  std::string tenant_id;           // directory id; the token's `tid`
  std::string client_id;           // the token's `appid`
  std::string client_secret;       // never logged
  std::vector<std::string> roles;  // granted application permissions, e.g. Calendars.ReadWrite
  std::vector<std::string> certificates;  // PEM files (or PEM text) of certificate credentials
};

/// Everything the server needs at start.
struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = pick a free port
  ServerVersion version = *find_server_version("Exchange2016");
  TlsConfig tls;
  std::vector<std::string> auth_methods = {"basic", "ntlm", "bearer"};
  std::string domain = "EXSIM";  // NTLM domain / Basic realm
  std::vector<MailboxConfig> mailboxes;
  std::vector<AccountConfig> accounts;
  std::map<std::string, std::string> bearer_tokens;  // token -> account user
  std::string admin_token;                           // empty: admin endpoint disabled
  /// The tenant's routing domain: a moved mailbox's target address is local-part@this.
  std::string online_routing_domain = "exsim.mail.onmicrosoft.com";
  std::string trace_dir;  // record every exchange here
  size_t max_request_bytes = 4 * 1024 * 1024;
  int threads = 64;                         // worker threads; streaming subscriptions hold one each
  std::string state_key;                    // secret that signs sync states; random when empty
  std::string store = "memory";             // "memory" or "sqlite:PATH" (write-through persistence)
  int streaming_keepalive_seconds = 10;     // GetStreamingEvents keep-alive interval
  std::vector<GraphAppConfig> graph_apps;   // apps the Entra ID token endpoint serves
  int graph_token_lifetime_seconds = 3599;  // lifetime of issued access tokens
  int graph_mailbox_concurrency = 4;        // Graph requests in flight per mailbox (0 = no limit)
  int max_threads = 2048;  // the worker pool grows up to this when every worker is busy

  // Streaming notifications at scale (README "Streaming at scale"): Exchange's rules, each
  // relaxable for a test that needs it. Defaults are an on-premises Exchange 2013+ install.
  int mailbox_servers = 1;                   // mailboxes are spread over this many servers
  int hanging_connection_limit = 3;          // open GetStreamingEvents per charged account; 0 = off
  int max_subscriptions = 5000;              // EWSMaxSubscriptions per charged account; 0 = off
  int max_subscription_ids = 200;            // ids per GetStreamingEvents; 0 = no limit
  bool server_affinity = true;               // false: every server holds every subscription
  int subscription_lifetime_seconds = 1800;  // unread streaming subscriptions expire; 0 = never
  GraphLimits graph_limits;                  // Graph's subscription limits and their switches

  // EWS request budgets (README "Limits"; ews-throttling-in-exchange), charged like the
  // streaming ones: to the impersonated mailbox, else the caller.
  int ews_max_concurrency = 27;  // EWSMaxConcurrency: requests in flight; 0 = no limit
  /// EWSFindCountLimit: FindItem/FindFolder rows held at once; 0 = no limit (both values).
  int ews_find_count_limit = 1000;
  int ews_find_count_limit_restricted = 250;  // the same for a search with a restriction
};

/// Applies a throttling profile: "onpremises" (the defaults above) or "online" (Exchange
/// Online's HangingConnectionLimit 10 and EWSMaxSubscriptions 20). Returns false for others.
bool apply_profile(ServerConfig& config, std::string_view profile);

/// Reads a JSON config file over `base`. On failure returns nullopt and a message in `error`.
std::optional<ServerConfig> load_config_file(const std::string& path, ServerConfig base,
                                             std::string& error);
/// Parses "user:password[:impersonation]" (from --account).
std::optional<AccountConfig> parse_account_flag(const std::string& text);

}  // namespace exsim
