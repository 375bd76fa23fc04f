// SIGHUP reloads the TLS trust (issue 19): exsim serves TLS with a CA of its own; the daemon's
// reload handler (make_reload with the daemon's [tls] target) points [tls] ca_bundle at that
// CA's file and the next request through the node's clients verifies against it; a bundle
// that cannot be read is refused in the log and the running trust stays.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/reload.h"
#include "net/testing/test_pki.h"
#include "service/log.h"
#include "store/test_support.h"
#include "tools/exsim/launcher/exsim_process.h"

namespace agendasync::daemon {
namespace {

using ::testing::HasSubstr;

class ReloadTls : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::ostringstream* captured = [] {
      auto* stream = new std::ostringstream;
      service::add_log_sink(std::make_shared<spdlog::sinks::ostream_sink_st>(*stream, true));
      return stream;
    }();
    logs_ = captured;
    logs_->str("");
    file_ = dir_ / "agendasync.toml";
  }
  /// The configuration file with `[tls] ca_bundle = bundle`.
  config::Config write(const std::string& bundle) {
    std::ofstream(file_) << "[server]\nport = 0\n[tls]\nca_bundle = \"" << bundle << "\"\n";
    auto config = config::load_config(file_);
    EXPECT_TRUE(config) << config.error().message;
    return config ? *config : config::Config{};
  }
  /// A GET to exsim's admin endpoint over TLS (no Exchange authentication in the way): any
  /// HTTP answer means the certificate verified.
  Result<net::Response> ask(net::HttpClient& client) {
    net::Request request;
    request.method = "GET";
    request.url = exsim_.base_url() + "/exsim/admin/faults";
    request.headers = {{"X-Exsim-Admin-Token", exsim_.admin_token()}};
    request.retry_allowed = false;
    return client.send(request, {});
  }

  exsimtest::ExsimProcess exsim_{std::vector<std::string>{}};
  net::testing::TestPki other_ca_;  // a CA that did not sign exsim's certificate
  store::testing::TempDir dir_;
  std::filesystem::path file_;
  std::ostringstream* logs_ = nullptr;
};

TEST_F(ReloadTls, TheNextRequestVerifiesAgainstTheReloadedBundle) {
  auto running = write(other_ca_.ca_certificate());
  auto trust = std::make_shared<net::TrustedClients>(running.tls.ca_bundle.string(), "");
  auto client = trust->make({});
  auto refused = ask(*client);
  ASSERT_FALSE(refused) << "exsim's CA is not trusted yet";
  EXPECT_THAT(refused.error().message, HasSubstr("[tls] ca_bundle"));

  int reopened = 0;
  ReloadTargets targets;
  targets.tls = tls_reload_target(trust, [&reopened] { ++reopened; });
  auto reload = make_reload(file_, running, std::move(targets));
  // A new file: exsim's CA, copied where an operator would put it.
  const auto bundle = dir_ / "exsim-ca.pem";
  std::filesystem::copy_file(exsim_.ca_path(), bundle);
  write(bundle.string());
  reload();
  auto got = ask(*client);
  ASSERT_TRUE(got) << got.error().message << "\n" << logs_->str();
  EXPECT_GT(got->status, 0);
  EXPECT_EQ(reopened, 1);
  EXPECT_THAT(logs_->str(), HasSubstr("\"event\":\"tls_trust_reloaded\""));
  EXPECT_THAT(logs_->str(), ::testing::Not(HasSubstr("reload_needs_restart")));

  // The CA renewed in place (same path, new contents) is picked up by the next SIGHUP too.
  std::filesystem::copy_file(other_ca_.ca_certificate(), bundle,
                             std::filesystem::copy_options::overwrite_existing);
  reload();
  EXPECT_FALSE(ask(*client)) << "the replaced file no longer holds exsim's CA";
  EXPECT_EQ(reopened, 2);
}

TEST_F(ReloadTls, AnUnreadableBundleIsRefusedAndTheRunningTrustStays) {
  const auto bundle = dir_ / "exsim-ca.pem";
  std::filesystem::copy_file(exsim_.ca_path(), bundle);
  auto running = write(bundle.string());
  auto trust = std::make_shared<net::TrustedClients>(running.tls.ca_bundle.string(), "");
  auto client = trust->make({});
  ASSERT_TRUE(ask(*client));
  ReloadTargets targets;
  targets.tls = tls_reload_target(trust);
  auto reload = make_reload(file_, running, std::move(targets));
  write((dir_ / "not-there.pem").string());
  reload();
  EXPECT_THAT(logs_->str(), HasSubstr("\"event\":\"reload_failed\""));
  EXPECT_THAT(logs_->str(), HasSubstr("not-there.pem"));
  EXPECT_THAT(logs_->str(), HasSubstr("keep the running TLS trust"));
  EXPECT_EQ(trust->ca_bundle_path(), bundle.string());
  auto still = ask(*client);
  ASSERT_TRUE(still) << still.error().message;
}

}  // namespace
}  // namespace agendasync::daemon
