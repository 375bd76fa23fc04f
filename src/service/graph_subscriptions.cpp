#include "service/graph_subscriptions.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <limits>

#include "service/log.h"

namespace agendasync::service {

namespace {

std::string aad_for(const std::string& id) { return "graph-subscription:" + id; }

}  // namespace

std::optional<GraphLifecycle> parse_graph_lifecycle(std::string_view text) {
  for (auto event : {GraphLifecycle::kReauthorizationRequired, GraphLifecycle::kSubscriptionRemoved,
                     GraphLifecycle::kMissed}) {
    if (text == to_string(event)) return event;
  }
  return std::nullopt;
}

const char* to_string(GraphLifecycle event) {
  switch (event) {
    case GraphLifecycle::kReauthorizationRequired:
      return "reauthorizationRequired";
    case GraphLifecycle::kSubscriptionRemoved:
      return "subscriptionRemoved";
    case GraphLifecycle::kMissed:
      return "missed";
  }
  return "unknown";
}

Result<void> GraphSubscriptions::add(const GraphSubscription& subscription,
                                     const Secret& client_state) {
  if (subscription.id.empty() || subscription.user_name.empty() || client_state.empty()) {
    return fail(ErrorKind::kInvalidData,
                "a Graph subscription needs an id, a user and a clientState");
  }
  auto sealed = secrets_.seal(aad_for(subscription.id), client_state);
  if (!sealed) return std::unexpected(sealed.error());
  auto stored = db_.run(
      "INSERT INTO service_graph_subscription(id, user_name, client_state_sealed, expires_at) "
      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE SET user_name = ?2, "
      "client_state_sealed = ?3, expires_at = ?4",
      {subscription.id, subscription.user_name, *sealed, subscription.expires_at});
  if (!stored) return std::unexpected(stored.error());
  return {};
}

Result<void> GraphSubscriptions::remove(const std::string& id) {
  auto removed = db_.run("DELETE FROM service_graph_subscription WHERE id = ?1", {id});
  if (!removed) return std::unexpected(removed.error());
  return {};
}

Result<std::optional<std::string>> GraphSubscriptions::verify(const std::string& id,
                                                              std::string_view client_state) {
  // On a reader connection: a notification is answered without waiting behind the keeper's
  // and the syncs' writes (Graph wants its answer within 3 s).
  auto rows = db_.query(
      "SELECT user_name, client_state_sealed FROM service_graph_subscription WHERE id = ?1", {id});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::nullopt;
  const auto row = std::make_pair(rows->text_at(0, 0), rows->text_at(0, 1));
  auto expected = secrets_.open(aad_for(id), row.second);
  if (!expected) return std::unexpected(expected.error());
  const std::string& want = expected->reveal();
  // Constant time: the comparison must not tell an attacker how much of a guess was right.
  if (want.size() != client_state.size() ||
      CRYPTO_memcmp(want.data(), client_state.data(), want.size()) != 0) {
    return std::nullopt;
  }
  return std::optional<std::string>(row.first);
}

Result<std::vector<GraphSubscription>> GraphSubscriptions::all() {
  return expiring(std::numeric_limits<std::int64_t>::max() / 2, 0);
}

Result<std::vector<GraphSubscription>> GraphSubscriptions::expiring(std::int64_t now,
                                                                    std::int64_t margin_seconds) {
  auto rows = db_.query(
      "SELECT id, user_name, expires_at FROM service_graph_subscription WHERE expires_at < ?1 "
      "ORDER BY expires_at",
      {now + margin_seconds});
  if (!rows) return std::unexpected(rows.error());
  std::vector<GraphSubscription> due;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    due.push_back({rows->text_at(i, 0), rows->text_at(i, 1), rows->int_at(i, 2)});
  }
  return due;
}

Result<void> GraphSubscriptions::set_expiry(const std::string& id, std::int64_t expires_at) {
  auto set = db_.run("UPDATE service_graph_subscription SET expires_at = ?2 WHERE id = ?1",
                     {id, expires_at});
  if (!set) return std::unexpected(set.error());
  return {};
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
    if (!expires && expires.error().kind == ErrorKind::kNotFound) {
      // Graph dropped it (expired, or removed by an administrator): forget it, so the
      // keeper subscribes the mailbox again.
      (void)remove(subscription.id);
      log_event(spdlog::level::warn, "graph_subscription_gone",
                {{"subscription", subscription.id},
                 {"user", subscription.user_name},
                 {"error", expires.error().message}});
      continue;
    }
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

Result<void> GraphSubscriptions::check_sealing() const {
  auto sealed = secrets_.seal("graph-subscription:probe", Secret("probe"));
  if (!sealed) {
    return fail(ErrorKind::kPermanent,
                "Graph change notifications need a key for secrets at rest (each "
                "subscription's clientState is stored sealed): " +
                    sealed.error().message);
  }
  return {};
}

void GraphSubscriptions::on_lifecycle(
    std::function<void(GraphLifecycle, const GraphSubscription&)> handler) {
  std::lock_guard lock(handler_mutex_);
  handler_ = std::move(handler);
}

bool GraphSubscriptions::lifecycle(GraphLifecycle event, const GraphSubscription& subscription) {
  std::lock_guard lock(handler_mutex_);
  if (!handler_) return false;
  handler_(event, subscription);
  return true;
}

}  // namespace agendasync::service
