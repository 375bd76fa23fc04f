#pragma once
/// Affinity of a streaming-subscription group with the mailbox server holding its
/// subscriptions (EWS notifications are the one thing Exchange does not route by itself).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agendasync::ews {

/// Routing of a streaming-subscription group to the mailbox server that holds its
/// subscriptions: X-AnchorMailbox names the group's anchor (not the request's own mailbox),
/// X-PreferServerAffinity asks for affinity, and the X-BackEndOverrideCookie the first
/// Subscribe returned is sent back.
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
struct Affinity {
  std::string anchor;  ///< the group's first mailbox in alphabetical order
  std::string cookie;  ///< the cookie's value; empty until a Subscribe answered with one
};

/// Adds the affinity headers to a request's headers, replacing its X-AnchorMailbox.
void add_affinity_headers(std::vector<std::pair<std::string, std::string>>& headers,
                          const Affinity& affinity);

/// The X-BackEndOverrideCookie value a response sets (Set-Cookie), or empty. `headers` as
/// net::Response has them (names lowercased).
std::string backend_override_cookie(
    const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace agendasync::ews
