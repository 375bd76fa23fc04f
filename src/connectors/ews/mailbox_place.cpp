// Where on-premises Autodiscover says a mailbox lives (R41): an EWS URL, or a redirect to the
// Exchange Online address of a mailbox that moved.
#include "connectors/ews/mailbox_place.h"

#include <fmt/format.h>

#include "connectors/ews/autodiscover.h"

namespace agendasync::ews {

std::vector<std::string> mailbox_place_bases(std::string_view ews_url, std::string_view email) {
  std::vector<std::string> bases;
  if (const auto scheme = ews_url.find("://"); scheme != std::string_view::npos) {
    bases.emplace_back(ews_url.substr(0, ews_url.find('/', scheme + 3)));
  }
  for (auto& base : autodiscover_bases(email)) {
    if (std::find(bases.begin(), bases.end(), base) == bases.end()) bases.push_back(base);
  }
  return bases;
}

Result<MailboxPlace> locate_mailbox(net::HttpClient& http, const net::Credentials& credentials,
                                    std::string_view email, const std::vector<std::string>& bases) {
  MailboxPlace place;
  // POX first, then SOAP, as Outlook and autodiscover() ask; the first base that answers
  // either way decides. A base that does not answer is only listed.
  for (const bool soap : {false, true}) {
    for (const std::string& base : bases) {
      const std::string url =
          base + (soap ? "/autodiscover/autodiscover.svc" : "/autodiscover/autodiscover.xml");
      net::Request request;
      request.url = url;
      request.body = soap ? build_soap_autodiscover(email, url) : build_pox_autodiscover(email);
      request.headers = {{"Content-Type", "text/xml; charset=utf-8"}};
      const auto response = http.send(request, credentials);
      std::string outcome;
      if (!response) {
        outcome = response.error().message;
      } else if (response->status != 200) {
        outcome = fmt::format("HTTP {}", response->status);
      } else {
        auto answer =
            soap ? parse_soap_autodiscover(response->body) : parse_pox_autodiscover(response->body);
        if (answer) {
          const bool redirect = answer->starts_with("redirect:");
          const std::string target = redirect ? answer->substr(9) : std::string();
          place.tried.push_back(
              fmt::format("{} ({}): {}", url, soap ? "SOAP" : "POX",
                          redirect ? "redirects to " + target : "EWS URL " + *answer));
          // A redirect to the same address says nothing about where the mailbox is.
          if (!redirect || target != email) {
            place.moved_online = redirect;
            place.redirect_address = target;
            return place;
          }
          continue;
        }
        outcome = answer.error().message;
      }
      place.tried.push_back(fmt::format("{} ({}): {}", url, soap ? "SOAP" : "POX", outcome));
    }
  }
  std::string list;
  for (const std::string& line : place.tried) list += "\n  - " + line;
  return fail(ErrorKind::kTransient,
              fmt::format("on-premises Autodiscover did not say where the mailbox {} is (moved "
                          "to Exchange Online or not). Addresses tried:{}\nSet the user's "
                          "backend (`agendasync users set NAME --backend ews|graph`) or make "
                          "Autodiscover reachable.",
                          email, list));
}

}  // namespace agendasync::ews
