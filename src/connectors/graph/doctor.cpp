#include "connectors/graph/doctor.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "connectors/graph/errors.h"
#include "connectors/graph/event_json.h"
#include "connectors/graph/url.h"
#include "core/time_zone.h"

namespace agendasync::graph {
namespace {

using nlohmann::json;

/// GET `path` below the version root; the parsed body or the mapped error.
Result<json> get(net::HttpClient& http, const net::Credentials& credentials,
                 const std::string& base_url, const std::string& path, std::string_view what) {
  net::Request request;
  request.method = "GET";
  request.url = base_url + path;
  request.headers = {{"Accept", "application/json"}};
  auto response = http.send(request, credentials);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200) return std::unexpected(graph_error(*response, what));
  auto body = json::parse(response->body, nullptr, false);
  if (!body.is_object()) return fail(ErrorKind::kTransient, "Graph answered with unreadable JSON");
  return body;
}

std::string remedy_for(const Error& error, const std::string& mailbox) {
  switch (error.kind) {
    case ErrorKind::kNotFound:
      return fmt::format(
          "no Exchange Online user {}: check the user's deviating mailbox address, or "
          "[exchange] mail_domain",
          mailbox);
    case ErrorKind::kPermission:
      return "grant Calendars.ReadWrite, User.Read.All and MailboxSettings.Read as application "
             "permissions with admin consent; check application access policies "
             "(New-ApplicationAccessPolicy) that exclude this mailbox";
    case ErrorKind::kUnsupported:
      return "the mailbox is not in Exchange Online (on-premises or unlicensed): sync it "
             "through EWS or assign an Exchange Online licence";
    default:
      return error.message;
  }
}

std::string token_remedy(const AppCredentials& app) {
  return fmt::format(
      "fix [graph] tenant_id, [graph] client_id and the app's secret or certificate; admin "
      "consent: {}",
      admin_consent_url(app));
}

}  // namespace

std::vector<std::string> remedy_catalogue() {
  AppCredentials app;
  app.tenant = "11111111-2222-3333-4444-555555555555";
  app.client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  std::vector<std::string> all = {token_remedy(app), "check the token's issuer",
                                  "fix the token first",
                                  "set the mailbox time zone in Outlook on the web > Settings > "
                                  "Calendar"};
  for (ErrorKind kind : {ErrorKind::kNotFound, ErrorKind::kPermission, ErrorKind::kUnsupported}) {
    all.push_back(remedy_for(Error::make(kind, "sample"), "jdoe@example.com"));
  }
  for (auto& advice : token_advice_catalogue(app)) all.push_back(std::move(advice));
  for (auto& advice : error_advice_catalogue()) all.push_back(std::move(advice));
  return all;
}

std::vector<DoctorCheck> run_graph_doctor(net::HttpClient& http, TokenProvider& tokens,
                                          const DoctorInput& input) {
  std::vector<DoctorCheck> checks;
  std::string base = input.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto token = tokens.token();
  if (!token) {
    checks.push_back({"token", false, token.error().message, token_remedy(tokens.app())});
  } else {
    checks.push_back({"token",
                      true,
                      fmt::format("app {} got a token from {}", tokens.app().client_id,
                                  token_endpoint(tokens.app())),
                      {}});
    auto roles = tokens.roles();
    if (!roles) {
      checks.push_back({"roles", false, roles.error().message, "check the token's issuer"});
    } else if (auto ok = check_roles(*roles, tokens.app()); !ok) {
      checks.push_back({"roles", false, fmt::format("granted: {}", fmt::join(*roles, ", ")),
                        ok.error().message});
    } else {
      checks.push_back({"roles", true, fmt::format("granted: {}", fmt::join(*roles, ", ")), {}});
    }
  }
  // Printed every time: the admin needs it once, when registering the app or adding a role.
  checks.push_back({"admin consent",
                    true,
                    fmt::format("a global administrator grants the app's permissions for the "
                                "tenant at {}",
                                admin_consent_url(tokens.app())),
                    {}});
  const net::Credentials credentials = tokens.credentials();
  for (const auto& mailbox : input.mailboxes) {
    const std::string user = "/users/" + url_encode(mailbox);
    if (!token) {
      checks.push_back({"mailbox " + mailbox, false, "not run: no token", "fix the token first"});
      continue;
    }
    auto found = get(http, credentials, base, user + "?$select=id,mail,userPrincipalName",
                     "reading the user " + mailbox);
    if (!found) {
      checks.push_back(
          {"mailbox " + mailbox, false, found.error().message, remedy_for(found.error(), mailbox)});
      continue;
    }
    checks.push_back(
        {"mailbox " + mailbox, true, fmt::format("user id {}", string_at(*found, "id")), {}});
    auto calendar = get(http, credentials, base, user + "/calendar?$select=id,name",
                        "reading the calendar of " + mailbox);
    if (!calendar) {
      checks.push_back({"calendar " + mailbox, false, calendar.error().message,
                        remedy_for(calendar.error(), mailbox)});
    } else {
      checks.push_back({"calendar " + mailbox,
                        true,
                        fmt::format("calendar \"{}\"", string_at(*calendar, "name")),
                        {}});
    }
    auto zone = get(http, credentials, base, user + "/mailboxSettings/timeZone",
                    "reading the mailbox time zone of " + mailbox);
    if (!zone) {
      checks.push_back(
          {"time zone " + mailbox, false, zone.error().message, remedy_for(zone.error(), mailbox)});
      continue;
    }
    const std::string name = string_at(*zone, "value");
    if (auto iana = normalize_zone(name); iana) {
      checks.push_back({"time zone " + mailbox, true, fmt::format("{} ({})", name, *iana), {}});
    } else {
      checks.push_back({"time zone " + mailbox, false,
                        fmt::format("unknown mailbox time zone \"{}\"", name),
                        "set the mailbox time zone in Outlook on the web > Settings > Calendar"});
    }
  }
  return checks;
}

std::string format_doctor_report(const std::vector<DoctorCheck>& checks) {
  std::string out;
  for (const auto& check : checks) {
    out += fmt::format("{} {}: {}", check.pass ? "PASS" : "FAIL", check.check, check.detail);
    if (!check.pass && !check.remedy.empty()) out += " -> " + check.remedy;
    out += '\n';
  }
  return out;
}

}  // namespace agendasync::graph
