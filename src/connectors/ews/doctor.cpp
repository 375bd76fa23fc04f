#include "connectors/ews/doctor.h"

#include <set>

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "connectors/ews/errors.h"
#include "connectors/ews/ews_side.h"
#include "connectors/ews/grouping.h"
#include "net/connection_check.h"
#include "net/server_address.h"

namespace agendasync::ews {

namespace {

std::string not_run_remedy();

DoctorCheck not_run(const std::string& check, const std::string& why) {
  return DoctorCheck{check, false, "not run: " + why, not_run_remedy()};
}

std::string version_name(int major, int minor) {
  if (major == 15 && minor == 0) return "Exchange 2013";
  if (major == 15 && minor == 1) return "Exchange 2016";
  if (major == 15 && minor >= 2) return "Exchange 2019";
  if (major > 15) return fmt::format("Exchange {}.{}", major, minor);
  return fmt::format("Exchange {}.{} (2010 or older)", major, minor);
}

/// The step named `name` of net::check_connection's answer, if it ran.
const net::CheckResult* step(const std::vector<net::CheckResult>& steps, std::string_view name) {
  auto found = std::find_if(steps.begin(), steps.end(),
                            [&](const net::CheckResult& r) { return r.name == name; });
  return found == steps.end() ? nullptr : &*found;
}

/// What went wrong in a failed step: net puts it in the remedy, with the detail empty.
std::string failure_of(const net::CheckResult& r) {
  if (r.detail.empty()) return r.remedy;
  if (r.remedy.empty()) return r.detail;
  return r.detail + ": " + r.remedy;
}

// Every remedy that names a setting writes it as the configuration file spells it,
// `[section] key` (and `= "value"`): remedy_catalogue() lists them all and a test parses each
// named setting with the configuration parser.
std::string not_run_remedy() { return "fix the failed check above first"; }
std::string dns_remedy() {
  return "check [exchange] url (https://<server>/EWS/Exchange.asmx) and the DNS record of the "
         "server";
}
std::string tcp_remedy(const std::string& host, const std::string& port) {
  return fmt::format(
      "allow outbound TCP to {} port {} (firewall); a proxy in between goes in [tls] proxy", host,
      port);
}
std::string plain_http_remedy() {
  return "use https:// in [exchange] url: AgendaSync requires TLS 1.2 or newer (plain http is "
         "accepted for a loopback test server only)";
}
std::string tls_remedy() {
  return "the server needs TLS 1.2 or newer and a certificate the client trusts; for a private "
         "CA set [tls] ca_bundle to the CA's PEM file";
}
std::string auth_remedy(const std::string& user, std::string_view method) {
  return fmt::format(
      "check [exchange] user ('{}'), [exchange] domain and the password in [exchange] "
      "password_file (or password_env), and that {} authentication is enabled on the EWS "
      "virtual directory ([exchange] auth = \"{}\")",
      user, method,
      method == "Basic"    ? "basic"
      : method == "Bearer" ? "oauth"
                           : "ntlm");
}
std::string grouping_remedy() {
  return "let the daemon reach Autodiscover (https://autodiscover.<mail domain>/autodiscover/"
         "autodiscover.svc, or the EWS server's own /autodiscover/autodiscover.svc) with the "
         "service account in [exchange] user: without GroupingInformation, streaming "
         "subscriptions are grouped by [exchange] url alone";
}
std::string no_version_remedy() { return "check that [exchange] url points at Exchange"; }
std::string old_server_remedy() { return "AgendaSync needs Exchange 2013 or newer"; }
/// Exchange 2013 reports 15.0; SP1 is build 15.0.847 and later.
std::string version_mismatch_remedy(int major_build) {
  return fmt::format("set [exchange] version = \"{}\" for this server",
                     major_build >= 847 ? "2013-sp1" : "2013");
}

}  // namespace

std::vector<std::string> remedy_catalogue() {
  std::vector<std::string> all = {not_run_remedy(),
                                  grouping_remedy(),
                                  dns_remedy(),
                                  tcp_remedy("mail.example.com", "443"),
                                  plain_http_remedy(),
                                  tls_remedy(),
                                  no_version_remedy(),
                                  old_server_remedy(),
                                  version_mismatch_remedy(0),
                                  version_mismatch_remedy(847)};
  for (const char* method : {"NTLM", "Basic", "Bearer"}) {
    all.push_back(auth_remedy("svc-agendasync", method));
  }
  // The version setting's own refusals.
  for (const char* setting : {"2010", "Exchange 2099"}) {
    all.push_back(parse_server_version(setting).error().message);
  }
  // The impersonation and calendar rows carry the error table's messages as their remedy.
  for (auto& message : error_messages_for_catalogue()) all.push_back(std::move(message));
  return all;
}

namespace {

/// Real time at scale (issue 14): Autodiscover's GroupingInformation says which mailboxes may
/// share a streaming connection. Its absence is a warning: grouping by URL still works on
/// one mailbox server.
DoctorCheck grouping_check(net::HttpClient& http, const DoctorInput& input) {
  const std::string& first = input.mailboxes.front();
  const auto at = first.rfind('@');
  const auto endpoints = grouping_endpoints(
      input.endpoint,
      at == std::string::npos ? std::string_view() : std::string_view(first).substr(at + 1));
  const auto found = lookup_grouping(http, input.credentials, endpoints, input.mailboxes);
  if (!found) return {"streaming groups", true, found.error().message, grouping_remedy(), true};
  std::set<std::string> groups;
  for (const auto& [mailbox, grouping] : found->found) groups.insert(grouping.grouping);
  return {"streaming groups", true,
          fmt::format("Autodiscover ({}) places {} mailboxes in {} group(s) by GroupingInformation",
                      found->endpoint, found->found.size(), groups.size()),
          ""};
}

}  // namespace

std::vector<DoctorCheck> run_ews_doctor(net::HttpClient& http, const DoctorInput& input) {
  std::vector<DoctorCheck> checks;
  const auto server = net::parse_server_address(input.endpoint);
  const std::string host = server ? server->host : "";
  const std::string port = server ? std::to_string(server->port) : "";
  const std::vector<std::string> later{"tcp", "tls", "auth", "server-version"};
  const auto skip_rest = [&](std::size_t from, const std::string& why) {
    for (std::size_t i = from; i < later.size(); ++i) checks.push_back(not_run(later[i], why));
    for (const std::string& mailbox : input.mailboxes) {
      checks.push_back(not_run("impersonation " + mailbox, why));
      checks.push_back(not_run("calendar " + mailbox, why));
    }
  };

  // DNS, TCP, TLS version and certificate: net's transport check, with the TLS and proxy
  // settings the sync itself uses.
  const std::vector<net::CheckResult> steps =
      server ? net::check_connection(input.endpoint, input.connection)
             : std::vector<net::CheckResult>{};
  const net::CheckResult* dns = step(steps, "DNS");
  if (!server || !dns || !dns->passed) {
    checks.push_back({"dns", false,
                      !server ? server.error().message
                      : !dns  ? "cannot resolve '" + host + "'"
                              : failure_of(*dns),
                      dns_remedy()});
    skip_rest(0, "no DNS");
    return checks;
  }
  // net writes "host -> 10.0.0.1, ..."; doctor's lines read as sentences.
  std::string resolved = dns->detail;
  if (auto arrow = resolved.find(" -> "); arrow != std::string::npos) {
    resolved.replace(arrow, 4, " resolves to ");
  }
  checks.push_back({"dns", true, resolved, ""});

  const net::CheckResult* tcp = step(steps, "TCP");
  if (!tcp || !tcp->passed) {
    checks.push_back({"tcp", false,
                      tcp ? failure_of(*tcp) : fmt::format("cannot connect to {}:{}", host, port),
                      tcp_remedy(host, port)});
    skip_rest(1, "no TCP connection");
    return checks;
  }
  checks.push_back({"tcp", true, tcp->detail, ""});

  // One rule with the configuration: plain http only to a loopback server (tests, exsim),
  // and then as a warning that lets the later checks run, since the sync would run too.
  const bool plain_http = server->scheme != "https";
  if (plain_http && !net::is_loopback_host(server->host)) {
    checks.push_back({"tls", false, "the EWS URL does not use https", plain_http_remedy()});
    skip_rest(2, "no TLS");
    return checks;
  }
  if (plain_http) {
    checks.push_back({"tls", true,
                      "plain http to a loopback server: accepted for tests only, never for a real "
                      "Exchange",
                      plain_http_remedy(), /*warning=*/true});
  }
  const net::CheckResult* version = step(steps, "TLS version");
  const net::CheckResult* certificate = step(steps, "TLS certificate");
  if (plain_http) {
    // No TLS to check.
  } else if (!version || !certificate || !version->passed || !certificate->passed) {
    std::string what = "no TLS handshake";
    if (version && !version->passed) {
      what = failure_of(*version);
    } else if (certificate && !certificate->passed) {
      what = failure_of(*certificate);
    }
    checks.push_back({"tls", false, what, tls_remedy()});
    skip_rest(2, "no TLS connection");
    return checks;
  } else {
    checks.push_back(
        {"tls", true,
         fmt::format("{} with a trusted certificate: {}", version->detail, certificate->detail),
         ""});
  }

  // Authentication and server version: one EWS call as the service account itself.
  EwsSideOptions own;
  own.endpoint = input.endpoint;
  own.credentials = input.credentials;
  own.context = RequestContext{input.version, AccessMode::kDelegate, input.credentials.user};
  own.max_throttle_waits = 0;
  EwsCalendarSide service(http, own);
  auto login = service.call(build_get_calendar_folder(own.context));
  // A server older than the configured version refuses the request itself
  // (ErrorInvalidServerVersion), which proves the login worked. Ask again as Exchange 2013,
  // which every supported server speaks, to learn from ServerVersionInfo what it runs.
  bool version_refused = false;
  if (!login && login.error().protocol_code == "ErrorInvalidServerVersion") {
    version_refused = true;
    EwsSideOptions oldest = own;
    oldest.context.version = ServerVersion::kExchange2013;
    EwsCalendarSide probe(http, oldest);
    if (auto answered = probe.call(build_get_calendar_folder(oldest.context)); answered) {
      login = std::move(answered);
    }
  }
  if (!login && (login.error().kind == ErrorKind::kAuth || login.error().protocol_code == "401")) {
    checks.push_back(
        {"auth", false, login.error().message,
         auth_remedy(input.credentials.user, net::to_string(input.credentials.method))});
    skip_rest(3, "not logged in");
    return checks;
  }
  if (!login) {
    checks.push_back({"auth", false, login.error().message, "see the message"});
    skip_rest(3, "no EWS answer");
    return checks;
  }
  checks.push_back({"auth", true,
                    fmt::format("'{}' logged in with {}", input.credentials.user,
                                net::to_string(input.credentials.method)),
                    ""});
  if (!login->server_version) {
    checks.push_back(
        {"server-version", false, "the server sent no ServerVersionInfo", no_version_remedy()});
  } else {
    const auto& v = *login->server_version;
    const std::string name = version_name(v.major, v.minor);
    const bool supported = v.major >= 15;
    const bool matches = !version_refused && (v.major > 15 || (v.major == 15 && v.minor >= 1) ||
                                              input.version != ServerVersion::kExchange2016);
    checks.push_back(
        {"server-version", supported && matches,
         fmt::format("{} (build {}.{}.{}.{}), requests use {}", name, v.major, v.minor,
                     v.major_build, v.minor_build, request_server_version(input.version)),
         !supported ? old_server_remedy()
         : !matches ? version_mismatch_remedy(v.major_build)
                    : ""});
  }

  if (version_refused) {
    for (const std::string& mailbox : input.mailboxes) {
      checks.push_back(not_run("impersonation " + mailbox, "the server refused the version"));
      checks.push_back(not_run("calendar " + mailbox, "the server refused the version"));
    }
    return checks;
  }

  // Per mailbox: the impersonation right (or delegate access), then the calendar.
  for (const std::string& mailbox : input.mailboxes) {
    EwsSideOptions options = own;
    options.context = RequestContext{input.version, input.mode, mailbox};
    EwsCalendarSide side(http, options);
    const auto folder = side.call(build_get_calendar_folder(options.context));
    Result<void> outcome;
    if (!folder) {
      outcome = std::unexpected(folder.error());
    } else if (!folder->messages.empty() && !folder->messages.front().ok()) {
      outcome = std::unexpected(side.message_error(folder->messages.front()));
    }
    const std::string access =
        input.mode == AccessMode::kImpersonation ? "impersonation " : "delegate access ";
    if (!outcome) {
      const Error& e = outcome.error();
      const bool right_missing = e.kind == ErrorKind::kPermission || e.kind == ErrorKind::kNotFound;
      checks.push_back({"impersonation " + mailbox, !right_missing,
                        right_missing ? e.protocol_code : access + "accepted",
                        right_missing ? e.message : ""});
      checks.push_back({"calendar " + mailbox, false,
                        e.protocol_code.empty() ? e.message : e.protocol_code, e.message});
      continue;
    }
    checks.push_back({"impersonation " + mailbox, true, access + "accepted", ""});
    // Reading the calendar's change feed proves the right to read items, not just the folder.
    const auto changes = side.call(build_sync_folder_items(options.context, "", 1));
    if (changes && !changes->messages.empty() && changes->messages.front().ok()) {
      checks.push_back({"calendar " + mailbox, true, "calendar folder and items readable", ""});
    } else {
      const Error e = changes ? side.message_error(changes->messages.front()) : changes.error();
      checks.push_back({"calendar " + mailbox, false, e.protocol_code, e.message});
    }
  }
  if (!input.mailboxes.empty()) checks.push_back(grouping_check(http, input));
  return checks;
}

std::string format_doctor_report(const std::vector<DoctorCheck>& checks) {
  std::string out;
  for (const DoctorCheck& c : checks) {
    out += fmt::format("{} {}: {}",
                       c.warning ? "WARN"
                       : c.pass  ? "PASS"
                                 : "FAIL",
                       c.check, c.detail);
    if ((!c.pass || c.warning) && !c.remedy.empty()) out += " -> " + c.remedy;
    out += "\n";
  }
  return out;
}

}  // namespace agendasync::ews
