#include "service/graph_keeper.h"

#include <openssl/rand.h>

#include <algorithm>
#include <random>

#include "service/log.h"
#include "service/secrets/hex.h"

namespace agendasync::service {

namespace {

using SteadyClock = std::chrono::steady_clock;

/// A fresh clientState: 32 random bytes as hex (Graph allows up to 128 characters).
Result<Secret> new_client_state() {
  std::vector<std::uint8_t> bytes(32);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return fail(ErrorKind::kPermanent, "the system random generator failed");
  }
  return Secret(secrets::to_hex(bytes.data(), bytes.size()));
}

std::string user_key(const std::string& user) { return "u:" + user; }
std::string subscription_key(const std::string& id) { return "s:" + id; }

}  // namespace

Result<std::unique_ptr<GraphSubscriptionKeeper>> GraphSubscriptionKeeper::start(
    GraphSubscriptions& records, GraphSubscriptionCalls calls, WantedFn wanted,
    std::function<void(const std::string&)> wake, GraphKeeperOptions options) {
  if (auto sealing = records.check_sealing(); !sealing) return std::unexpected(sealing.error());
  std::unique_ptr<GraphSubscriptionKeeper> keeper(new GraphSubscriptionKeeper(
      records, std::move(calls), std::move(wanted), std::move(wake), std::move(options)));
  GraphSubscriptionKeeper* self = keeper.get();
  records.on_lifecycle([self](GraphLifecycle event, const GraphSubscription& subscription) {
    self->queue_lifecycle(event, subscription);
  });
  self->lane_->post([self] { self->periodic_round(); });
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
      options_(std::move(options)),
      pacer_(
          options_.tenant.empty()
              ? std::make_shared<GraphWritePacer>(options_.writes_per_window, options_.write_window)
              : shared_write_pacer("app " + options_.tenant + " " + options_.app,
                                   options_.writes_per_window, options_.write_window)),
      tenant_pacer_(options_.tenant.empty()
                        ? nullptr
                        : shared_write_pacer("tenant " + options_.tenant,
                                             options_.writes_per_tenant, options_.write_window)) {
  options_.concurrency = std::max<std::size_t>(1, options_.concurrency);
  if (!options_.threads) own_threads_ = std::make_shared<TaskQueue>(options_.concurrency + 1);
  lane_ = (options_.threads ? options_.threads : own_threads_)->lane();
}

bool GraphSubscriptionKeeper::acquire_write_until(GraphWritePacer::Clock::time_point deadline) {
  if (!tenant_pacer_) return pacer_->acquire_until(deadline);
  return GraphWritePacer::acquire_both(*pacer_, *tenant_pacer_, std::stop_token{}, deadline);
}

GraphSubscriptionKeeper::~GraphSubscriptionKeeper() { stop(); }

GraphKeeperProgress GraphSubscriptionKeeper::progress() const {
  std::lock_guard lock(mutex_);
  return progress_;
}

void GraphSubscriptionKeeper::queue_lifecycle(GraphLifecycle event,
                                              const GraphSubscription& subscription) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    lifecycle_.emplace_back(event, subscription);
  }
  lane_->post([this] { run_round(); });
}

// --- the rounds: decide what the workers do ---------------------------------------------------

void GraphSubscriptionKeeper::periodic_round() {
  run_round();
  lane_->post([this] { periodic_round(); }, options_.refresh);
}

void GraphSubscriptionKeeper::run_round() {
  {
    // Rounds of one keeper never overlap (tasks of a lane may run on several threads): one
    // asked for while another runs is made right after it.
    std::lock_guard lock(mutex_);
    if (round_running_) {
      round_again_ = true;
      return;
    }
    round_running_ = true;
  }
  while (true) {
    round();
    std::lock_guard lock(mutex_);
    if (!round_again_ || stopped_) {
      round_running_ = false;
      return;
    }
    round_again_ = false;
  }
}

void GraphSubscriptionKeeper::round() {
  std::deque<std::pair<GraphLifecycle, GraphSubscription>> events;
  {
    std::lock_guard lock(mutex_);
    events.swap(lifecycle_);
  }
  for (const auto& [event, subscription] : events) handle_lifecycle(event, subscription);
  renew_due();
  reconcile();
  report(false);
}

void GraphSubscriptionKeeper::handle_lifecycle(GraphLifecycle event,
                                               const GraphSubscription& subscription) {
  log_event(spdlog::level::info, "graph_lifecycle",
            {{"event", to_string(event)},
             {"subscription", subscription.id},
             {"user", subscription.user_name}});
  if (event == GraphLifecycle::kSubscriptionRemoved) {
    // Graph has dropped it; the reconcile that follows subscribes the mailbox again at once.
    forget(subscription.id);
    std::lock_guard lock(mutex_);
    retry_.erase(subscription.user_name);
    return;
  }
  // Renewing with a current token is one of the two answers Graph accepts (the other is
  // POST /subscriptions/{id}/reauthorize), and it also moves the expiry.
  if (event == GraphLifecycle::kReauthorizationRequired) {
    enqueue(Renew{subscription, to_string(event)});
  }
}

void GraphSubscriptionKeeper::renew_due() {
  auto due = records_.expiring(unix_now(), options_.renew_before.count());
  if (!due) {
    log_event(spdlog::level::err, "graph_renewal_failed", {{"error", due.error().message}});
    return;
  }
  for (const auto& subscription : *due) enqueue(Renew{subscription, "expiry"});
}

void GraphSubscriptionKeeper::reconcile() {
  auto wanted = wanted_();
  auto recorded = records_.all();
  if (!wanted || !recorded) {
    // Never unsubscribe everyone because the agenda could not be read for a moment.
    log_event(spdlog::level::warn, "graph_subscriptions_refresh_failed",
              {{"error", !wanted ? wanted.error().message : recorded.error().message}});
    return;
  }
  std::set<std::string> covered;
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mutex_);
    for (const auto& subscription : *recorded) {
      auto want = wanted->find(subscription.user_name);
      auto known = owned_.find(subscription.id);
      if (first_round_) {
        // Subscriptions of an earlier run: their notification URL or mailbox may have changed
        // and their clientStates are still valid, so delete them rather than guess.
        jobs.push_back(Delete{subscription, "left by an earlier run"});
      } else if (known == owned_.end()) {
        // Not made by this run (a worker notes its subscription before recording it, so a
        // round never sees one of ours unnoted): another process's, or a leftover.
        jobs.push_back(Delete{subscription, "not made by this run"});
      } else if (want == wanted->end()) {
        jobs.push_back(Delete{subscription, "sync disabled or user blocked"});
      } else if (known->second.mailbox != want->second) {
        jobs.push_back(Delete{subscription, "mailbox address changed"});
      } else if (!covered.insert(subscription.user_name).second) {
        jobs.push_back(Delete{subscription, "a second subscription for the mailbox"});
      }
    }
    first_round_ = false;
    // Subscriptions made by the workers since the snapshot was read count as well: without
    // them a mailbox subscribed a moment ago would be subscribed twice.
    for (const auto& [user, id] : id_of_user_) {
      auto want = wanted->find(user);
      auto owned = owned_.find(id);
      if (want != wanted->end() && owned != owned_.end() && owned->second.mailbox == want->second) {
        covered.insert(user);
      }
    }
    const auto now = SteadyClock::now();
    std::size_t failing = 0;
    for (const auto& [user, mailbox] : *wanted) {
      if (covered.contains(user)) continue;
      if (auto retry = retry_.find(user); retry != retry_.end()) {
        ++failing;
        if (now < retry->second.at) continue;
      }
      jobs.push_back(Create{user, mailbox});
    }
    for (auto it = retry_.begin(); it != retry_.end();) {
      it = wanted->contains(it->first) ? std::next(it) : retry_.erase(it);
    }
    progress_.wanted = wanted->size();
    progress_.subscribed = covered.size();
    progress_.failing = failing;
  }
  for (auto& job : jobs) enqueue(std::move(job));
}

void GraphSubscriptionKeeper::enqueue(Job job) {
  const std::string key = std::visit(
      [](const auto& j) {
        using T = std::decay_t<decltype(j)>;
        if constexpr (std::is_same_v<T, Create>) {
          return user_key(j.user);
        } else {
          return subscription_key(j.subscription.id);
        }
      },
      job);
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || !busy_.insert(key).second) return;
    jobs_.push_back(std::move(job));
    progress_.pending = busy_.size();
  }
  start_workers();
}

void GraphSubscriptionKeeper::finished(const Job& job) {
  std::lock_guard lock(mutex_);
  std::visit(
      [this](const auto& j) {
        using T = std::decay_t<decltype(j)>;
        if constexpr (std::is_same_v<T, Create>) {
          busy_.erase(user_key(j.user));
        } else {
          busy_.erase(subscription_key(j.subscription.id));
        }
      },
      job);
  progress_.pending = busy_.size();
}

void GraphSubscriptionKeeper::report(bool force) {
  GraphKeeperProgress now;
  bool log_progress = false, log_complete = false;
  {
    std::lock_guard lock(mutex_);
    now = progress_;
    const auto at = SteadyClock::now();
    const bool complete = now.wanted > 0 && now.subscribed == now.wanted && now.pending == 0;
    if (complete && !complete_logged_) {
      complete_logged_ = log_complete = true;
    } else if (!complete) {
      complete_logged_ = false;
      if (force || at - last_log_ >= options_.progress_log) {
        last_log_ = at;
        log_progress = now.wanted > 0;
      }
    }
  }
  if (options_.on_progress) options_.on_progress(now);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - started_).count();
  if (log_complete) {
    log_event(spdlog::level::info, "graph_subscriptions_complete",
              {{"subscribed", now.subscribed},
               {"seconds_since_start", seconds},
               {"throttled", now.throttled},
               {"detail", "every synced mailbox has a Graph subscription"}});
  } else if (log_progress) {
    // An operator sees how far the keeper is and which mailboxes are not watched yet: those
    // get changes from Outlook only at the safety-net sync until their subscription exists.
    log_event(now.failing > 0 ? spdlog::level::warn : spdlog::level::info,
              "graph_subscriptions_progress",
              {{"wanted", now.wanted},
               {"subscribed", now.subscribed},
               {"unsubscribed", now.wanted - std::min(now.wanted, now.subscribed)},
               {"pending", now.pending},
               {"failing", now.failing},
               {"throttled", now.throttled},
               {"seconds_since_start", seconds},
               {"detail",
                "mailboxes without a subscription get Outlook changes at the safety-net sync "
                "only; failing ones are logged as graph_subscription_failed"}});
  }
}

// --- the workers: one Graph call per task -----------------------------------------------------

void GraphSubscriptionKeeper::start_workers() {
  std::size_t starting = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || SteadyClock::now() < resume_at_) return;  // a task resumes them then
    while (workers_running_ + starting < options_.concurrency &&
           workers_running_ + starting < jobs_.size()) {
      ++starting;
    }
    workers_running_ += starting;
  }
  for (std::size_t i = 0; i < starting; ++i) lane_->post([this] { work(); });
}

void GraphSubscriptionKeeper::work() {
  Job job;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || jobs_.empty()) {
      --workers_running_;
      return;
    }
    // Every job is one write (POST, PATCH or DELETE) at the subscription service: its turn
    // under the app's and the tenant's budgets first. Not yet: every worker of this keeper
    // ends, and one task starts them again when a write may start (never a thread waiting).
    if (auto wait = GraphWritePacer::try_acquire(*pacer_, tenant_pacer_.get())) {
      --workers_running_;
      if (*wait > resume_at_) {
        resume_at_ = *wait;
        lane_->post(
            [this] {
              {
                std::lock_guard again(mutex_);
                resume_at_ = {};
              }
              start_workers();
            },
            std::chrono::ceil<std::chrono::milliseconds>(*wait - SteadyClock::now()));
      }
      return;
    }
    job = std::move(jobs_.front());
    jobs_.pop_front();
  }
  if (std::visit([this](const auto& j) { return run(j); }, job)) finished(job);
  report(false);
  // The next job is a new task: keepers sharing the threads take turns between calls.
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || jobs_.empty()) {
      --workers_running_;
      return;
    }
  }
  lane_->post([this] { work(); });
}

std::int64_t GraphSubscriptionKeeper::jittered_expiry() {
  const auto spread = std::max<std::int64_t>(
      0, static_cast<std::int64_t>(
             options_.expiry_jitter *
             static_cast<double>((options_.lifetime - options_.renew_before).count())));
  thread_local std::mt19937_64 random{std::random_device{}()};
  const std::int64_t jitter =
      spread == 0 ? 0 : std::uniform_int_distribution<std::int64_t>(0, spread)(random);
  return unix_now() + options_.lifetime.count() - jitter;
}

bool GraphSubscriptionKeeper::throttled(const Error& error, const Job& job) {
  if (error.kind != ErrorKind::kThrottled) return false;
  const auto wait = error.retry_after.value_or(
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.write_window));
  if (wait > options_.max_hold) return false;  // a refusal dressed as a wait
  {
    std::lock_guard lock(mutex_);
    ++progress_.throttled;
  }
  if (pacer_->hold(wait)) {
    log_event(spdlog::level::warn, "graph_subscription_throttled",
              {{"retry_after_ms", wait.count()},
               {"error", error.message},
               {"detail",
                "Microsoft Graph's subscription limit was hit (1,000 writes per 20 s per app per "
                "tenant, 2,000 per tenant for all apps): every subscription write waits for the "
                "Retry-After, then continues"}});
  }
  // Queued again as it was (still busy): the wait is the app's, not this mailbox's fault.
  // The worker that ran it goes on and meets the hold at its next turn.
  std::lock_guard lock(mutex_);
  if (!stopped_) jobs_.push_back(job);
  return true;
}

bool GraphSubscriptionKeeper::run(const Create& job) {
  auto back_off = [&](const Error& error) {
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mutex_);
      Retry& retry = retry_[job.user];
      retry.delay = std::min(std::max(retry.delay * 2, options_.refresh), options_.retry_max);
      retry.at = SteadyClock::now() + retry.delay;
      delay = retry.delay;
    }
    log_event(spdlog::level::warn, "graph_subscription_failed",
              {{"user", job.user},
               {"mailbox", job.mailbox},
               {"error", error.message},
               {"detail",
                "changes in this mailbox arrive with the safety-net sync until a "
                "subscription succeeds; next attempt in " +
                    std::to_string(delay.count() / 1000) + " s"}});
  };
  auto client_state = new_client_state();
  if (!client_state) {
    back_off(client_state.error());
    return true;
  }
  auto created = calls_.create(job.mailbox, *client_state, jittered_expiry());
  if (!created) {
    if (throttled(created.error(), job)) return false;
    back_off(created.error());
    return true;
  }
  GraphSubscription subscription{created->id, job.user, created->expires_at};
  {
    // Known before it is recorded, so that a round reading the records meanwhile takes it
    // for ours.
    std::lock_guard lock(mutex_);
    owned_[subscription.id] = Owned{job.user, job.mailbox};
  }
  if (auto added = records_.add(subscription, *client_state); !added) {
    // Unrecorded, its notifications would all be refused: do not leave it at Graph.
    (void)calls_.remove(subscription.id);
    {
      std::lock_guard lock(mutex_);
      owned_.erase(subscription.id);
    }
    back_off(added.error());
    return true;
  }
  {
    std::lock_guard lock(mutex_);
    id_of_user_[job.user] = subscription.id;
    retry_.erase(job.user);
    ++progress_.subscribed;
  }
  log_event(spdlog::level::info, "graph_subscription_created",
            {{"user", job.user},
             {"mailbox", job.mailbox},
             {"subscription", subscription.id},
             {"expires_at", subscription.expires_at}});
  // Changes made before Graph started reporting them (or while a subscription was missing)
  // are picked up by one run of the pair.
  if (wake_) wake_(job.user);
  return true;
}

bool GraphSubscriptionKeeper::run(const Renew& job) {
  const GraphSubscription& subscription = job.subscription;
  // The full lifetime: the spread made at creation carries over (each subscription keeps its
  // place in the cycle), and a renewal never moves an expiry earlier.
  auto expires = calls_.renew(subscription.id, unix_now() + options_.lifetime.count());
  if (!expires) {
    if (throttled(expires.error(), job)) return false;
    log_event(spdlog::level::warn, "graph_subscription_renewal_failed",
              {{"subscription", subscription.id},
               {"user", subscription.user_name},
               {"error", expires.error().message}});
    // Graph dropped it (expired, or removed by an administrator): forget it, so the next
    // round subscribes the mailbox again. Other failures are retried next round (still due).
    if (expires.error().kind == ErrorKind::kNotFound) forget(subscription.id);
    return true;
  }
  (void)records_.set_expiry(subscription.id, *expires);
  log_event(spdlog::level::info, "graph_subscription_renewed",
            {{"subscription", subscription.id},
             {"user", subscription.user_name},
             {"expires_at", *expires},
             {"reason", job.reason}});
  return true;
}

bool GraphSubscriptionKeeper::run(const Delete& job) {
  const GraphSubscription& subscription = job.subscription;
  if (auto removed = calls_.remove(subscription.id); !removed) {
    if (throttled(removed.error(), job)) return false;
    // Forgotten anyway: its notifications are refused from now on and it lapses at expiry.
    log_event(spdlog::level::warn, "graph_subscription_delete_failed",
              {{"subscription", subscription.id},
               {"user", subscription.user_name},
               {"error", removed.error().message}});
  }
  forget(subscription.id);
  log_event(spdlog::level::info, "graph_subscription_deleted",
            {{"subscription", subscription.id},
             {"user", subscription.user_name},
             {"reason", job.reason}});
  return true;
}

void GraphSubscriptionKeeper::forget(const std::string& id) {
  if (auto removed = records_.remove(id); !removed) {
    log_event(spdlog::level::err, "graph_subscription_forget_failed",
              {{"subscription", id}, {"error", removed.error().message}});
  }
  std::lock_guard lock(mutex_);
  auto owned = owned_.find(id);
  if (owned == owned_.end()) return;
  if (auto live = id_of_user_.find(owned->second.user);
      live != id_of_user_.end() && live->second == id) {
    id_of_user_.erase(live);
    if (progress_.subscribed > 0) --progress_.subscribed;
  }
  owned_.erase(owned);
}

void GraphSubscriptionKeeper::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    lifecycle_.clear();
    jobs_.clear();
  }
  records_.on_lifecycle({});
  // Drops the rounds and calls not started and waits for the running ones.
  lane_->stop();
  if (own_threads_) own_threads_->stop();
  if (options_.handed_over && options_.handed_over->load()) {
    // Another node owns the organisation now: the records are its to keep or replace.
    log_event(spdlog::level::info, "graph_subscriptions_handed_over", {});
    return;
  }
  // Graph would keep posting to a daemon that is gone, and marks endpoints that fail as slow
  // or drops their notifications; the next start subscribes afresh and catches up anyway.
  auto recorded = records_.all();
  if (!recorded) return;
  const auto deadline = SteadyClock::now() + options_.stop_budget;
  std::size_t left = 0;
  for (const auto& subscription : *recorded) {
    // Deletions are writes too: paced like the rest, as far as the stop budget reaches.
    if (!acquire_write_until(deadline)) {
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
