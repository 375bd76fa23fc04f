#pragma once
/// The simulated Mailbox servers behind exsim's one EWS URL, and how a request is routed to
/// one of them. Exchange 2013 and later keep notification subscriptions on the Mailbox server
/// that created them, so a client must route every request of a group of subscriptions to that
/// server: X-AnchorMailbox + X-PreferServerAffinity on the first Subscribe, whose response sets
/// the X-BackEndOverrideCookie cookie, then that cookie with X-PreferServerAffinity on every
/// later request. Everything else (items, folders) works from any server: the Client Access
/// role proxies it.
/// Reference:
/// learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exsim/server/config.h"

namespace exsim {

/// One simulated Mailbox server.
struct MailboxServer {
  int number = 1;                    // 1-based, as the admin endpoint names it
  std::string fqdn;                  // "mbx01.exsim.local"
  std::string grouping_information;  // Autodiscover's GroupingInformation for its mailboxes
  std::string cookie;                // the X-BackEndOverrideCookie value that routes to it
};

/// The HTTP request headers that decide routing (empty when absent).
struct RoutingHeaders {
  std::string anchor_mailbox;          // X-AnchorMailbox
  std::string prefer_server_affinity;  // X-PreferServerAffinity
  std::string cookie;                  // the whole Cookie header
};

/// Where one request goes.
struct Route {
  int server = 0;          // 0-based index into MailboxServers::all()
  std::string set_cookie;  // a Set-Cookie header value to answer with, or empty
};

/// The servers, which mailbox lives on which, and the routing rules. Thread-safe.
class MailboxServers {
 public:
  explicit MailboxServers(const ServerConfig& config);

  const std::vector<MailboxServer>& all() const { return servers_; }
  /// The server (0-based) of the mailbox at `mailbox_index` in the configured list.
  int server_of(uint32_t mailbox_index) const;
  /// The server (0-based) of a configured mailbox address (case-insensitive), if any.
  std::optional<int> server_of(std::string_view address) const;
  /// The server a cookie value ("fqdn~number") names, if any.
  std::optional<int> from_cookie(std::string_view value) const;

  /// Routes one EWS request of `caller` (the authenticated account).
  Route route(const RoutingHeaders& headers, const std::string& caller);

 private:
  std::vector<MailboxServer> servers_;
  std::map<std::string, uint32_t> mailbox_index_;  // lower-case address -> configured position
  bool tls_ = false;
  std::mutex mutex_;
  std::map<std::string, uint64_t> rotation_;  // caller -> requests routed without affinity
};

}  // namespace exsim
