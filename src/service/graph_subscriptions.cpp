#include "service/graph_subscriptions.h"

#include <openssl/crypto.h>

#include "service/log.h"

namespace agendasync::service {

namespace {

std::string aad_for(const std::string& id) { return "graph-subscription:" + id; }

}  // namespace

Result<void> GraphSubscriptions::add(const GraphSubscription& subscription,
                                     const Secret& client_state) {
  if (subscription.id.empty() || subscription.user_name.empty() || client_state.empty()) {
    return fail(ErrorKind::kInvalidData,
                "a Graph subscription needs an id, a user and a clientState");
  }
  auto sealed = secrets_.seal(aad_for(subscription.id), client_state);
  if (!sealed) return std::unexpected(sealed.error());
  return db_.with([&](store::sqlite::Connection& db) {
    return db.run(
        "INSERT INTO service_graph_subscription(id, user_name, client_state_sealed, expires_at) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET user_name = ?2, "
        "client_state_sealed = ?3, expires_at = ?4",
        {subscription.id, subscription.user_name, *sealed, subscription.expires_at});
  });
}

Result<void> GraphSubscriptions::remove(const std::string& id) {
  return db_.with([&](store::sqlite::Connection& db) {
    return db.run("DELETE FROM service_graph_subscription WHERE id = ?1", {id});
  });
}

Result<std::optional<std::string>> GraphSubscriptions::verify(const std::string& id,
                                                              std::string_view client_state) {
  auto row = db_.with([&](store::sqlite::Connection& db)
                          -> Result<std::optional<std::pair<std::string, std::string>>> {
    auto statement = db.prepare(
        "SELECT user_name, client_state_sealed FROM service_graph_subscription WHERE id = ?1",
        {id});
    if (!statement) return std::unexpected(statement.error());
    auto step = statement->step();
    if (!step) return std::unexpected(step.error());
    if (!*step) return std::nullopt;
    return std::make_pair(statement->text_at(0), statement->text_at(1));
  });
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::nullopt;
  auto expected = secrets_.open(aad_for(id), (*row)->second);
  if (!expected) return std::unexpected(expected.error());
  const std::string& want = expected->reveal();
  // Constant time: the comparison must not tell an attacker how much of a guess was right.
  if (want.size() != client_state.size() ||
      CRYPTO_memcmp(want.data(), client_state.data(), want.size()) != 0) {
    return std::nullopt;
  }
  return std::optional<std::string>((*row)->first);
}

Result<std::vector<GraphSubscription>> GraphSubscriptions::expiring(std::int64_t now,
                                                                    std::int64_t margin_seconds) {
  return db_.with([&](store::sqlite::Connection& db) -> Result<std::vector<GraphSubscription>> {
    auto statement = db.prepare(
        "SELECT id, user_name, expires_at FROM service_graph_subscription WHERE expires_at < ?1 "
        "ORDER BY expires_at",
        {now + margin_seconds});
    if (!statement) return std::unexpected(statement.error());
    std::vector<GraphSubscription> due;
    while (true) {
      auto row = statement->step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      due.push_back({statement->text_at(0), statement->text_at(1), statement->int_at(2)});
    }
    return due;
  });
}

Result<void> GraphSubscriptions::set_expiry(const std::string& id, std::int64_t expires_at) {
  return db_.with([&](store::sqlite::Connection& db) {
    return db.run("UPDATE service_graph_subscription SET expires_at = ?2 WHERE id = ?1",
                  {id, expires_at});
  });
}

std::size_t GraphSubscriptions::renew_due(const GraphRenewFn& renew, std::int64_t margin_seconds) {
  auto due = expiring(unix_now(), margin_seconds);
  if (!due) {
    log_event(spdlog::level::err, "graph_renewal_failed", {{"error", due.error().message}});
    return 0;
  }
  std::size_t renewed = 0;
  for (const auto& subscription : *due) {
    auto expires = renew(subscription);
    if (expires && set_expiry(subscription.id, *expires)) {
      ++renewed;
      log_event(spdlog::level::info, "graph_subscription_renewed",
                {{"subscription", subscription.id},
                 {"user", subscription.user_name},
                 {"expires_at", *expires}});
    } else {
      log_event(spdlog::level::warn, "graph_subscription_renewal_failed",
                {{"subscription", subscription.id},
                 {"user", subscription.user_name},
                 {"error", expires ? std::string("could not store the new expiry")
                                   : expires.error().message}});
    }
  }
  return renewed;
}

}  // namespace agendasync::service
