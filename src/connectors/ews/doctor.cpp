#include "connectors/ews/doctor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "connectors/ews/errors.h"
#include "connectors/ews/ews_side.h"

namespace agendasync::ews {

namespace {

struct UrlParts {
  std::string scheme;
  std::string host;
  std::string port;
};

UrlParts split_url(const std::string& url) {
  UrlParts parts;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return parts;
  parts.scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  if (const auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    parts.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') parts.port = rest.substr(close + 2);
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    parts.host = rest.substr(0, colon);
    parts.port = rest.substr(colon + 1);
  } else {
    parts.host = rest;
  }
  if (parts.port.empty()) parts.port = parts.scheme == "http" ? "80" : "443";
  return parts;
}

/// Addresses of `host`, or the resolver's error.
std::pair<std::vector<std::string>, std::string> resolve(const UrlParts& url) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found);
  if (rc != 0) return {{}, gai_strerror(rc)};
  std::vector<std::string> out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    inet_ntop(a->ai_family, addr, text, sizeof text);
    out.emplace_back(text);
  }
  freeaddrinfo(found);
  return {out, {}};
}

/// Opens (and closes) a TCP connection within 5 seconds; empty on success, else the reason.
std::string tcp_connect(const UrlParts& url) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found) != 0) return "no address";
  std::string reason = "no address answered";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = poll(&p, 1, 5000) == 1 ? 0 : -1;
      int error = 0;
      socklen_t length = sizeof error;
      if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error != 0) {
        errno = error;
        rc = -1;
      } else if (rc != 0) {
        errno = ETIMEDOUT;
      }
    }
    const int saved = errno;
    close(fd);
    if (rc == 0) {
      freeaddrinfo(found);
      return {};
    }
    reason = std::strerror(saved);
  }
  freeaddrinfo(found);
  return reason;
}

DoctorCheck not_run(const std::string& check, const std::string& why) {
  return DoctorCheck{check, false, "not run: " + why, "fix the failed check above first"};
}

std::string version_name(int major, int minor) {
  if (major == 15 && minor == 0) return "Exchange 2013";
  if (major == 15 && minor == 1) return "Exchange 2016";
  if (major == 15 && minor >= 2) return "Exchange 2019";
  if (major > 15) return fmt::format("Exchange {}.{}", major, minor);
  return fmt::format("Exchange {}.{} (2010 or older)", major, minor);
}

}  // namespace

std::vector<DoctorCheck> run_ews_doctor(net::HttpClient& http, const DoctorInput& input) {
  std::vector<DoctorCheck> checks;
  const UrlParts url = split_url(input.endpoint);
  const std::vector<std::string> later{"tcp", "tls", "auth", "server-version"};
  const auto skip_rest = [&](std::size_t from, const std::string& why) {
    for (std::size_t i = from; i < later.size(); ++i) checks.push_back(not_run(later[i], why));
    for (const std::string& mailbox : input.mailboxes) {
      checks.push_back(not_run("impersonation " + mailbox, why));
      checks.push_back(not_run("calendar " + mailbox, why));
    }
  };

  // DNS
  const auto [addresses, dns_error] = resolve(url);
  if (url.host.empty() || addresses.empty()) {
    checks.push_back({"dns", false,
                      fmt::format("cannot resolve '{}': {}", url.host,
                                  url.host.empty() ? "no host in the EWS URL" : dns_error),
                      "check the EWS URL setting (https://<server>/EWS/Exchange.asmx) and the DNS "
                      "record of the server"});
    skip_rest(0, "no DNS");
    return checks;
  }
  std::string list;
  for (const std::string& a : addresses) list += (list.empty() ? "" : ", ") + a;
  checks.push_back({"dns", true, fmt::format("{} resolves to {}", url.host, list), ""});

  // TCP
  if (const std::string reason = tcp_connect(url); !reason.empty()) {
    checks.push_back({"tcp", false,
                      fmt::format("cannot connect to {}:{}: {}", url.host, url.port, reason),
                      fmt::format("allow outbound TCP to {} port {} (firewall, proxy setting)",
                                  url.host, url.port)});
    skip_rest(1, "no TCP connection");
    return checks;
  }
  checks.push_back({"tcp", true, fmt::format("connected to {}:{}", url.host, url.port), ""});

  // TLS version and certificate: an anonymous request; any HTTP answer proves the handshake.
  if (url.scheme != "https") {
    checks.push_back({"tls", false, "the EWS URL does not use https",
                      "use https:// in the EWS URL: AgendaSync requires TLS 1.2 or newer"});
    skip_rest(2, "no TLS");
    return checks;
  }
  net::Request probe;
  probe.url = input.endpoint;
  probe.method = "GET";
  const auto tls = http.send(probe, net::Credentials{});
  // A 401 to the anonymous probe still proves the handshake and the certificate.
  if (!tls && tls.error().kind != ErrorKind::kAuth) {
    checks.push_back({"tls", false, tls.error().message,
                      "the server needs TLS 1.2 or newer and a certificate the client trusts; "
                      "for a private CA set the CA bundle path in the connection settings"});
    skip_rest(2, "no TLS connection");
    return checks;
  }
  checks.push_back(
      {"tls", true,
       fmt::format("{} with a trusted certificate",
                   !tls || tls->tls_version.empty() ? std::string("TLS 1.2+") : tls->tls_version),
       ""});

  // Authentication and server version: one EWS call as the service account itself.
  EwsSideOptions own;
  own.endpoint = input.endpoint;
  own.credentials = input.credentials;
  own.context = RequestContext{input.version, AccessMode::kDelegate, input.credentials.user};
  own.max_throttle_waits = 0;
  EwsCalendarSide service(http, own);
  const auto login = service.call(build_get_calendar_folder(own.context));
  if (!login && (login.error().kind == ErrorKind::kAuth || login.error().protocol_code == "401")) {
    checks.push_back(
        {"auth", false, login.error().message,
         fmt::format("check the user name, domain and password of '{}' and that {} "
                     "authentication is enabled on the EWS virtual directory",
                     input.credentials.user, net::to_string(input.credentials.method))});
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
    checks.push_back({"server-version", false, "the server sent no ServerVersionInfo",
                      "check that the EWS URL points at Exchange"});
  } else {
    const auto& v = *login->server_version;
    const std::string name = version_name(v.major, v.minor);
    const bool supported = v.major >= 15;
    const bool matches = v.major > 15 || (v.major == 15 && v.minor >= 1) ||
                         input.version != ServerVersion::kExchange2016;
    checks.push_back(
        {"server-version", supported && matches,
         fmt::format("{} (build {}.{}.{}.{}), requests use {}", name, v.major, v.minor,
                     v.major_build, v.minor_build, request_server_version(input.version)),
         !supported ? "AgendaSync needs Exchange 2013 or newer"
         : !matches ? fmt::format("set {} to 2013 or 2013_SP1 for this server", kVersionSetting)
                    : ""});
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
  return checks;
}

std::string format_doctor_report(const std::vector<DoctorCheck>& checks) {
  std::string out;
  for (const DoctorCheck& c : checks) {
    out += fmt::format("{} {}: {}", c.pass ? "PASS" : "FAIL", c.check, c.detail);
    if (!c.pass && !c.remedy.empty()) out += " -> " + c.remedy;
    out += "\n";
  }
  return out;
}

}  // namespace agendasync::ews
