#pragma once
/// Autodiscover: POX (/autodiscover/autodiscover.xml, Outlook response schema 2006a) and SOAP
/// (/autodiscover/autodiscover.svc, GetUserSettings), both answering with the EWS URL and the
/// mailbox's GroupingInformation (its simulated Mailbox server, mailbox_servers.h).
/// References:
/// learn.microsoft.com/exchange/client-developer/web-service-reference/pox-autodiscover-web-service-reference-for-exchange
/// and .../getusersettings-operation-soap
#include <functional>
#include <string>

#include "exsim/ews/mailbox_servers.h"
#include "exsim/identity/auth.h"
#include "exsim/server/config.h"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace exsim {

/// Registers both Autodiscover endpoints; callers must authenticate like EWS callers.
void install_autodiscover_routes(httplib::Server& http, const ServerConfig& config,
                                 const MailboxServers& servers,
                                 std::function<std::string()> base_url,
                                 std::function<AuthOutcome(const httplib::Request&)> authenticate);

/// The POX answer for `body` (an Autodiscover request).
std::string pox_autodiscover_response(std::string_view body, const ServerConfig& config,
                                      const MailboxServers& servers, const std::string& base_url);
/// The SOAP GetUserSettings answer for `body`.
std::string soap_autodiscover_response(std::string_view body, const ServerConfig& config,
                                       const MailboxServers& servers, const std::string& base_url);

}  // namespace exsim
