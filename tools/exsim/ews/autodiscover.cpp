#include "exsim/ews/autodiscover.h"

#include <sstream>

#include <fmt/format.h>
#include <httplib.h>
#include <pugixml.hpp>

#include "exsim/store/xml_util.h"

namespace exsim {
namespace {

// What on-premises Autodiscover knows of an address: nothing, a mailbox it serves, or the
// remote mailbox of one moved to Exchange Online (whose target address it redirects to).
struct Placement {
  bool known = false;
  std::string redirect;  // the target address when the mailbox moved online
};

Placement place(Store& store, std::string_view address) {
  std::lock_guard lock(store.mutex());
  const Mailbox* mb = store.find_mailbox(address);
  if (!mb) return {};
  if (served_on_premises(*mb)) return {true, ""};
  return {true, mb->target_address};
}

// The GroupingInformation of a configured mailbox: its Mailbox server's.
std::string grouping_information(const MailboxServers& servers, std::string_view address) {
  auto server = servers.server_of(address);
  return server ? servers.all()[static_cast<size_t>(*server)].grouping_information : "";
}

std::string serialise(const pugi::xml_document& doc) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

}  // namespace

std::string pox_autodiscover_response(std::string_view body, Store& store,
                                      const MailboxServers& servers, const std::string& base_url) {
  pugi::xml_document req;
  std::string email;
  if (body.find("<!DOCTYPE") == std::string_view::npos &&
      req.load_buffer(body.data(), body.size())) {
    email = child_text(child(req.document_element(), "Request"), "EMailAddress");
  }
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Autodiscover");
  root.append_attribute("xmlns") =
      "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
  pugi::xml_node resp = root.append_child("Response");
  resp.append_attribute("xmlns") =
      "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
  const Placement placement = place(store, email);
  if (!placement.redirect.empty()) {
    // A mailbox moved to Exchange Online: the on-premises object is a remote mailbox whose
    // targetAddress (user@<tenant>.mail.onmicrosoft.com) the client must ask about next, in
    // an Account with Action redirectAddr and RedirectAddr (Action (POX), RedirectAddr (POX);
    // [MS-OXDSCLI] 4.2 shows exactly this response). What happens in a hybrid deployment:
    // learn.microsoft.com/archive/blogs/modonovan/outlook-profile-doesnt-resolve-via-autodiscover-for-user-mailbox-moved-to-office-365
    // learn.microsoft.com/exchange/client-developer/web-service-reference/action-pox
    // learn.microsoft.com/exchange/client-developer/web-service-reference/redirectaddr-pox
    // learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxdscli/49083e77-8dc2-4010-85c6-f40e090f3b17
    pugi::xml_node account = resp.append_child("Account");
    add_text(account, "Action", "redirectAddr");
    add_text(account, "RedirectAddr", placement.redirect);
    return serialise(doc);
  }
  if (!placement.known) {
    pugi::xml_node err = resp.append_child("Error");
    err.append_attribute("Time") = "00:00:00.0000000";
    err.append_attribute("Id") = "2477272013";
    add_text(err, "ErrorCode", "500");
    add_text(err, "Message", "The email address can't be found.");
    err.append_child("DebugData");
    return serialise(doc);
  }
  std::string ews = base_url + "/EWS/Exchange.asmx";
  pugi::xml_node user = resp.append_child("User");
  add_text(user, "DisplayName", email.substr(0, email.find('@')));
  add_text(user, "LegacyDN",
           fmt::format("/o=exsim/ou=Exchange Administrative Group/cn=Recipients/cn={}", email));
  add_text(user, "AutoDiscoverSMTPAddress", email);
  add_text(user, "DeploymentId", "1c3e3f2e-7d1a-4d5b-9a51-0e1f00e75b1a");
  pugi::xml_node account = resp.append_child("Account");
  add_text(account, "AccountType", "email");
  add_text(account, "Action", "settings");
  add_text(account, "MicrosoftOnline", "False");
  for (const char* type : {"EXCH", "EXPR"}) {
    pugi::xml_node p = account.append_child("Protocol");
    add_text(p, "Type", type);
    add_text(p, "Server", "exsim.local");
    add_text(p, "ASUrl", ews);
    add_text(p, "EwsUrl", ews);
    add_text(p, "EmwsUrl", ews);
    add_text(p, "OOFUrl", ews);
    // GroupingInformation "is only applicable to Protocol elements that have a Type (POX)
    // child element with a value of EXPR"; mailboxes with equal values (and EWS URL) may share
    // a group of subscriptions.
    // learn.microsoft.com/exchange/client-developer/web-service-reference/groupinginformation-pox
    if (std::string_view(type) == "EXPR") {
      add_text(p, "GroupingInformation", grouping_information(servers, email));
    }
  }
  return serialise(doc);
}

std::string soap_autodiscover_response(std::string_view body, const ServerConfig& config,
                                       Store& store, const MailboxServers& servers,
                                       const std::string& base_url) {
  constexpr const char* kNs = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
  pugi::xml_document req;
  std::vector<std::string> mailboxes;
  std::vector<std::string> settings;
  if (body.find("<!DOCTYPE") == std::string_view::npos &&
      req.load_buffer(body.data(), body.size())) {
    pugi::xml_node r =
        child(child(child(child(req.document_element(), "Body"), "GetUserSettingsRequestMessage"),
                    "Request"),
              "Users");
    for (pugi::xml_node u : children(r, "User")) mailboxes.push_back(child_text(u, "Mailbox"));
    pugi::xml_node req_node = child(
        child(child(req.document_element(), "Body"), "GetUserSettingsRequestMessage"), "Request");
    for (pugi::xml_node s : children(child(req_node, "RequestedSettings"), "Setting")) {
      settings.push_back(s.text().as_string());
    }
  }
  pugi::xml_document doc;
  pugi::xml_node env = doc.append_child("s:Envelope");
  env.append_attribute("xmlns:s") = kSoapNs;
  env.append_attribute("xmlns:a") = "http://www.w3.org/2005/08/addressing";
  pugi::xml_node header = env.append_child("s:Header");
  pugi::xml_node action = add_text(header, "a:Action",
                                   "http://schemas.microsoft.com/exchange/2010/Autodiscover/"
                                   "Autodiscover/GetUserSettingsResponse");
  action.append_attribute("s:mustUnderstand") = "1";
  pugi::xml_node svi = header.append_child("h:ServerVersionInfo");
  svi.append_attribute("xmlns:h") = kNs;
  svi.append_attribute("xmlns:i") = "http://www.w3.org/2001/XMLSchema-instance";
  add_text(svi, "h:MajorVersion", std::to_string(config.version.major));
  add_text(svi, "h:MinorVersion", std::to_string(config.version.minor));
  add_text(svi, "h:MajorBuildNumber", std::to_string(config.version.major_build));
  add_text(svi, "h:MinorBuildNumber", std::to_string(config.version.minor_build));
  add_text(svi, "h:Version", config.version.name);
  pugi::xml_node msg = env.append_child("s:Body").append_child("GetUserSettingsResponseMessage");
  msg.append_attribute("xmlns") = kNs;
  pugi::xml_node resp = msg.append_child("Response");
  resp.append_attribute("xmlns:i") = "http://www.w3.org/2001/XMLSchema-instance";
  add_text(resp, "ErrorCode", "NoError");
  resp.append_child("ErrorMessage");
  pugi::xml_node users = resp.append_child("UserResponses");
  std::string ews = base_url + "/EWS/Exchange.asmx";
  for (const std::string& m : mailboxes) {
    pugi::xml_node ur = users.append_child("UserResponse");
    const Placement placement = place(store, m);
    if (!placement.redirect.empty()) {
      // The SOAP form of the same redirect: the user's ErrorCode RedirectAddress with the
      // address in RedirectTarget, no settings (ErrorCode (SOAP), UserResponse (SOAP)).
      // learn.microsoft.com/exchange/client-developer/web-service-reference/errorcode-soap
      // learn.microsoft.com/exchange/client-developer/web-service-reference/userresponse-soap
      add_text(ur, "ErrorCode", "RedirectAddress");
      add_text(ur, "ErrorMessage", "Redirection address.");
      add_text(ur, "RedirectTarget", placement.redirect);
      ur.append_child("UserSettingErrors");
      ur.append_child("UserSettings");
      continue;
    }
    if (!placement.known) {
      add_text(ur, "ErrorCode", "InvalidUser");
      add_text(ur, "ErrorMessage", fmt::format("Invalid user: '{}'", m));
      ur.append_child("RedirectTarget").append_attribute("i:nil") = "true";
      ur.append_child("UserSettingErrors");
      ur.append_child("UserSettings");
      continue;
    }
    add_text(ur, "ErrorCode", "NoError");
    add_text(ur, "ErrorMessage", "No error.");
    ur.append_child("RedirectTarget").append_attribute("i:nil") = "true";
    ur.append_child("UserSettingErrors");
    pugi::xml_node us = ur.append_child("UserSettings");
    auto add_setting = [&](const char* name, const std::string& value) {
      if (!settings.empty() && std::find(settings.begin(), settings.end(), name) == settings.end())
        return;
      pugi::xml_node s = us.append_child("UserSetting");
      s.append_attribute("i:type") = "StringSetting";
      add_text(s, "Name", name);
      add_text(s, "Value", value);
    };
    add_setting("AutoDiscoverSMTPAddress", m);
    add_setting("UserDisplayName", m.substr(0, m.find('@')));
    add_setting("InternalEwsUrl", ews);
    add_setting("ExternalEwsUrl", ews);
    add_setting("CasVersion",
                fmt::format("{}.{:02}.{:04}.{:03}", config.version.major, config.version.minor,
                            config.version.major_build, config.version.minor_build));
    // The GroupingInformation user setting: with ExternalEwsUrl, it says which mailboxes may
    // share one group of notification subscriptions (Maintain affinity..., step 1).
    // learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
    add_setting("GroupingInformation", grouping_information(servers, m));
    add_setting("EwsSupportedSchemas",
                "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, "
                "Exchange2013, Exchange2013_SP1");
  }
  return serialise(doc);
}

void install_autodiscover_routes(httplib::Server& http, const ServerConfig& config, Store& store,
                                 const MailboxServers& servers,
                                 std::function<std::string()> base_url,
                                 std::function<AuthOutcome(const httplib::Request&)> authenticate) {
  auto guarded = [authenticate](auto answer) {
    return [authenticate, answer](const httplib::Request& req, httplib::Response& res) {
      AuthOutcome auth = authenticate(req);
      if (!auth.account) {
        res.status = 401;
        for (const std::string& c : auth.www_authenticate)
          res.headers.emplace("WWW-Authenticate", c);
        res.set_content("", "text/html");
        return;
      }
      res.set_content(answer(req.body), "text/xml; charset=utf-8");
    };
  };
  auto pox = guarded([&store, &servers, base_url](const std::string& body) {
    return pox_autodiscover_response(body, store, servers, base_url());
  });
  auto soap = guarded([&config, &store, &servers, base_url](const std::string& body) {
    return soap_autodiscover_response(body, config, store, servers, base_url());
  });
  for (const char* prefix :
       {"/autodiscover/autodiscover", "/Autodiscover/Autodiscover", "/AutoDiscover/AutoDiscover"}) {
    http.Post(std::string(prefix) + ".xml", pox);
    http.Post(std::string(prefix) + ".svc", soap);
  }
}

}  // namespace exsim
