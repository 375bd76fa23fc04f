#pragma once
/// Where on-premises Autodiscover says a mailbox lives, for a hybrid organisation (R41).
/// After a move to Exchange Online the on-premises directory holds a remote mailbox (a mail
/// user with a targetAddress), and Autodiscover answers with a redirect to that address
/// instead of settings: POX `<Action>redirectAddr</Action>`, SOAP ErrorCode
/// `RedirectAddress`. References:
/// https://learn.microsoft.com/exchange/client-developer/web-service-reference/redirectaddr-pox
/// https://learn.microsoft.com/exchange/client-developer/web-service-reference/errorcode-soap
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "net/http.h"

namespace agendasync::ews {

struct MailboxPlace {
  /// True when Autodiscover redirected the address to another one (the mailbox moved to
  /// Exchange Online); false when it answered with an EWS URL (on premises).
  bool moved_online = false;
  std::string redirect_address;    ///< the target address when moved
  std::vector<std::string> tried;  ///< every address asked, with the outcome
};

/// The Autodiscover bases for `email` in an organisation whose EWS URL is `ews_url`: the EWS
/// server's own origin first (on premises the Client Access server answers both), then
/// autodiscover_bases(email).
std::vector<std::string> mailbox_place_bases(std::string_view ews_url, std::string_view email);

/// Asks each base POX, then SOAP Autodiscover for `email` and stops at the first answer: an
/// EWS URL (on premises) or a redirect to another address (moved). Unlike autodiscover() it
/// does not follow the redirect: the target lives in another organisation's directory. Fails
/// (kTransient, listing every address tried) when no base answers either way.
Result<MailboxPlace> locate_mailbox(net::HttpClient& http, const net::Credentials& credentials,
                                    std::string_view email, const std::vector<std::string>& bases);

}  // namespace agendasync::ews
