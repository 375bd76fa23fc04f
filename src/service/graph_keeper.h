#pragma once
/// The keeper of Microsoft Graph change-notification subscriptions (R23, R43): one
/// subscription per synced mailbox for organisations of thousands of mailboxes, within Graph's
/// subscription limits. It subscribes new users, unsubscribes blocked and disabled ones (or a
/// changed address), renews before expiry, follows lifecycle notifications and deletes its
/// subscriptions on stop. Graph calls run on a few workers at once, paced under the
/// subscription service's write limit (GraphWritePacer); a 429 pauses every write for its
/// Retry-After. New subscriptions' expiries are jittered so that renewals of mailboxes subscribed
/// together do not fall due together. Progress (subscribed / unsubscribed mailboxes) goes to the
/// log and to a callback for metrics: no mailbox is left unwatched silently.
/// https://learn.microsoft.com/graph/change-notifications-delivery-webhooks,
/// https://learn.microsoft.com/graph/throttling-limits#subscription-service-limits
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "service/graph_subscriptions.h"
#include "service/graph_write_pacer.h"
#include "service/task_queue.h"

namespace agendasync::service {

/// What Graph does for the keeper; `serve` wires the Graph connector's Subscriber in. Each
/// function may be called from several keeper workers at once.
struct GraphSubscriptionCalls {
  /// Subscribes to `mailbox`'s calendar with `client_state` until `expires_at` (Unix
  /// seconds); returns the subscription's id and the expiry Graph granted (user_name empty).
  std::function<Result<GraphSubscription>(const std::string& mailbox, const Secret& client_state,
                                          std::int64_t expires_at)>
      create;
  /// Moves subscription `id`'s expiry to `expires_at`; kNotFound when Graph forgot it.
  std::function<Result<std::int64_t>(const std::string& id, std::int64_t expires_at)> renew;
  /// Deletes subscription `id` at Graph; one Graph no longer knows counts as deleted.
  std::function<Result<void>(const std::string& id)> remove;
};

/// Where the keeper stands, after every round and every finished call.
struct GraphKeeperProgress {
  std::size_t wanted = 0;      ///< mailboxes that should be watched
  std::size_t subscribed = 0;  ///< of those, with a live subscription
  std::size_t pending = 0;     ///< queued or in flight at Graph
  std::size_t failing = 0;     ///< last attempt failed; waiting to try again
  std::size_t throttled = 0;   ///< 429 answers since start
};

struct GraphKeeperOptions {
  /// How often the users are re-read (subscribe, unsubscribe) and expiries checked.
  std::chrono::milliseconds refresh{std::chrono::seconds(30)};
  /// Requested lifetime of a subscription (Outlook resources allow under 7 days).
  std::chrono::seconds lifetime{std::chrono::hours(72)};
  /// A subscription is renewed once less than this is left.
  std::chrono::seconds renew_before{std::chrono::hours(24)};
  /// Each new subscription's expiry is shortened by a random part of up to this share of
  /// (lifetime - renew_before), so that mailboxes subscribed together fall due for renewal
  /// spread over that time (72 h / 24 h: 12 h); renewals ask for the full lifetime, which keeps
  /// each subscription's place in the spread.
  double expiry_jitter = 0.25;
  /// Graph calls in flight at once. Each creation waits for Graph's validation request to
  /// this daemon, answered by the HTTP server's own workers, so it never waits behind these.
  std::size_t concurrency = 4;
  /// Writes (create, renew, delete) per window: Graph allows 1,000 per app per tenant in 20 s;
  /// counted over 21 s so that latency between us and Graph cannot put 1,001 in its window.
  std::size_t writes_per_window = 1000;
  /// ...and 2,000 per tenant for all its apps together, in the same window.
  std::size_t writes_per_tenant = 2000;
  std::chrono::milliseconds write_window{std::chrono::seconds(21)};
  /// The directory (tenant) id and the app (client) id these subscriptions are written with:
  /// every keeper of the process with the same app of the same tenant shares one pacer, and
  /// every keeper of the tenant another (shared_write_pacer). Empty tenant: this keeper's
  /// own pacer, without a tenant budget (tests).
  std::string tenant;
  std::string app;
  /// A 429 whose Retry-After is longer than this is not a pause but a refusal of this mailbox
  /// (Exchange Online has been seen answering a full mailbox with a Retry-After in year 9999).
  std::chrono::milliseconds max_hold{std::chrono::minutes(10)};
  /// Longest pause between attempts for a mailbox whose subscription keeps failing.
  std::chrono::milliseconds retry_max{std::chrono::minutes(30)};
  /// How long stop() may spend deleting subscriptions at Graph.
  std::chrono::milliseconds stop_budget{std::chrono::seconds(10)};
  /// Many nodes (issue 17): true at stop() when the organisation went to another node, whose
  /// keeper now owns the recorded subscriptions (it deletes the old ones as it starts and
  /// records its own in the same shared table): stop() then deletes nothing, or it would
  /// delete the new owner's. Null or false: stop() deletes as usual.
  std::shared_ptr<const std::atomic<bool>> handed_over;
  /// How often a progress line is logged while mailboxes wait for a subscription.
  std::chrono::milliseconds progress_log{std::chrono::seconds(10)};
  /// Told the progress (metrics); may be called from any keeper thread.
  std::function<void(const GraphKeeperProgress&)> on_progress;
  /// The threads the keeper's rounds and Graph calls run on: a node's, shared by the keepers
  /// of all its organisations (each on its own lane), so that a node of a thousand Graph
  /// customers does not hold a thousand planners and four thousand workers. Null: threads of
  /// its own (concurrency + 1).
  std::shared_ptr<TaskQueue> threads;
};

/// Keeps one Graph subscription per synced mailbox. A round decides what to do (every
/// `refresh`, and at once after a lifecycle notification); up to `concurrency` workers make
/// the Graph calls, one call per task, so that keepers sharing threads take turns. Nothing
/// blocks a shared thread: a write that must wait for the pacers is posted again for the
/// moment it may start.
class GraphSubscriptionKeeper {
 public:
  /// user -> mailbox of every user whose calendar should be watched now.
  using WantedFn = std::function<Result<std::map<std::string, std::string>>()>;

  /// Fails when clientStates cannot be sealed. Subscriptions recorded by an earlier run are
  /// deleted first (their notification URL may have changed); `wake(user)` runs the user's
  /// pair after each new subscription, for changes made before Graph reported them.
  static Result<std::unique_ptr<GraphSubscriptionKeeper>> start(
      GraphSubscriptions& records, GraphSubscriptionCalls calls, WantedFn wanted,
      std::function<void(const std::string&)> wake, GraphKeeperOptions options = {});
  ~GraphSubscriptionKeeper();
  /// Stops the threads, then deletes every subscription at Graph within the stop budget (what
  /// is left is deleted at the next start or lapses at expiry). Idempotent.
  void stop();
  GraphKeeperProgress progress() const;

 private:
  struct Create {
    std::string user;
    std::string mailbox;
  };
  struct Renew {
    GraphSubscription subscription;
    std::string reason;
  };
  struct Delete {
    GraphSubscription subscription;
    std::string reason;
  };
  using Job = std::variant<Create, Renew, Delete>;

  GraphSubscriptionKeeper(GraphSubscriptions& records, GraphSubscriptionCalls calls,
                          WantedFn wanted, std::function<void(const std::string&)> wake,
                          GraphKeeperOptions options);
  /// The round every `refresh`, posting the next one.
  void periodic_round();
  /// One round, or (when one runs already) one more after it.
  void run_round();
  void round();
  /// Starts workers for queued jobs, up to `concurrency` and not before the pacers allow.
  void start_workers();
  /// One job, then again while jobs are left (each time as a new task).
  void work();
  void queue_lifecycle(GraphLifecycle event, const GraphSubscription& subscription);
  void handle_lifecycle(GraphLifecycle event, const GraphSubscription& subscription);
  void renew_due();
  void reconcile();
  /// Queues `job` unless the same user's or subscription's job is queued or running.
  void enqueue(Job job);
  /// Each makes its Graph call; false when the job was queued again (429).
  bool run(const Create& job);
  bool run(const Renew& job);
  bool run(const Delete& job);
  /// A 429 within max_hold: pauses every write, queues `job` again (it stays busy) and
  /// returns true.
  bool throttled(const Error& error, const Job& job);
  void forget(const std::string& id);
  void finished(const Job& job);
  std::int64_t jittered_expiry();
  void report(bool force);

  GraphSubscriptions& records_;
  GraphSubscriptionCalls calls_;
  WantedFn wanted_;
  std::function<void(const std::string&)> wake_;
  GraphKeeperOptions options_;
  /// Graph's per-app-per-tenant budget, and its per-tenant one (null: none).
  std::shared_ptr<GraphWritePacer> pacer_;
  std::shared_ptr<GraphWritePacer> tenant_pacer_;
  /// Waits for a write's turn under both budgets; false when past the deadline (stop()).
  bool acquire_write_until(GraphWritePacer::Clock::time_point deadline);

  mutable std::mutex mutex_;
  std::deque<std::pair<GraphLifecycle, GraphSubscription>> lifecycle_;
  std::deque<Job> jobs_;
  std::set<std::string> busy_;  // "u:" + user, "s:" + subscription id: queued or running
  struct Owned {
    std::string user;
    std::string mailbox;
  };
  std::map<std::string, Owned> owned_;             // subscription id -> whose, made by this run
  std::map<std::string, std::string> id_of_user_;  // user -> their live subscription's id
  struct Retry {
    std::chrono::steady_clock::time_point at;
    std::chrono::milliseconds delay{0};
  };
  std::map<std::string, Retry> retry_;  // by user, after a failed subscribe
  GraphKeeperProgress progress_;
  std::chrono::steady_clock::time_point last_log_{};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool complete_logged_ = false;
  bool first_round_ = true;
  bool stopped_ = false;
  bool round_running_ = false;
  bool round_again_ = false;
  std::size_t workers_running_ = 0;
  /// When workers may start again after the pacers said wait (a task is posted for then).
  std::chrono::steady_clock::time_point resume_at_{};
  std::shared_ptr<TaskQueue> own_threads_;  ///< when options_.threads is null
  std::shared_ptr<TaskQueue::Lane> lane_;
};

}  // namespace agendasync::service
