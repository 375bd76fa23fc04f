#pragma once
/// The EWS connectivity test (R8), like Microsoft's Remote Connectivity Analyzer: DNS, TCP,
/// TLS version and certificate (net::check_connection), authentication, server version, then for
/// every mailbox the impersonation right and calendar access. Each failure says exactly what to
/// fix. The CLI
/// (`agendasync doctor`) and the admin console print these rows.
#include <string>
#include <vector>

#include "connectors/ews/requests.h"
#include "net/http.h"

namespace agendasync::ews {

struct DoctorCheck {
  std::string check;  ///< "dns", "tcp", "tls", "auth", "server-version", "impersonation ...", ...
  bool pass = false;
  std::string detail;    ///< what was found
  std::string remedy;    ///< on failure (or warning): what to do
  bool warning = false;  ///< passed, but not as it should be in production (plain http to loopback)
};

struct DoctorInput {
  std::string endpoint;  ///< the EWS URL
  ServerVersion version = ServerVersion::kExchange2016;
  AccessMode mode = AccessMode::kImpersonation;
  net::Credentials credentials;
  std::vector<std::string> mailboxes;  ///< the enabled users' addresses
  /// The TLS (CA bundle, verification) and proxy settings of the sync's HTTP client, so that the
  /// DNS/TCP/TLS checks (net::check_connection) test the path the sync takes.
  net::ClientOptions connection;
};

/// Runs every check in order; later checks are skipped (reported as failed with "not run")
/// when an earlier one makes them meaningless (no DNS, no TCP, no TLS, no login).
std::vector<DoctorCheck> run_ews_doctor(net::HttpClient& http, const DoctorInput& input);

/// Every remedy text run_ews_doctor can give (with sample names filled in), the error table's
/// messages included: a test parses each configuration setting they name.
std::vector<std::string> remedy_catalogue();

/// One line per check: "PASS dns: ..." / "FAIL tls: ... -> remedy".
std::string format_doctor_report(const std::vector<DoctorCheck>& checks);

}  // namespace agendasync::ews
