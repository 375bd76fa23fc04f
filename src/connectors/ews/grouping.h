#pragma once
/// Which mailboxes may share one streaming connection (issue 14, R23): Autodiscover's
/// GroupingInformation per mailbox. Mailboxes with the same GroupingInformation and the same
/// EWS URL can be grouped under one anchor and kept on one mailbox server.
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
/// https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/groupinginformation-pox
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "net/http.h"

namespace agendasync::ews {

/// Users per SOAP GetUserSettings request: Autodiscover answers at most 100 at a time.
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-get-user-settings-from-exchange-by-using-autodiscover
inline constexpr std::size_t kMaxUsersPerGetUserSettings = 100;

struct MailboxGrouping {
  std::string grouping;  ///< GroupingInformation (may be empty: the server does not say)
  std::string ews_url;   ///< External, else internal EWS URL (may be empty)
};

struct GroupingLookup {
  std::map<std::string, MailboxGrouping> found;  ///< by mailbox address as asked
  /// Mailboxes Autodiscover had no answer for, with why (unknown user, an error code).
  std::map<std::string, std::string> missing;
  std::string endpoint;  ///< the Autodiscover address that answered
};

/// SOAP GetUserSettings for `mailboxes` (at most kMaxUsersPerGetUserSettings).
std::string build_grouping_request(std::span<const std::string> mailboxes, std::string_view url);
/// The answer, user by user in the order asked (Autodiscover keeps the request's order).
Result<GroupingLookup> parse_grouping_response(std::string_view body,
                                               std::span<const std::string> mailboxes);

/// The SOAP Autodiscover addresses to ask for an organisation whose EWS URL is `ews_url`
/// and mail domain `domain`: the EWS server itself first (on premises the Client Access
/// server answers both), then https://<domain> and https://autodiscover.<domain>.
std::vector<std::string> grouping_endpoints(std::string_view ews_url, std::string_view domain);

/// Asks the first endpoint that answers for every mailbox, 100 at a time. An Error when no
/// endpoint answered at all (it names each address and what happened): the caller groups
/// by EWS URL alone then.
Result<GroupingLookup> lookup_grouping(net::HttpClient& http, const net::Credentials& credentials,
                                       std::span<const std::string> endpoints,
                                       std::span<const std::string> mailboxes);

}  // namespace agendasync::ews
