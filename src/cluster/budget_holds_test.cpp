// Shared back-offs (issue 17 §5) against the real PostgreSQL: a Retry-After one node's HTTP
// client was given holds the same budget key on another node's client; a node starting (or
// reconnecting) later reads the live holds.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>

#include "cluster/budget_holds.h"
#include "cluster/test_support.h"
#include "net/http.h"
#include "net/testing/local_server.h"

namespace agendasync::cluster {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ClusterDatabase;
using testing::eventually;

/// One node's holds: its own LISTEN connection and pool.
struct HoldsNode {
  explicit HoldsNode(ClusterDatabase& db)
      : listener(db.target().conninfo),
        holds(std::make_shared<PgBudgetHolds>(db.pool(), listener, db.target().schema)) {
    listener.start();
    EXPECT_TRUE(listener.wait_connected(5s));
    EXPECT_TRUE(holds->load());
  }
  ~HoldsNode() {
    holds->stop();
    listener.stop();
  }
  PgListener listener;
  std::shared_ptr<PgBudgetHolds> holds;
};

double seconds_left(net::BudgetHolds& holds, const std::string& key) {
  auto until = holds.held_until(key);
  if (!until) return 0;
  return std::chrono::duration<double>(*until - Clock::now()).count();
}

TEST(BudgetHolds, AHoldOnOneNodeIsSeenByTheOthersAtOnceAndByNodesStartingLater) {
  ClusterDatabase db;
  db.migrate();
  HoldsNode a(db), b(db);
  EXPECT_FALSE(b.holds->held_until("ews|svc@contoso|mail.contoso.com"));
  a.holds->hold("ews|svc@contoso|mail.contoso.com", 3s);
  EXPECT_GT(seconds_left(*a.holds, "ews|svc@contoso|mail.contoso.com"), 2.9) << "locally at once";
  ASSERT_TRUE(eventually(
      [&] { return b.holds->held_until("ews|svc@contoso|mail.contoso.com").has_value(); }, 500ms))
      << "node B hears it through NOTIFY";
  EXPECT_GT(seconds_left(*b.holds, "ews|svc@contoso|mail.contoso.com"), 2.5);
  EXPECT_LE(seconds_left(*b.holds, "ews|svc@contoso|mail.contoso.com"), 3.0);
  EXPECT_FALSE(b.holds->held_until("ews|svc@globex|mail.globex.com")) << "other keys go on";

  a.holds->hold("ews|svc@contoso|mail.contoso.com", 1s);
  std::this_thread::sleep_for(200ms);
  EXPECT_GT(seconds_left(*b.holds, "ews|svc@contoso|mail.contoso.com"), 2.0)
      << "a shorter hold does not cut a longer one";

  HoldsNode c(db);  // started later: reads the row
  EXPECT_GT(seconds_left(*c.holds, "ews|svc@contoso|mail.contoso.com"), 2.0);
}

TEST(BudgetHolds, ANodeWhoseListenConnectionDroppedReadsTheHoldsItMissed) {
  ClusterDatabase db;
  db.migrate();
  HoldsNode b(db);
  // A hold whose NOTIFY B never heard (sent while its connection was down): only the row.
  auto pool = db.pool();
  auto conn = pool->borrow().value();
  ASSERT_TRUE(
      conn->run("INSERT INTO budget_holds (key, until) VALUES "
                "('graph|app|anna@contoso.com', now() + interval '5 seconds')"));
  EXPECT_FALSE(b.holds->held_until("graph|app|anna@contoso.com"));
  const int pid = b.listener.backend_pid();
  auto admin = db.admin();
  ASSERT_TRUE(admin->query("SELECT pg_terminate_backend($1::integer)", {std::int64_t{pid}}));
  ASSERT_TRUE(
      eventually([&] { return b.holds->held_until("graph|app|anna@contoso.com").has_value(); }, 5s))
      << "after reconnecting, the node reads the live holds";
  EXPECT_GT(seconds_left(*b.holds, "graph|app|anna@contoso.com"), 3.0);
  EXPECT_EQ(b.listener.reconnects(), 1u);
}

TEST(BudgetHolds, NodeBWaitsWhenNodeAGotA429WithRetryAfter) {
  ClusterDatabase db;
  db.migrate();
  HoldsNode a(db), b(db);
  httplib::Server server;
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<Clock::time_point> seen;
  server.Post("/ews", [&](const httplib::Request&, httplib::Response& response) {
    {
      std::lock_guard lock(mutex);
      seen.push_back(Clock::now());
    }
    if (calls++ == 0) {
      response.status = 429;
      response.set_header("Retry-After", "2");
      return;
    }
    response.set_content("ok", "text/plain");
  });
  net::testing::LocalServer running(server);

  auto client_of = [](std::shared_ptr<net::BudgetHolds> holds) {
    net::ClientOptions options;
    options.max_attempts = 1;  // the 429 comes back to the caller: nothing hides it
    options.budget_holds = std::move(holds);
    return net::make_curl_client(options);
  };
  auto client_a = client_of(a.holds);
  auto client_b = client_of(b.holds);
  net::Request request;
  request.url = running.url("/ews");
  request.body = "x";
  request.budget_key = "ews|svc@contoso|127.0.0.1";

  auto first = client_a->send(request, {});
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->status, 429);
  const auto throttled = Clock::now();
  ASSERT_TRUE(
      eventually([&] { return b.holds->held_until(request.budget_key).has_value(); }, 500ms));

  net::Request other = request;
  other.budget_key = "ews|svc@globex|127.0.0.1";
  const auto other_start = Clock::now();
  auto other_answer = client_b->send(other, {});
  ASSERT_TRUE(other_answer);
  EXPECT_LT(Clock::now() - other_start, 500ms) << "another account's budget is not held";

  auto second = client_b->send(request, {});
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->status, 200);
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 3u);
  const double waited = std::chrono::duration<double>(seen[2] - throttled).count();
  std::cout << "node B's request reached the server " << waited << " s after node A's 429\n";
  EXPECT_GE(waited, 1.8) << "node B held its request for the Retry-After node A was given";
  EXPECT_GE(second->retry_wait, 1500ms) << "and says it waited";
}

}  // namespace
}  // namespace agendasync::cluster
