// The commented configuration `agendasync init` writes.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/config.h"

namespace agendasync::config {

std::string default_config_text(const std::filesystem::path& database) {
  // Every key with its default. Relative paths are relative to this file's folder.
  std::string db = database.string();
  std::string escaped;
  for (char c : db) {
    if (c == '\\' || c == '"') escaped += '\\';
    escaped += c;
  }
  return R"(# AgendaSync configuration (TOML). Every key is shown with its default.
# Relative paths are relative to the folder of this file.
# Secrets (passwords, client secrets) are never written here: point *_file at a file that
# only the service can read, or *_env at an environment variable that holds the secret.

# The host agenda (SQLite).
database = ")" +
         escaped + R"("

[exchange]
# none | ews (Exchange Server on premises) | graph (Exchange Online, Microsoft Graph)
# | hybrid (both: the EWS keys below and [graph]; each user's mailbox on one of them,
# `agendasync users set NAME --backend auto|ews|graph`)
backend = "none"
# Exchange Server version for EWS: 2013 | 2013-sp1 | 2016 | 2019 (2010 and older: unsupported)
version = "2016"
# EWS address, e.g. "https://mail.example.com/EWS/Exchange.asmx"
url = ""
# Find the EWS address by Autodiscover instead of url.
autodiscover = false
# ntlm | basic (deprecated) | oauth (Exchange Online EWS; uses the [graph] app registration)
auth = "ntlm"
# The service account with the ApplicationImpersonation right, and its NetBIOS domain.
user = ""
# impersonation (the ApplicationImpersonation right) | delegate (full access to each
# mailbox, no impersonation).
access = "impersonation"
# Delegate mode: streaming connections the service account may hold (Exchange's
# HangingConnectionLimit, 3 by default); mailboxes beyond 200 per connection are polled.
streaming_connections = 3
domain = ""
# password_file = "/etc/agendasync/exchange-password"
# password_env = "AGENDASYNC_EXCHANGE_PASSWORD"
# "E-mail DNS": a user's mailbox is USERNAME@mail_domain unless the user has a deviating
# Exchange address.
mail_domain = ""

[graph]
# Entra ID app registration with application permissions Calendars.ReadWrite,
# User.Read.All and MailboxSettings.Read.
tenant_id = ""
client_id = ""
# The app's credential: a client secret ...
# client_secret_file = "/etc/agendasync/graph-client-secret"
# client_secret_env = "AGENDASYNC_GRAPH_CLIENT_SECRET"
# ... or a certificate (uploaded under Certificates & secrets) and its private key.
# certificate_file = "/etc/agendasync/graph-app.crt"
# private_key_file = "/etc/agendasync/graph-app.key"
# private_key_env = "AGENDASYNC_GRAPH_PRIVATE_KEY"
# After registering, a global administrator grants consent once:
# `agendasync doctor` prints the tenant's admin-consent URL.
# Microsoft Graph and Entra ID addresses (national clouds differ).
graph_url = "https://graph.microsoft.com/v1.0"
authority_url = "https://login.microsoftonline.com"

[sync]
# Defaults for the whole organisation. An organisation setting in the agenda
# (`agendasync settings set`, PUT /api/v1/settings) wins over a key here, and a user's own
# direction or conflict policy wins over both; `agendasync settings show` prints where each
# value comes from. Keys left out (or commented out) take the built-in default shown.
# to-exchange | from-exchange | two-way
#direction = "two-way"
# When both sides changed the same field: newest-wins | host-wins | exchange-wins
#conflict_policy = "newest-wins"
# The first sync skips items that ended more than this many days ago (series with future
# occurrences excepted). 0..3650
#first_sync_days = 30
# An item deleted in Exchange under to-exchange: recreate | leave-deleted
#deleted_in_exchange = "recreate"
# Circuit breaker: a run that would create or delete more than this percentage of a
# calendar (1..100), and at least breaker_min_items items, stops and waits for
# `agendasync approve --user NAME`.
#breaker_share = 20
#breaker_min_items = 10
# The first sync of every pair stops after planning and waits for `agendasync approve`
# (review it with `agendasync plan --user NAME`).
#first_sync_approval = false
# Attendees of host appointments are written as information in the item's text (no mail).
# true makes them real meeting attendees, and Exchange mails them invitations, updates and
# cancellations. Exchange Online (backend "graph") only.
#send_meeting_requests = false
# Users may choose their own sync direction (My profile in the console, PUT
# /api/v1/users/NAME/direction with their own token). false: only an admin sets a user's
# direction override.
#users_choose_direction = false

[server]
# Where `agendasync serve` listens.
listen = "127.0.0.1"
port = 8080
# backend = "graph": the daemon's HTTPS address as Microsoft reaches it (a reverse proxy in
# front of listen/port); Graph change notifications go to <public_url>/api/v1/notifications/graph.
# "" = no Graph notifications: changes in Outlook arrive with the next safety-net sync.
public_url = ""
# Open connections the API accepts at once; beyond it a new connection gets 503. A waiting
# connection costs a socket, not a thread; keep it below the process's open-file limit.
#max_connections = 1024
# The daemon's log level: trace | debug | info | warn | error. `systemctl reload agendasync`
# (SIGHUP) applies a change without a restart.
#log_level = "info"
# The admin console (/admin/): a session ends this many minutes after sign-in, whatever the
# browser does (1..43200); the next action then asks to sign in again.
#console_session_minutes = 480
# Many nodes on one PostgreSQL database: this node's name, under which it holds its leases
# (`serve --node-name` overrides it). "" = the host name.
#node_name = ""

[cluster]
# Many nodes on one PostgreSQL database (unused on SQLite): how long a node's lease on a
# user's sync lasts without renewal (renewed every third of it). When a node dies, another
# takes its users over within this many seconds.
#lease_seconds = 30

[tls]
# Extra CA bundle (PEM) to trust besides the system store; "" = system store only.
ca_bundle = ""
# Outbound HTTP proxy, e.g. "http://proxy.example.com:3128"; "" = direct.
proxy = ""
)";
}

Result<void> write_default_config(const std::filesystem::path& file,
                                  const std::filesystem::path& database) {
  // O_EXCL: never overwrite, and no window between "does it exist" and "create".
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    if (errno == EEXIST) {
      return fail(ErrorKind::kConflict, "configuration file " + file.string() +
                                            " already exists; it was left unchanged. Remove it "
                                            "first, or choose another path with --config");
    }
    return fail(ErrorKind::kPermission,
                "cannot create configuration file " + file.string() + ": " + std::strerror(errno));
  }
  auto text = default_config_text(database);
  std::size_t written = 0;
  while (written < text.size()) {
    auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      ::unlink(file.c_str());
      return fail(ErrorKind::kPermanent,
                  "cannot write configuration file " + file.string() + ": " + std::strerror(saved));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    return fail(ErrorKind::kPermanent,
                "cannot write configuration file " + file.string() + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace agendasync::config
