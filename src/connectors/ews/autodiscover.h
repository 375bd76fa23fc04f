#pragma once
/// Finding the EWS URL of a mailbox (R2): POX Autodiscover first, then SOAP Autodiscover
/// (GetUserSettings). Off by default (the EWS URL setting is used); when on, a failure lists
/// every address that was tried and why it did not answer.
/// Reference:
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/autodiscover-for-exchange
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "net/http.h"

namespace agendasync::ews {

struct AutodiscoverResult {
  std::string ews_url;
  std::vector<std::string> tried;  ///< every address asked, in order, with the outcome
};

/// The candidate base URLs for a mail domain: https://<domain> and
/// https://autodiscover.<domain>.
std::vector<std::string> autodiscover_bases(std::string_view email);

/// Asks each base: POX (<base>/autodiscover/autodiscover.xml), then SOAP
/// (<base>/autodiscover/autodiscover.svc), following at most a few redirect addresses.
/// `bases` empty = autodiscover_bases(email).
Result<AutodiscoverResult> autodiscover(net::HttpClient& http, const net::Credentials& credentials,
                                        std::string_view email,
                                        std::vector<std::string> bases = {});

/// Parsers, public for tests and the fuzz target. The EWS URL, a redirect address
/// ("redirect:<address>"), or an error naming what the server said.
Result<std::string> parse_pox_autodiscover(std::string_view body);
Result<std::string> parse_soap_autodiscover(std::string_view body);

/// `text` with &, < and > escaped, for the text of an Autodiscover request element.
std::string escape_xml_text(std::string_view text);

/// Request bodies.
std::string build_pox_autodiscover(std::string_view email);
std::string build_soap_autodiscover(std::string_view email, std::string_view url);

}  // namespace agendasync::ews
