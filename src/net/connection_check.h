#pragma once
/// The transport half of `agendasync doctor` (R8): DNS, TCP, TLS version and certificate of
/// the server a URL points at, each step on its own line, so an admin sees which step fails
/// and what to change — like Microsoft's Remote Connectivity Analyzer.
#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"

namespace agendasync::net {

/// One line of doctor's output.
struct CheckResult {
  std::string name;  ///< "DNS", "TCP", "TLS version", "TLS certificate"
  bool passed = false;
  std::string detail;  ///< what was found: addresses, "TLSv1.3", the certificate's names
  std::string remedy;  ///< on failure: what went wrong and what to change
};

/// Checks the server of `url` with the client's TLS and proxy settings, step by step: DNS
/// (of the proxy when one is set: the proxy resolves the server), TCP (through the proxy's
/// CONNECT tunnel when set), and for https the TLS version (1.2 or newer) and the
/// certificate (trusted, for this name; subject, issuer, expiry shown). A step after a failed
/// one is reported as failed with "not run". Blocking; each step is bounded by the connect
/// timeout.
std::vector<CheckResult> check_connection(std::string_view url, const ClientOptions& options);

}  // namespace agendasync::net
