#pragma once
/// Tests: a cluster schema of their own on the server the test script starts
/// (AGENDASYNC_TEST_PG), migrated, dropped afterwards, so parallel test processes never
/// share nodes, leases or channels. A missing AGENDASYNC_TEST_PG fails the test.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cluster/cluster_schema.h"
#include "store/contract_support.h"
#include "store/pg_pool.h"

namespace agendasync::cluster::testing {

class ClusterDatabase {
 public:
  ClusterDatabase() {
    auto server = store::testing::test_server();
    if (!server) {
      ADD_FAILURE() << server.error().message;
      return;
    }
    target_ = {*server, store::testing::unique_schema("cl")};
  }
  ~ClusterDatabase() {
    if (target_.schema.empty()) return;
    if (auto admin = store::pg::Connection::open({target_.conninfo, ""})) {
      (void)(*admin)->exec("DROP SCHEMA IF EXISTS " + store::pg::quote_identifier(target_.schema) +
                           " CASCADE");
    }
  }
  ClusterDatabase(const ClusterDatabase&) = delete;
  ClusterDatabase& operator=(const ClusterDatabase&) = delete;

  void migrate() {
    auto migrated = migrate_cluster(target_);
    ASSERT_TRUE(migrated) << migrated.error().message;
  }
  /// A pool of its own, as another process would have.
  std::shared_ptr<store::pg::Pool> pool() {
    auto opened = store::pg::Pool::open(target_);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? *opened : nullptr;
  }
  /// A connection outside any schema (pg_terminate_backend, admin checks).
  std::unique_ptr<store::pg::Connection> admin() {
    auto opened = store::pg::Connection::open({target_.conninfo, ""});
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }
  const store::pg::Target& target() const { return target_; }

 private:
  store::pg::Target target_;
};

/// Polls `done` every 5 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace agendasync::cluster::testing
