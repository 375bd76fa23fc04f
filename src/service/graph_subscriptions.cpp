#include "service/graph_subscriptions.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <limits>
#include <set>

#include "service/log.h"
#include "service/secrets/hex.h"

namespace agendasync::service {

namespace {

std::string aad_for(const std::string& id) { return "graph-subscription:" + id; }

/// A fresh clientState: 32 random bytes as hex (Graph allows up to 128 characters).
Result<Secret> new_client_state() {
  std::vector<std::uint8_t> bytes(32);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return fail(ErrorKind::kPermanent, "the system random generator failed");
  }
  return Secret(secrets::to_hex(bytes.data(), bytes.size()));
}

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

Result<std::vector<GraphSubscription>> GraphSubscriptions::all() {
  return expiring(std::numeric_limits<std::int64_t>::max() / 2, 0);
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

// --- the keeper ------------------------------------------------------------------------------

Result<std::unique_ptr<GraphSubscriptionKeeper>> GraphSubscriptionKeeper::start(
    GraphSubscriptions& records, GraphSubscriptionCalls calls, WantedFn wanted,
    std::function<void(const std::string&)> wake, GraphKeeperOptions options) {
  if (auto sealing = records.check_sealing(); !sealing) return std::unexpected(sealing.error());
  std::unique_ptr<GraphSubscriptionKeeper> keeper(new GraphSubscriptionKeeper(
      records, std::move(calls), std::move(wanted), std::move(wake), options));
  GraphSubscriptionKeeper* self = keeper.get();
  records.on_lifecycle([self](GraphLifecycle event, const GraphSubscription& subscription) {
    self->queue(event, subscription);
  });
  keeper->thread_ = std::jthread([self](std::stop_token stop) { self->run(stop); });
  return keeper;
}

GraphSubscriptionKeeper::GraphSubscriptionKeeper(GraphSubscriptions& records,
                                                 GraphSubscriptionCalls calls, WantedFn wanted,
                                                 std::function<void(const std::string&)> wake,
                                                 GraphKeeperOptions options)
    : records_(records),
      calls_(std::move(calls)),
      wanted_(std::move(wanted)),
      wake_(std::move(wake)),
      options_(options) {}

GraphSubscriptionKeeper::~GraphSubscriptionKeeper() { stop(); }

void GraphSubscriptionKeeper::queue(GraphLifecycle event, const GraphSubscription& subscription) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  lifecycle_.emplace_back(event, subscription);
  changed_.notify_all();
}

void GraphSubscriptionKeeper::run(std::stop_token stop) {
  // Subscriptions of an earlier run: their notification URL or mailbox may have changed, and
  // their clientStates are still valid, so delete them rather than guess.
  if (auto leftovers = records_.all()) {
    for (const auto& subscription : *leftovers) {
      if (stop.stop_requested()) return;
      unsubscribe(subscription, "left by an earlier run");
    }
  }
  while (!stop.stop_requested()) {
    std::deque<std::pair<GraphLifecycle, GraphSubscription>> events;
    {
      std::lock_guard lock(mutex_);
      events.swap(lifecycle_);
    }
    for (const auto& [event, subscription] : events) handle(event, subscription);
    const auto margin = static_cast<std::int64_t>(options_.renew_before.count());
    records_.renew_due(
        [this](const GraphSubscription& subscription) {
          return calls_.renew(subscription.id, unix_now() + options_.lifetime.count());
        },
        margin);
    reconcile(stop);
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, stop, options_.refresh, [this] { return !lifecycle_.empty(); });
  }
}

void GraphSubscriptionKeeper::handle(GraphLifecycle event, const GraphSubscription& subscription) {
  log_event(spdlog::level::info, "graph_lifecycle",
            {{"event", to_string(event)},
             {"subscription", subscription.id},
             {"user", subscription.user_name}});
  if (event == GraphLifecycle::kSubscriptionRemoved) {
    // Graph has dropped it; the reconcile that follows subscribes the mailbox again at once.
    forget(subscription.id);
    retry_.erase(subscription.user_name);
    return;
  }
  if (event != GraphLifecycle::kReauthorizationRequired) return;
  // Renewing with a current token is one of the two answers Graph accepts (the other is
  // POST /subscriptions/{id}/reauthorize), and it also moves the expiry.
  auto expires = calls_.renew(subscription.id, unix_now() + options_.lifetime.count());
  if (!expires) {
    log_event(spdlog::level::warn, "graph_subscription_renewal_failed",
              {{"subscription", subscription.id},
               {"user", subscription.user_name},
               {"error", expires.error().message}});
    if (expires.error().kind == ErrorKind::kNotFound) forget(subscription.id);
    return;
  }
  (void)records_.set_expiry(subscription.id, *expires);
  log_event(spdlog::level::info, "graph_subscription_renewed",
            {{"subscription", subscription.id},
             {"user", subscription.user_name},
             {"expires_at", *expires},
             {"reason", to_string(event)}});
}

void GraphSubscriptionKeeper::reconcile(std::stop_token stop) {
  auto wanted = wanted_();
  auto recorded = records_.all();
  if (!wanted || !recorded) {
    // Never unsubscribe everyone because the agenda could not be read for a moment.
    log_event(spdlog::level::warn, "graph_subscriptions_refresh_failed",
              {{"error", !wanted ? wanted.error().message : recorded.error().message}});
    return;
  }
  std::set<std::string> covered;
  for (const auto& subscription : *recorded) {
    auto want = wanted->find(subscription.user_name);
    auto known = mailbox_of_.find(subscription.id);
    if (want == wanted->end()) {
      unsubscribe(subscription, "sync disabled or user blocked");
    } else if (known == mailbox_of_.end() || known->second != want->second) {
      unsubscribe(subscription, "mailbox address changed");
    } else {
      covered.insert(subscription.user_name);
    }
  }
  for (const auto& [user, mailbox] : *wanted) {
    if (stop.stop_requested()) return;  // many mailboxes: do not hold up a shutdown
    if (!covered.contains(user)) subscribe(user, mailbox);
  }
  for (auto it = retry_.begin(); it != retry_.end();) {
    it = wanted->contains(it->first) ? std::next(it) : retry_.erase(it);
  }
}

void GraphSubscriptionKeeper::subscribe(const std::string& user, const std::string& mailbox) {
  const auto now = std::chrono::steady_clock::now();
  Retry& retry = retry_[user];
  if (now < retry.at) return;
  auto back_off = [&](const Error& error) {
    retry.delay = std::min(std::max(retry.delay * 2, options_.refresh), options_.retry_max);
    retry.at = now + retry.delay;
    log_event(spdlog::level::warn, "graph_subscription_failed",
              {{"user", user},
               {"mailbox", mailbox},
               {"error", error.message},
               {"detail",
                "changes in this mailbox arrive with the safety-net sync until a "
                "subscription succeeds; next attempt in " +
                    std::to_string(retry.delay.count() / 1000) + " s"}});
  };
  auto client_state = new_client_state();
  if (!client_state) return back_off(client_state.error());
  auto created = calls_.create(mailbox, *client_state, unix_now() + options_.lifetime.count());
  if (!created) return back_off(created.error());
  GraphSubscription subscription{created->id, user, created->expires_at};
  if (auto added = records_.add(subscription, *client_state); !added) {
    // Unrecorded, its notifications would all be refused: do not leave it at Graph.
    (void)calls_.remove(subscription.id);
    return back_off(added.error());
  }
  mailbox_of_[subscription.id] = mailbox;
  retry_.erase(user);
  log_event(spdlog::level::info, "graph_subscription_created",
            {{"user", user},
             {"mailbox", mailbox},
             {"subscription", subscription.id},
             {"expires_at", subscription.expires_at}});
  // Changes made before Graph started reporting them (or while a subscription was missing)
  // are picked up by one run of the pair.
  if (wake_) wake_(user);
}

void GraphSubscriptionKeeper::unsubscribe(const GraphSubscription& subscription,
                                          std::string_view reason) {
  if (auto removed = calls_.remove(subscription.id); !removed) {
    // Forgotten anyway: its notifications are refused from now on and it lapses at expiry.
    log_event(spdlog::level::warn, "graph_subscription_delete_failed",
              {{"subscription", subscription.id},
               {"user", subscription.user_name},
               {"error", removed.error().message}});
  }
  forget(subscription.id);
  log_event(
      spdlog::level::info, "graph_subscription_deleted",
      {{"subscription", subscription.id}, {"user", subscription.user_name}, {"reason", reason}});
}

void GraphSubscriptionKeeper::forget(const std::string& id) {
  if (auto removed = records_.remove(id); !removed) {
    log_event(spdlog::level::err, "graph_subscription_forget_failed",
              {{"subscription", id}, {"error", removed.error().message}});
  }
  mailbox_of_.erase(id);
}

void GraphSubscriptionKeeper::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    lifecycle_.clear();
  }
  records_.on_lifecycle({});
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  // Graph would keep posting to a daemon that is gone, and marks endpoints that fail as slow
  // or drops their notifications; the next start subscribes afresh and catches up anyway.
  auto recorded = records_.all();
  if (!recorded) return;
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_budget;
  std::size_t left = 0;
  for (const auto& subscription : *recorded) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ++left;
      continue;
    }
    if (auto removed = calls_.remove(subscription.id); !removed) {
      ++left;  // kept on record: the next start deletes it
      log_event(spdlog::level::warn, "graph_subscription_delete_failed",
                {{"subscription", subscription.id},
                 {"user", subscription.user_name},
                 {"error", removed.error().message}});
      continue;
    }
    forget(subscription.id);
  }
  log_event(spdlog::level::info, "graph_subscriptions_stopped",
            {{"deleted", recorded->size() - left},
             {"left", left},
             {"detail", left == 0 ? "every subscription was deleted at Graph"
                                  : "the rest are deleted at the next start or lapse at expiry"}});
}

}  // namespace agendasync::service
