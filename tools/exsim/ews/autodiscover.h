#pragma once
/// Autodiscover: POX (/autodiscover/autodiscover.xml, Outlook response schema 2006a) and SOAP
/// (/autodiscover/autodiscover.svc, GetUserSettings), both answering with the EWS URL and the
/// mailbox's GroupingInformation (its simulated Mailbox server, mailbox_servers.h); for a
/// mailbox moved to Exchange Online, the redirect to its target address that on-premises
/// Exchange gives in a hybrid deployment (README "Hybrid mailboxes").
/// References:
/// learn.microsoft.com/exchange/client-developer/web-service-reference/pox-autodiscover-web-service-reference-for-exchange
/// and .../getusersettings-operation-soap
#include <functional>
#include <string>

#include "exsim/ews/mailbox_servers.h"
#include "exsim/identity/auth.h"
#include "exsim/server/config.h"
#include "exsim/store/store.h"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace exsim {

/// Registers both Autodiscover endpoints; callers must authenticate like EWS callers.
void install_autodiscover_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                                 const MailboxServers& servers,
                                 std::function<std::string()> base_url,
                                 std::function<AuthOutcome(const httplib::Request&)> authenticate);

/// The POX answer for `body` (an Autodiscover request). Locks the store itself.
std::string pox_autodiscover_response(std::string_view body, Store& store,
                                      const MailboxServers& servers, const std::string& base_url);
/// The SOAP GetUserSettings answer for `body`. Locks the store itself.
std::string soap_autodiscover_response(std::string_view body, const ServerConfig& config,
                                       Store& store, const MailboxServers& servers,
                                       const std::string& base_url);

}  // namespace exsim
