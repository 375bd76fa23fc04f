#pragma once
/// What the console's pages ask of the sync engine beyond the agenda: the connectivity test
/// (R8), a pair's plan as a dry run (R37), approving a quarantined pair (R38) and offboarding
/// one user (R40). The service library does not link the app layer; `agendasync serve`
/// (src/daemon) fills these in, tests pass fakes. An empty function answers 501.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"

namespace agendasync::service {

/// One line of the connectivity test (app::DoctorCheck without the app layer).
struct ConnectionCheck {
  std::string check;  ///< "tls", "auth", "roles", "mailbox jdoe@example.com", ...
  bool pass = false;
  bool warning = false;  ///< passed, but not fit for production
  std::string detail;    ///< what was found
  std::string remedy;    ///< on failure or warning: what to do
};

/// What the next sync of a pair would do, written nowhere (R37).
struct PairPlan {
  std::string outcome;                  ///< "dry-run", "quarantined", "skipped", ...
  std::string summary;                  ///< one line of counts
  std::vector<std::string> operations;  ///< one line per planned operation
  std::string quarantine_reason;        ///< set when the breaker would stop it (R38)
  std::string reason;                   ///< skipped: which rule left the user alone
};

struct ConsoleOperations {
  std::function<Result<std::vector<ConnectionCheck>>(const std::string& org)> test_connection;
  std::function<Result<PairPlan>(const std::string& org, const std::string& user)> plan;
  std::function<Result<void>(const std::string& org, const std::string& user)> approve;
  /// How many items it removed from the mailbox.
  std::function<Result<std::size_t>(const std::string& org, const std::string& user)> offboard;
};

}  // namespace agendasync::service
