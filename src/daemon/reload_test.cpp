// SIGHUP's reload (daemon/reload): the log level applies, other changes are reported as
// waiting for a restart, a broken file keeps the running settings.
#include "daemon/reload.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <fstream>
#include <sstream>

#include "service/log.h"
#include "store/test_support.h"

namespace agendasync::daemon {
namespace {

class Reload : public ::testing::Test {
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
    write("[server]\nport = 0\n");
    auto config = config::load_config(file_);
    ASSERT_TRUE(config) << config.error().message;
    running_ = *config;
    apply_log_level(running_.server.log_level);
  }
  void TearDown() override { apply_log_level("info"); }
  void write(const std::string& text) { std::ofstream(file_) << text; }
  std::string logs() const { return logs_->str(); }

  store::testing::TempDir dir_;
  std::filesystem::path file_;
  config::Config running_;
  std::ostringstream* logs_ = nullptr;
};

TEST_F(Reload, AppliesTheLogLevelAtOnce) {
  auto reload = make_reload(file_, running_);
  EXPECT_TRUE(service::service_logger()->should_log(spdlog::level::info));
  write("[server]\nport = 0\nlog_level = \"warn\"\n");
  reload();
  EXPECT_FALSE(service::service_logger()->should_log(spdlog::level::info));
  EXPECT_TRUE(service::service_logger()->should_log(spdlog::level::warn));
  EXPECT_EQ(logs().find("reload_needs_restart"), std::string::npos) << logs();
}

TEST_F(Reload, SaysWhichChangesWaitForARestart) {
  auto reload = make_reload(file_, running_);
  write("[server]\nport = 0\nmax_connections = 7\n[tls]\nproxy = \"http://proxy:3128\"\n");
  reload();
  EXPECT_NE(logs().find("\"event\":\"reload_needs_restart\""), std::string::npos) << logs();
  EXPECT_NE(logs().find("[server]"), std::string::npos) << logs();
  EXPECT_NE(logs().find("[tls]"), std::string::npos) << logs();
  EXPECT_EQ(logs().find("[exchange]"), std::string::npos) << logs();
}

TEST_F(Reload, AClusterChangeWaitsForARestartAndSaysSo) {
  auto reload = make_reload(file_, running_);
  write("[server]\nport = 0\n[cluster]\nlease_seconds = 12\n");
  reload();
  EXPECT_NE(logs().find("\"event\":\"reload_needs_restart\""), std::string::npos) << logs();
  EXPECT_NE(logs().find("[cluster]"), std::string::npos) << logs();
}

TEST_F(Reload, ABrokenFileKeepsTheRunningSettings) {
  auto reload = make_reload(file_, running_);
  write("[server]\nlog_level = \"loud\"\n");
  reload();
  EXPECT_NE(logs().find("\"event\":\"reload_failed\""), std::string::npos) << logs();
  EXPECT_NE(logs().find("not a log level"), std::string::npos) << logs();
  EXPECT_TRUE(service::service_logger()->should_log(spdlog::level::info));
}

}  // namespace
}  // namespace agendasync::daemon
