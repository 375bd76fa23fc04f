// Doctor checks that need no server: DNS of a literal address, a refused TCP connection
// that stops the later checks, and the one-line-per-check report.
#include "connectors/ews/doctor.h"
#include "net/server_address.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "connectors/ews/testing/soap_envelope.h"

namespace agendasync::ews {
namespace {

/// A loopback port nobody listens on (bound, then closed).
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

TEST(Doctor, RefusedTcpConnectionStopsTheLaterChecks) {
  testing::FakeHttp http;
  DoctorInput input;
  input.endpoint = "https://127.0.0.1:" + std::to_string(closed_port()) + "/EWS/Exchange.asmx";
  input.credentials.user = "svc";
  input.mailboxes = {"jdoe@example.com"};
  const auto checks = run_ews_doctor(http, input);
  ASSERT_EQ(checks.size(), 7u);
  EXPECT_EQ(checks[0].check, "dns");
  EXPECT_TRUE(checks[0].pass);
  EXPECT_EQ(checks[1].check, "tcp");
  EXPECT_FALSE(checks[1].pass);
  EXPECT_NE(checks[1].remedy.find("allow outbound TCP"), std::string::npos);
  for (std::size_t i = 2; i < checks.size(); ++i) {
    EXPECT_FALSE(checks[i].pass);
    EXPECT_NE(checks[i].detail.find("not run"), std::string::npos);
  }
  EXPECT_EQ(checks[5].check, "impersonation jdoe@example.com");
  EXPECT_TRUE(http.requests.empty());
  const std::string report = format_doctor_report(checks);
  EXPECT_NE(report.find("PASS dns: 127.0.0.1 resolves to 127.0.0.1"), std::string::npos) << report;
  EXPECT_NE(report.find("FAIL tcp:"), std::string::npos);
}

// One rule with the configuration: plain http to a loopback server (tests, exsim) is a warning
// and the later checks still run, as the sync would.
TEST(Doctor, PlainHttpToLoopbackWarnsAndTheLaterChecksRun) {
  testing::FakeHttp http;
  DoctorInput input;
  // TCP must succeed for the TLS check to run: listen on a loopback port for the test.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  input.endpoint =
      "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/EWS/Exchange.asmx";
  const auto checks = run_ews_doctor(http, input);
  close(fd);
  ASSERT_GE(checks.size(), 4u);
  EXPECT_TRUE(checks[1].pass);
  EXPECT_EQ(checks[2].check, "tls");
  EXPECT_TRUE(checks[2].pass);
  EXPECT_TRUE(checks[2].warning);
  EXPECT_NE(checks[2].remedy.find("[exchange] url"), std::string::npos);
  EXPECT_EQ(checks[3].check, "auth");
  EXPECT_EQ(checks[3].detail.find("not run"), std::string::npos) << checks[3].detail;
  EXPECT_NE(format_doctor_report(checks).find("WARN tls:"), std::string::npos);
}

TEST(Doctor, PlainHttpIsAcceptedForLoopbackHostsOnly) {
  EXPECT_TRUE(net::is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(net::is_loopback_host("localhost"));
  EXPECT_TRUE(net::is_loopback_host("[::1]"));
  EXPECT_FALSE(net::is_loopback_host("mail.example.com"));
  EXPECT_FALSE(net::is_loopback_host("127.0.0.1.example.com"));
  EXPECT_FALSE(net::is_loopback_host("10.0.0.1"));
}

}  // namespace
}  // namespace agendasync::ews
