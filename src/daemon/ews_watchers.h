#pragma once
/// R23 for EWS at organisation scale (issue 14): the synced mailboxes' streaming
/// subscriptions, grouped. Mailboxes with the same EWS URL and Autodiscover
/// GroupingInformation share one GetStreamingEvents connection (at most 200 per group), which
/// impersonates the group's anchor and keeps affinity with the mailbox server holding the
/// group's subscriptions. So an organisation costs sum(ceil(group size / 200)) connections and
/// a fixed number of threads, whatever its size. Follows the agenda (users enabled, blocked,
/// given another address) by a periodic refresh; adding or removing a user touches only the
/// group it joins or leaves.
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server
/// https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/handling-notification-related-errors-in-ews
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/secret.h"
#include "daemon/stream_groups.h"
#include "daemon/synced_mailboxes.h"
#include "net/http.h"
#include "net/reloadable_client.h"
#include "service/task_queue.h"
#include "store/agenda_store.h"

namespace agendasync::service {
class Metrics;
}
namespace agendasync::ews {
struct ResponseMessage;
}

namespace agendasync::daemon {

class ClosableHttpClient;

struct WatcherOptions {
  /// How often the agenda's users are re-read to start and stop watching mailboxes.
  std::chrono::milliseconds refresh{std::chrono::seconds(30)};
  /// The first pause before a failed stream or subscription is tried again; it doubles with
  /// each failure in a row up to `restart_after`. The safety-net sync (and the poll of
  /// unwatched mailboxes) covers the mailboxes meanwhile.
  std::chrono::milliseconds retry_delay{std::chrono::seconds(5)};
  std::chrono::milliseconds restart_after{std::chrono::seconds(60)};
  /// Minutes each GetStreamingEvents connection stays open (EWS allows 1..30).
  int connection_timeout_minutes = 10;
  /// Mailboxes per streaming connection (EWS: at most 200).
  std::size_t max_group_size = 200;
  /// Threads that subscribe, read stream news and reconnect, for every group together.
  std::size_t control_threads = 4;
  /// Mailboxes without a live subscription (their Subscribe failed, their group's stream is
  /// down) are synced this often until they are watched again.
  std::chrono::milliseconds poll_unwatched{std::chrono::seconds(60)};
  /// Autodiscover did not answer (GroupingInformation): the mailboxes it did not resolve are
  /// grouped by their EWS URL and it is asked again after this pause, doubling with each
  /// failure in a row up to `grouping_retry_max` (not at every refresh: each lookup can cost
  /// a connection timeout per Autodiscover address on the node's shared refresh threads).
  std::chrono::milliseconds grouping_retry{std::chrono::minutes(1)};
  std::chrono::milliseconds grouping_retry_max{std::chrono::minutes(30)};
  /// Gauges for watched/unwatched mailboxes and open streams; may be null.
  service::Metrics* metrics = nullptr;
  /// The organisation the gauges are labelled with.
  std::string org = "default";
  /// The mailboxes to watch; empty = every synced mailbox (synced_mailboxes). A hybrid
  /// organisation's EWS watchers get the mailboxes routed to EWS (routed_mailboxes).
  MailboxSource mailboxes;
  /// The node's outgoing TLS trust (reloaded by SIGHUP); null = a client of the watchers' own
  /// from the configuration's [tls].
  std::shared_ptr<net::TrustedClients> trust;
  /// What every organisation's watchers on a node share (WatcherThreads), so a node's threads
  /// do not grow with its organisations; null = the watchers make their own.
  std::shared_ptr<struct WatcherThreads> shared;
};

/// The node-wide threads and streaming client of every organisation's watchers: a node with
/// hundreds of organisations runs these few threads, not a set per organisation.
struct WatcherThreads {
  /// `control_threads` for subscribing, stream news and reconnecting; `refresh_threads` for
  /// re-reading each organisation's users (and Autodiscover); one client (one event loop)
  /// for every stream, through `trust` when given.
  static std::shared_ptr<WatcherThreads> make(std::size_t control_threads,
                                              std::size_t refresh_threads,
                                              net::ClientOptions client,
                                              std::shared_ptr<net::TrustedClients> trust);
  std::shared_ptr<service::TaskQueue> control;
  std::shared_ptr<service::TaskQueue> refresh;
  std::shared_ptr<net::HttpClient> streams;
};

/// The client options the watchers' streams need (whatever the node's [tls] says).
net::ClientOptions watcher_client_options(const config::Config& config);

/// What the watchers hold now (tests, logs, metrics).
struct WatchStats {
  std::size_t groups = 0;
  std::size_t streams = 0;    ///< open GetStreamingEvents connections
  std::size_t watched = 0;    ///< mailboxes whose subscription is on an open stream
  std::size_t unwatched = 0;  ///< the other synced mailboxes
};

class MailboxWatchers {
 public:
  /// `wake(user)` runs on a control thread when `user`'s mailbox changed (or may have: a lost
  /// subscription). `store` must outlive the watchers (read on the refresh thread only).
  static Result<std::unique_ptr<MailboxWatchers>> start(
      const config::Config& config, store::AgendaStore& store,
      std::function<void(const std::string&)> wake, WatcherOptions options = {});
  ~MailboxWatchers();
  /// Ends every streaming connection at once (without waiting for Exchange's next
  /// keep-alive) and joins the threads. Idempotent.
  void stop();

  /// The users whose mailbox is watched now (subscribed, on an open stream).
  std::vector<std::string> watched() const;
  WatchStats stats() const;

  struct Group;

 private:
  MailboxWatchers(const config::Config& config, store::AgendaStore& store,
                  std::function<void(const std::string&)> wake, WatcherOptions options,
                  Secret password);
  /// One round of the refresh: users re-read, unwatched mailboxes polled when due, gauges;
  /// then the next round is posted.
  void refresh_round();
  void refresh();
  /// mailbox -> group key for `mailboxes`, from Autodiscover (cached per mailbox).
  void resolve_keys(const std::vector<std::string>& mailboxes);
  void apply(const GroupPlacement& next, const std::map<std::string, std::string>& user_of);

  // Control tasks of one group (TaskQueue threads).
  void schedule_cycle(const std::shared_ptr<Group>& group, std::chrono::milliseconds delay = {});
  void cycle(const std::shared_ptr<Group>& group);
  void subscribe_missing(Group& group);
  void open_stream(const std::shared_ptr<Group>& group);
  void read_news(const std::shared_ptr<Group>& group);
  void stream_ended(const std::shared_ptr<Group>& group, Result<net::Response> result);
  void poll_unwatched();
  /// Exchange's error in one of a group's answers, naming the service account and anchor.
  Error group_error(const Group& group, const ews::ResponseMessage& message) const;
  /// The pause before a group tries again after `failure` (doubling, Retry-After honoured).
  std::chrono::milliseconds backoff_after(const Group& group, const Error& failure) const;
  void publish_stats();
  /// publish_stats() soon, from a task (for callers holding a group's lock).
  void stats_changed();

  config::Config config_;
  store::AgendaStore& store_;
  std::function<void(const std::string&)> wake_;
  WatcherOptions options_;
  Secret password_;
  std::shared_ptr<ClosableHttpClient> http_;
  std::atomic<bool> stopping_{false};
  /// Delegate mode: every stream is charged to the service account ([exchange]
  /// streaming_connections of them at most); under impersonation each to its anchor.
  std::size_t stream_budget_;
  std::atomic<std::size_t> open_streams_{0};
  std::atomic<bool> budget_logged_{false};
  std::atomic<std::size_t> subscribed_since_trim_{0};

  mutable std::mutex mutex_;  ///< guards the members below; taken before any group's mutex
  std::map<std::string, std::shared_ptr<Group>> groups_;  ///< by group id
  GroupPlacement placement_;
  std::map<std::string, std::string> keys_;  ///< mailbox -> group key
  bool grouping_unavailable_logged_ = false;
  /// When Autodiscover may be asked again after a failed lookup, and the pause that led there.
  std::chrono::steady_clock::time_point grouping_retry_at_{};
  std::chrono::milliseconds grouping_backoff_{0};

  /// Lanes on the node's (or the watchers' own) queues: stop() ends this organisation's
  /// tasks only.
  std::shared_ptr<service::TaskQueue::Lane> tasks_;
  std::shared_ptr<service::TaskQueue::Lane> refresher_;
  std::chrono::steady_clock::time_point next_poll_;
};

}  // namespace agendasync::daemon
