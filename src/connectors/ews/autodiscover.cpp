#include "connectors/ews/autodiscover.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include "connectors/ews/xml.h"

namespace agendasync::ews {

namespace {

constexpr int kMaxRedirects = 3;

}  // namespace

std::string escape_xml_text(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<std::string> autodiscover_bases(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string domain(email.substr(at + 1));
  return {"https://" + domain, "https://autodiscover." + domain};
}

std::string build_pox_autodiscover(std::string_view email) {
  return fmt::format(
      R"(<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>{}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>)",
      escape_xml_text(email));
}

std::string build_soap_autodiscover(std::string_view email, std::string_view url) {
  return fmt::format(
      R"(<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action><wsa:To>{}</wsa:To></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>{}</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>InternalEwsUrl</a:Setting><a:Setting>ExternalEwsUrl</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>)",
      escape_xml_text(url), escape_xml_text(email));
}

Result<std::string> parse_pox_autodiscover(std::string_view body) {
  pugi::xml_document doc;
  if (auto parsed = parse_untrusted(doc, body, "Autodiscover response"); !parsed)
    return std::unexpected(parsed.error());
  const pugi::xml_node response = child(doc.document_element(), "Response");
  if (pugi::xml_node error = child(response, "Error")) {
    return fail(ErrorKind::kPermanent,
                fmt::format("Autodiscover error {}: {}", child_text(error, "ErrorCode"),
                            child_text(error, "Message")));
  }
  const pugi::xml_node account = child(response, "Account");
  if (child_text(account, "Action") == "redirectAddr")
    return "redirect:" + child_text(account, "RedirectAddr");
  // Internal (EXCH) before external (EXPR): the sync runs next to the server.
  for (const char* type : {"EXCH", "EXPR"}) {
    for (const pugi::xml_node protocol : account.children()) {
      if (local_name(protocol) != "Protocol" || child_text(protocol, "Type") != type) continue;
      for (const char* field : {"EwsUrl", "ASUrl"}) {
        const std::string url = child_text(protocol, field);
        if (!url.empty()) return url;
      }
    }
  }
  return fail(ErrorKind::kPermanent, "the Autodiscover answer names no EWS URL");
}

Result<std::string> parse_soap_autodiscover(std::string_view body) {
  pugi::xml_document doc;
  if (auto parsed = parse_untrusted(doc, body, "Autodiscover response"); !parsed)
    return std::unexpected(parsed.error());
  const pugi::xml_node message =
      descendant(doc.document_element(), "GetUserSettingsResponseMessage");
  const pugi::xml_node user = descendant(message, "UserResponse");
  const std::string code = child_text(user, "ErrorCode");
  if (code == "RedirectAddress") return "redirect:" + child_text(user, "RedirectTarget");
  if (!code.empty() && code != "NoError") {
    return fail(ErrorKind::kPermanent,
                fmt::format("Autodiscover error {}: {}", code, child_text(user, "ErrorMessage")));
  }
  std::string internal;
  std::string external;
  for (const pugi::xml_node setting : child(user, "UserSettings").children()) {
    const std::string name = child_text(setting, "Name");
    if (name == "InternalEwsUrl") internal = child_text(setting, "Value");
    if (name == "ExternalEwsUrl") external = child_text(setting, "Value");
  }
  if (!internal.empty()) return internal;
  if (!external.empty()) return external;
  const std::string top = child_text(message, "ErrorCode");
  return fail(ErrorKind::kPermanent,
              fmt::format("the Autodiscover answer names no EWS URL{}",
                          top.empty() || top == "NoError" ? "" : " (" + top + ")"));
}

Result<AutodiscoverResult> autodiscover(net::HttpClient& http, const net::Credentials& credentials,
                                        std::string_view email, std::vector<std::string> bases) {
  AutodiscoverResult result;
  std::string address(email);
  for (int redirect = 0; redirect <= kMaxRedirects; ++redirect) {
    const std::vector<std::string> candidates = bases.empty() ? autodiscover_bases(address) : bases;
    std::string redirect_to;
    for (const bool soap : {false, true}) {
      for (const std::string& base : candidates) {
        const std::string url =
            base + (soap ? "/autodiscover/autodiscover.svc" : "/autodiscover/autodiscover.xml");
        net::Request request;
        request.url = url;
        request.body =
            soap ? build_soap_autodiscover(address, url) : build_pox_autodiscover(address);
        request.headers = {{"Content-Type", "text/xml; charset=utf-8"}};
        const auto response = http.send(request, credentials);
        std::string outcome;
        if (!response) {
          outcome = response.error().message;
        } else if (response->status != 200) {
          outcome = fmt::format("HTTP {}", response->status);
        } else {
          auto url_found = soap ? parse_soap_autodiscover(response->body)
                                : parse_pox_autodiscover(response->body);
          if (url_found && url_found->starts_with("redirect:")) {
            redirect_to = url_found->substr(9);
            outcome = "redirects to " + redirect_to;
          } else if (url_found) {
            result.tried.push_back(
                fmt::format("{} ({}): EWS URL {}", url, soap ? "SOAP" : "POX", *url_found));
            result.ews_url = *url_found;
            return result;
          } else {
            outcome = url_found.error().message;
          }
        }
        result.tried.push_back(fmt::format("{} ({}): {}", url, soap ? "SOAP" : "POX", outcome));
        if (!redirect_to.empty()) break;
      }
      if (!redirect_to.empty()) break;
    }
    if (redirect_to.empty() || redirect_to == address) break;
    address = redirect_to;
  }
  std::string list;
  for (const std::string& line : result.tried) list += "\n  - " + line;
  return fail(
      ErrorKind::kPermanent,
      fmt::format("Autodiscover found no EWS URL for {}. Addresses tried:{}\nSet [exchange] url "
                  "(https://<server>/EWS/Exchange.asmx) and [exchange] autodiscover = false, or "
                  "fix the autodiscover DNS record.",
                  email, list));
}

}  // namespace agendasync::ews
