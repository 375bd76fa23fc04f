#pragma once
/// The Graph connectivity test (R8): token, roles, the tenant's admin-consent URL, then for
/// every mailbox the user, its calendar and its mailbox time zone. Each failure says what to fix.
/// Same row shape as the EWS doctor (connectors/ews/doctor.h) so the CLI prints both alike.
#include <string>
#include <vector>

#include "connectors/graph/token.h"
#include "net/http.h"

namespace agendasync::graph {

struct DoctorCheck {
  std::string check;  ///< "token", "roles", "admin consent", "mailbox jdoe@...", "calendar ...",
                      ///< "time zone ..."
  bool pass = false;
  std::string detail;  ///< what was found
  std::string remedy;  ///< on failure: what to do
};

struct DoctorInput {
  std::string base_url = "https://graph.microsoft.com/v1.0";
  std::vector<std::string> mailboxes;  ///< the enabled users' addresses
};

/// Runs every check; without a token the mailbox checks are reported as not run.
std::vector<DoctorCheck> run_graph_doctor(net::HttpClient& http, TokenProvider& tokens,
                                          const DoctorInput& input);

/// One line per check: "PASS token: ..." / "FAIL roles: ... -> remedy".
/// Every remedy text run_graph_doctor can give (with sample names), the token and Graph error
/// tables' advice included: a test parses each configuration setting they name.
std::vector<std::string> remedy_catalogue();

std::string format_doctor_report(const std::vector<DoctorCheck>& checks);

}  // namespace agendasync::graph
