#pragma once
/// Test-only: runs the exsim binary on 127.0.0.1, port 0, with TLS and a generated CA, and
/// stops it when destroyed. Throws when exsim cannot be started (tests fail, never skip).
#include <sys/types.h>

#include <string>
#include <vector>

namespace agendasync::exsimtest {

class ExsimProcess {
 public:
  /// `args` are added to: --port 0 --tls --tls-ca-out <dir>/ca.pem --admin-token <token>.
  /// `tls` false serves plain HTTP (no --tls): for a test relay in front of exsim.
  explicit ExsimProcess(const std::vector<std::string>& args, bool tls = true);
  ~ExsimProcess();
  ExsimProcess(const ExsimProcess&) = delete;
  ExsimProcess& operator=(const ExsimProcess&) = delete;

  const std::string& base_url() const { return base_url_; }
  /// The port exsim listens on (127.0.0.1).
  int port() const;
  std::string ews_url() const { return base_url_ + "/EWS/Exchange.asmx"; }
  const std::string& ca_path() const { return ca_path_; }
  const std::string& admin_token() const { return admin_token_; }

  /// The exsim binary of this build tree.
  static std::string binary();

 private:
  pid_t pid_ = -1;
  std::string base_url_;
  std::string dir_;
  std::string ca_path_;
  std::string admin_token_ = "exsim-admin-test-token";
};

}  // namespace agendasync::exsimtest
