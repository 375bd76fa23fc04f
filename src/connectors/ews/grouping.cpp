#include "connectors/ews/grouping.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "connectors/ews/autodiscover.h"
#include "connectors/ews/xml.h"

namespace agendasync::ews {

namespace {

/// "https://host:port" of a URL, or empty.
std::string origin_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const auto path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

}  // namespace

std::string build_grouping_request(std::span<const std::string> mailboxes, std::string_view url) {
  std::string users;
  for (const std::string& mailbox : mailboxes) {
    users += "<a:User><a:Mailbox>" + escape_xml_text(mailbox) + "</a:Mailbox></a:User>";
  }
  return fmt::format(
      R"(<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action><wsa:To>{}</wsa:To></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users>{}</a:Users><a:RequestedSettings><a:Setting>GroupingInformation</a:Setting><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>InternalEwsUrl</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>)",
      escape_xml_text(url), users);
}

Result<GroupingLookup> parse_grouping_response(std::string_view body,
                                               std::span<const std::string> mailboxes) {
  pugi::xml_document doc;
  if (auto parsed = parse_untrusted(doc, body, "Autodiscover response"); !parsed)
    return std::unexpected(parsed.error());
  const pugi::xml_node message =
      descendant(doc.document_element(), "GetUserSettingsResponseMessage");
  if (!message) {
    return fail(ErrorKind::kPermanent, "the Autodiscover answer is not a GetUserSettings response");
  }
  const pugi::xml_node response = child(message, "Response");
  const std::string top = child_text(response, "ErrorCode");
  if (!top.empty() && top != "NoError") {
    return fail(ErrorKind::kPermanent, fmt::format("Autodiscover error {}: {}", top,
                                                   child_text(response, "ErrorMessage")));
  }
  GroupingLookup out;
  std::size_t index = 0;
  for (const pugi::xml_node user : child(response, "UserResponses").children()) {
    if (user.type() != pugi::node_element || local_name(user) != "UserResponse") continue;
    if (index >= mailboxes.size()) break;
    const std::string& mailbox = mailboxes[index++];
    const std::string code = child_text(user, "ErrorCode");
    if (!code.empty() && code != "NoError") {
      out.missing[mailbox] =
          code +
          (child_text(user, "ErrorMessage").empty() ? "" : ": " + child_text(user, "ErrorMessage"));
      continue;
    }
    MailboxGrouping grouping;
    std::string internal;
    for (const pugi::xml_node setting : child(user, "UserSettings").children()) {
      const std::string name = child_text(setting, "Name");
      if (name == "GroupingInformation") grouping.grouping = child_text(setting, "Value");
      if (name == "ExternalEwsUrl") grouping.ews_url = child_text(setting, "Value");
      if (name == "InternalEwsUrl") internal = child_text(setting, "Value");
    }
    if (grouping.ews_url.empty()) grouping.ews_url = internal;
    out.found[mailbox] = std::move(grouping);
  }
  for (; index < mailboxes.size(); ++index) {
    out.missing[mailboxes[index]] = "no answer for this mailbox";
  }
  return out;
}

std::vector<std::string> grouping_endpoints(std::string_view ews_url, std::string_view domain) {
  std::vector<std::string> endpoints;
  if (std::string origin = origin_of(ews_url); !origin.empty()) {
    endpoints.push_back(origin + "/autodiscover/autodiscover.svc");
  }
  if (!domain.empty()) {
    for (const std::string& base :
         {"https://" + std::string(domain), "https://autodiscover." + std::string(domain)}) {
      std::string endpoint = base + "/autodiscover/autodiscover.svc";
      if (std::find(endpoints.begin(), endpoints.end(), endpoint) == endpoints.end())
        endpoints.push_back(std::move(endpoint));
    }
  }
  return endpoints;
}

Result<GroupingLookup> lookup_grouping(net::HttpClient& http, const net::Credentials& credentials,
                                       std::span<const std::string> endpoints,
                                       std::span<const std::string> mailboxes) {
  std::vector<std::string> tried;
  for (const std::string& endpoint : endpoints) {
    GroupingLookup all;
    all.endpoint = endpoint;
    std::optional<std::string> failure;
    for (std::size_t start = 0; start < mailboxes.size() && !failure;
         start += kMaxUsersPerGetUserSettings) {
      const auto batch =
          mailboxes.subspan(start, std::min(kMaxUsersPerGetUserSettings, mailboxes.size() - start));
      net::Request request;
      request.url = endpoint;
      request.body = build_grouping_request(batch, endpoint);
      request.headers = {{"Content-Type", "text/xml; charset=utf-8"}};
      const auto response = http.send(request, credentials);
      if (!response) {
        failure = response.error().message;
      } else if (response->status != 200) {
        failure = fmt::format("HTTP {}", response->status);
      } else if (auto parsed = parse_grouping_response(response->body, batch); !parsed) {
        failure = parsed.error().message;
      } else {
        all.found.merge(parsed->found);
        all.missing.merge(parsed->missing);
      }
    }
    if (!failure) return all;
    tried.push_back(endpoint + ": " + *failure);
  }
  std::string list;
  for (const std::string& line : tried) list += "\n  " + line;
  return fail(ErrorKind::kTransient,
              "Autodiscover did not say how to group the mailboxes' streaming subscriptions "
              "(GroupingInformation); asked:" +
                  (list.empty() ? std::string(" nothing (no EWS URL or mail domain)") : list));
}

}  // namespace agendasync::ews
