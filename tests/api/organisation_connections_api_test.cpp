// What an organisation costs a node in SQLite connections (issue 16's cap on open
// organisations): an idle organisation holds one reader per database, a burst of reads opens
// more (up to the configured readers), and they close again once idle, so a node serving
// hundreds of organisations does not hold ten connections for each. (File descriptors are
// not the measure: SQLite's unix VFS keeps a closed connection's descriptor for reuse while
// other connections of the process hold locks on the file.)
#include <thread>

#include "api_test_support.h"
#include "platform/platform.h"
#include "service/tenant.h"

namespace agendasync::apitest {
namespace {

class OrganisationConnections : public ApiTest {
 protected:
  void configure(service::ServerOptions& options) override {
    options.database_readers = 4;
    options.reader_idle_limit = 300ms;
  }
};

TEST_F(OrganisationConnections, AnIdleOrganisationHoldsOneReaderPerDatabaseAndABurstsReadersClose) {
  ASSERT_TRUE(server_->platform().create("gamma", "Gamma"));
  ASSERT_TRUE(server_->refresh_organisation("gamma"));
  auto gamma = server_->tenant("gamma");
  ASSERT_TRUE(gamma);
  const std::string token = gamma->tokens().create("admin", "t")->value.reveal();
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(gamma->store().add_user(
        User{"user" + std::to_string(i), "User " + std::to_string(i), "", false, false, {}}));
  }

  // Idle, with the feed loop reading it ten times a second: readers opened up front were
  // 4 + 4.
  std::this_thread::sleep_for(500ms);
  EXPECT_LE(gamma->open_readers(), 2u) << "readers of an idle organisation";
  EXPECT_GE(gamma->open_readers(), 1u) << "the feed loop reads the agenda";

  // A burst of reads at once opens more readers...
  std::atomic<std::size_t> most{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 15; ++i) {
        auto reply = call("GET", "/api/v1/organisations/gamma/users", token);
        EXPECT_EQ(reply.status, 200) << reply.body;
        const std::size_t now = gamma->open_readers();
        std::size_t seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_GT(most.load(), 2u) << "parallel reads ran on more than one reader per database";
  EXPECT_LE(most.load(), 2u * 4u) << "never more than the configured readers";

  // ...which close once idle past the limit (300 ms here; the feed loop trims every second).
  EXPECT_TRUE(eventually([&] { return gamma->open_readers() <= 2u; }, 5s))
      << gamma->open_readers() << " readers still open after the burst (most: " << most.load()
      << ")";
  EXPECT_EQ(call("GET", "/api/v1/organisations/gamma/users", token).status, 200);
}

}  // namespace
}  // namespace agendasync::apitest
