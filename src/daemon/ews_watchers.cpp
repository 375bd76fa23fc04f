#include "daemon/ews_watchers.h"

#include <malloc.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <optional>
#include <set>
#include <shared_mutex>

#include <fmt/format.h>

#include "app/pair_settings.h"
#include "connectors/ews/errors.h"
#include "connectors/ews/ews_side.h"
#include "connectors/ews/grouping.h"
#include "connectors/ews/requests.h"
#include "connectors/ews/responses.h"
#include "connectors/ews/streaming.h"
#include "daemon/synced_mailboxes.h"
#include "service/log.h"
#include "service/metrics.h"

namespace agendasync::daemon {

/// The watchers' HTTP client, which can be closed while streams are open. The client under it
/// may be the node's, shared by every organisation's watchers, where this organisation's
/// streams end a moment after their cancel flags are set: closing shuts a gate, so no callback
/// of a transfer it started runs once close() returned (a piece ends its transfer instead),
/// and later calls fail fast. So an organisation stops at once, without waiting for its
/// transfers to wind down.
class ClosableHttpClient final : public net::HttpClient {
 public:
  explicit ClosableHttpClient(std::shared_ptr<net::HttpClient> inner)
      : inner_(std::move(inner)), gate_(std::make_shared<Gate>()) {}

  Result<net::Response> send(const net::Request& request,
                             const net::Credentials& credentials) override {
    std::shared_lock lock(mutex_);
    if (!inner_) return closed();
    return inner_->send(request, credentials);
  }

  void send_async(net::Request request, net::Credentials credentials,
                  std::function<void(Result<net::Response>)> done) override {
    {
      std::shared_lock lock(mutex_);
      if (inner_) {
        if (request.on_body_piece) {
          request.on_body_piece =
              [gate = gate_, piece = std::move(request.on_body_piece)](std::string_view text) {
                std::shared_lock open(gate->mutex);
                return !gate->closed && piece(text);
              };
        }
        return inner_->send_async(
            std::move(request), std::move(credentials),
            [gate = gate_, done = std::move(done)](Result<net::Response> result) {
              std::shared_lock open(gate->mutex);
              if (!gate->closed) done(std::move(result));
            });
      }
    }
    done(closed());
  }

  /// Waits for blocking calls in progress (short requests: Subscribe) and for callbacks
  /// running now, then lets go of the client.
  void close() {
    std::shared_ptr<net::HttpClient> closing;
    {
      std::unique_lock lock(mutex_);
      closing = std::move(inner_);
    }
    {
      std::unique_lock shut(gate_->mutex);
      gate_->closed = true;
    }
    closing.reset();  // outside the locks: a client of our own abandons its transfers here
  }

 private:
  struct Gate {
    std::shared_mutex mutex;
    bool closed = false;
  };
  static std::unexpected<Error> closed() {
    return std::unexpected(
        Error::make(ErrorKind::kTransient, "the daemon is stopping; mailbox watching has ended"));
  }
  std::shared_mutex mutex_;
  std::shared_ptr<net::HttpClient> inner_;
  std::shared_ptr<Gate> gate_;
};

/// One open GetStreamingEvents transfer. The HTTP client's event loop splits its body into
/// envelopes here (under `mutex`, never the group's: a control thread may hold that while it
/// waits for a Subscribe on the same loop); a control task reads them.
struct StreamState {
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  std::mutex mutex;
  ews::EnvelopeSplitter splitter;
  std::deque<std::string> envelopes;
  std::optional<Error> broken;  ///< the body was not SOAP envelopes
  bool read_queued = false;
  std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now();
};

struct MailboxWatchers::Group {
  std::mutex mutex;  ///< held by one control task at a time
  std::string id;
  struct Member {
    std::string user;
    std::string subscription_id;  ///< empty: to subscribe
    /// Subscribe refused this mailbox (no such mailbox, no impersonation right): polled, and
    /// tried again after `retry_at`.
    std::optional<std::chrono::steady_clock::time_point> retry_at;
  };
  std::map<std::string, Member> members;          ///< by mailbox (alphabetical)
  std::map<std::string, std::string> mailbox_of;  ///< subscription id -> mailbox
  std::string cookie;                   ///< X-BackEndOverrideCookie of the group's mailbox server
  std::shared_ptr<StreamState> stream;  ///< the open stream, if any
  std::set<std::string> streaming;      ///< subscription ids on `stream`
  std::optional<Error> stream_failure;  ///< an error the stream reported
  bool cycle_queued = false;
  bool retired = false;
  /// The watchers closed the group's live stream (new members, a lost subscription, a
  /// failure): a change the server sent into the closing connection is gone, so every member
  /// is synced once when the next stream opens.
  bool closed_by_us = false;
  int failures = 0;  ///< failed cycles in a row
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
};

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

/// Errors that are about the whole connection (or server), not one mailbox: the group backs
/// off and tries again instead of giving up a mailbox.
bool is_group_wide(const Error& error) {
  return error.kind == ErrorKind::kThrottled || error.kind == ErrorKind::kTransient ||
         error.kind == ErrorKind::kAuth;
}

}  // namespace

Result<std::unique_ptr<MailboxWatchers>> MailboxWatchers::start(
    const config::Config& config, store::AgendaStore& store,
    std::function<void(const std::string&)> wake, WatcherOptions options) {
  Secret password;
  if (!config.exchange.password.empty()) {
    auto loaded = config::load_secret(config.exchange.password, "exchange.password");
    if (!loaded) return std::unexpected(loaded.error());
    password = std::move(*loaded);
  }
  std::unique_ptr<MailboxWatchers> watchers(
      new MailboxWatchers(config, store, std::move(wake), options, std::move(password)));
  watchers->refresh();
  MailboxWatchers* self = watchers.get();
  watchers->next_poll_ = Clock::now() + options.poll_unwatched;
  watchers->refresher_->post([self] { self->refresh_round(); },
                             std::min<milliseconds>(options.refresh, options.poll_unwatched));
  return watchers;
}

MailboxWatchers::MailboxWatchers(const config::Config& config, store::AgendaStore& store,
                                 std::function<void(const std::string&)> wake,
                                 WatcherOptions options, Secret password)
    : config_(config),
      store_(store),
      wake_(std::move(wake)),
      options_(options),
      password_(std::move(password)),
      stream_budget_(config.exchange.access == config::EwsAccess::kDelegate
                         ? static_cast<std::size_t>(config.exchange.streaming_connections)
                         : std::numeric_limits<std::size_t>::max()) {
  std::shared_ptr<WatcherThreads> shared = options.shared;
  if (!shared) {
    shared = WatcherThreads::make(options.control_threads, 1, watcher_client_options(config_),
                                  options.trust);
  }
  tasks_ = shared->control->lane();
  refresher_ = shared->refresh->lane();
  http_ = std::make_shared<ClosableHttpClient>(shared->streams);
}

net::ClientOptions watcher_client_options(const config::Config& config) {
  net::ClientOptions client;
  client.tls.ca_bundle_path = config.tls.ca_bundle.string();
  client.proxy = config.tls.proxy;
  // Exchange charges streaming connections to each group's anchor (HangingConnectionLimit),
  // not to the server as a whole, and they must never wait behind one another: this client
  // carries only the watchers' requests (the syncs have their own), so its per-server cap
  // is not the place to limit them. Subscribes are bounded by the control threads.
  client.max_concurrency_per_host = 100'000;
  return client;
}

std::shared_ptr<WatcherThreads> WatcherThreads::make(std::size_t control_threads,
                                                     std::size_t refresh_threads,
                                                     net::ClientOptions client,
                                                     std::shared_ptr<net::TrustedClients> trust) {
  auto threads = std::make_shared<WatcherThreads>();
  threads->control = std::make_shared<service::TaskQueue>(control_threads);
  threads->refresh = std::make_shared<service::TaskQueue>(refresh_threads);
  // Through the node's trust when the daemon has one: a SIGHUP then moves new requests to
  // the new [tls] (open streams finish on theirs).
  threads->streams =
      trust ? trust->make(std::move(client))
            : std::shared_ptr<net::HttpClient>(net::make_curl_client(std::move(client)));
  return threads;
}

MailboxWatchers::~MailboxWatchers() { stop(); }

void MailboxWatchers::stop() {
  if (stopping_.exchange(true)) return;
  refresher_->stop();
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, group] : groups_) {
      std::lock_guard group_lock(group->mutex);
      group->retired = true;
      if (group->stream) group->stream->cancel->store(true);
    }
  }
  // Ends every open stream at once; their ends are posted as tasks, which stop() drops.
  http_->close();
  tasks_->stop();
  std::lock_guard lock(mutex_);
  groups_.clear();
}

std::vector<std::string> MailboxWatchers::watched() const {
  std::vector<std::string> users;
  std::lock_guard lock(mutex_);
  for (const auto& [id, group] : groups_) {
    std::lock_guard group_lock(group->mutex);
    for (const auto& [mailbox, member] : group->members) {
      if (group->stream && group->streaming.contains(member.subscription_id))
        users.push_back(member.user);
    }
  }
  std::sort(users.begin(), users.end());
  return users;
}

WatchStats MailboxWatchers::stats() const {
  WatchStats stats;
  std::lock_guard lock(mutex_);
  stats.groups = groups_.size();
  for (const auto& [id, group] : groups_) {
    std::lock_guard group_lock(group->mutex);
    if (group->stream) ++stats.streams;
    for (const auto& [mailbox, member] : group->members) {
      if (group->stream && group->streaming.contains(member.subscription_id)) {
        ++stats.watched;
      } else {
        ++stats.unwatched;
      }
    }
  }
  return stats;
}

void MailboxWatchers::publish_stats() {
  if (!options_.metrics) return;
  const WatchStats now = stats();
  options_.metrics->set(service::metric::kWatchedMailboxes,
                        {{"org", options_.org}, {"backend", "ews"}, {"state", "watched"}},
                        static_cast<double>(now.watched));
  options_.metrics->set(service::metric::kWatchedMailboxes,
                        {{"org", options_.org}, {"backend", "ews"}, {"state", "unwatched"}},
                        static_cast<double>(now.unwatched));
  options_.metrics->set(service::metric::kStreamingConnections, {{"org", options_.org}},
                        static_cast<double>(now.streams));
}

void MailboxWatchers::stats_changed() {
  // Called under a group's lock; stats() takes every group's lock, so it runs as a task.
  if (options_.metrics) tasks_->post([this] { publish_stats(); });
}

void MailboxWatchers::refresh_round() {
  if (stopping_) return;
  refresh();
  if (subscribed_since_trim_.exchange(0) > 0) {
    // Subscribing thousands of mailboxes leaves the control threads' malloc arenas full of
    // freed request and response buffers that glibc keeps; give them back to the system so
    // the daemon's resident size follows what it holds (a few hundred bytes per mailbox).
    malloc_trim(0);
  }
  if (Clock::now() >= next_poll_) {
    poll_unwatched();
    next_poll_ = Clock::now() + options_.poll_unwatched;
  }
  publish_stats();
  refresher_->post([this] { refresh_round(); },
                   std::min<milliseconds>(options_.refresh, options_.poll_unwatched));
}

void MailboxWatchers::refresh() {
  auto wanted = options_.mailboxes ? options_.mailboxes() : synced_mailboxes(config_, store_);
  if (!wanted) {
    // Keep watching what is watched: the agenda could not be read for a moment.
    service::log_event(spdlog::level::warn, "mailbox_watch_refresh_failed",
                       {{"error", wanted.error().message}});
    return;
  }
  std::map<std::string, std::string> user_of;  // mailbox -> user
  std::vector<std::string> unresolved;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [user, mailbox] : *wanted) {
      user_of[mailbox] = user;
      if (!keys_.contains(mailbox)) unresolved.push_back(mailbox);
    }
  }
  bool lookup_due = false;
  {
    std::lock_guard lock(mutex_);
    lookup_due = std::chrono::steady_clock::now() >= grouping_retry_at_;
  }
  if (!unresolved.empty() && lookup_due) resolve_keys(unresolved);
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  WantedGroups groups;
  for (const auto& [mailbox, user] : user_of) {
    // Not resolved (Autodiscover did not answer): the URL alone, and asked again after the
    // back-off.
    auto key = keys_.find(mailbox);
    groups[mailbox] = key != keys_.end() ? key->second : config_.exchange.url + "|";
  }
  GroupPlacement next = place_in_groups(placement_, groups, options_.max_group_size);
  apply(next, user_of);
  placement_ = std::move(next);
}

void MailboxWatchers::resolve_keys(const std::vector<std::string>& mailboxes) {
  auto side = app::ews_side_options(config_, password_, "");
  std::string domain = config_.exchange.mail_domain;
  if (auto settings = store_.settings(); settings && !settings->mail_domain.empty())
    domain = settings->mail_domain;
  const auto endpoints = ews::grouping_endpoints(config_.exchange.url, domain);
  Result<ews::GroupingLookup> found =
      side ? ews::lookup_grouping(*http_, side->credentials, endpoints, mailboxes)
           : Result<ews::GroupingLookup>(std::unexpected(side.error()));
  std::lock_guard lock(mutex_);
  if (!found) {
    // Grouping by the EWS URL alone still works while the mailboxes live on one server (or
    // the load balancer keeps affinity); it is said once, and looked up again after a pause
    // that doubles while Autodiscover stays unreachable.
    grouping_backoff_ = grouping_backoff_.count() == 0
                            ? options_.grouping_retry
                            : std::min(grouping_backoff_ * 2, options_.grouping_retry_max);
    grouping_retry_at_ = std::chrono::steady_clock::now() + grouping_backoff_;
    if (!grouping_unavailable_logged_) {
      service::log_event(
          spdlog::level::warn, "stream_grouping_unavailable",
          {{"error", found.error().message},
           {"retry_seconds",
            std::chrono::duration_cast<std::chrono::seconds>(grouping_backoff_).count()},
           {"detail",
            "streaming subscriptions are grouped by the EWS URL alone; with several mailbox "
            "servers some mailboxes may lose their subscriptions (they are then synced and "
            "subscribed again). Let the daemon reach Autodiscover (agendasync doctor checks it)"}});
      grouping_unavailable_logged_ = true;
    }
    return;  // keys_ stays without them: the URL-only key is used below, and asked again
  }
  if (grouping_unavailable_logged_)
    service::log_event(spdlog::level::info, "stream_grouping_available",
                       {{"endpoint", found->endpoint}, {"mailboxes", mailboxes.size()}});
  grouping_unavailable_logged_ = false;
  grouping_backoff_ = {};
  grouping_retry_at_ = {};
  for (const std::string& mailbox : mailboxes) {
    auto it = found->found.find(mailbox);
    if (it == found->found.end()) {
      keys_[mailbox] = config_.exchange.url + "|";
      continue;
    }
    const std::string url = it->second.ews_url.empty() ? config_.exchange.url : it->second.ews_url;
    keys_[mailbox] = url + "|" + it->second.grouping;
  }
}

void MailboxWatchers::apply(const GroupPlacement& next,
                            const std::map<std::string, std::string>& user_of) {
  // Groups that are gone: their streams end, their subscriptions expire at Exchange.
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (next.members.contains(it->first)) {
      ++it;
      continue;
    }
    {
      std::lock_guard group_lock(it->second->mutex);
      it->second->retired = true;
      if (it->second->stream) it->second->stream->cancel->store(true);
    }
    service::log_event(spdlog::level::info, "mailbox_watch_stopped", {{"group", it->first}});
    it = groups_.erase(it);
  }
  for (const auto& [id, mailboxes] : next.members) {
    auto& slot = groups_[id];
    if (!slot) {
      slot = std::make_shared<Group>();
      slot->id = id;
    }
    Group& group = *slot;
    std::lock_guard group_lock(group.mutex);
    bool changed = false;
    for (auto it = group.members.begin(); it != group.members.end();) {
      if (mailboxes.contains(it->first)) {
        ++it;
        continue;
      }
      group.mailbox_of.erase(it->second.subscription_id);
      service::log_event(spdlog::level::info, "mailbox_watch_stopped",
                         {{"user", it->second.user}, {"group", id}});
      it = group.members.erase(it);
      changed = true;
    }
    for (const std::string& mailbox : mailboxes) {
      auto user = user_of.find(mailbox);
      auto [member, added] = group.members.try_emplace(mailbox);
      if (user != user_of.end()) member->second.user = user->second;
      changed = changed || added;
    }
    if (!changed) continue;
    // Streams carry a fixed set of ids: the group reconnects with its new set. The other
    // groups' streams are untouched.
    if (group.stream) {
      group.stream->cancel->store(true);
      group.closed_by_us = true;
    } else if (!group.cycle_queued) {
      group.cycle_queued = true;
      tasks_->post([this, slot] { cycle(slot); });
    }
  }
}

void MailboxWatchers::schedule_cycle(const std::shared_ptr<Group>& group, milliseconds delay) {
  // Caller holds group->mutex.
  if (group->cycle_queued || group->retired) return;
  group->cycle_queued = true;
  tasks_->post([this, group] { cycle(group); }, delay);
}

void MailboxWatchers::cycle(const std::shared_ptr<Group>& group) {
  std::lock_guard lock(group->mutex);
  group->cycle_queued = false;
  if (group->retired || stopping_ || group->stream || group->members.empty()) return;
  group->stream_failure.reset();
  subscribe_missing(*group);
  if (group->retired || stopping_) return;
  const std::optional<Error> failure = group->stream_failure;
  if (failure) ++group->failures;
  const milliseconds backoff = failure ? backoff_after(*group, *failure) : options_.restart_after;
  if (group->mailbox_of.empty()) {
    // Nothing subscribed (every Subscribe failed, or the server is unreachable): the poll
    // covers these mailboxes; try again later, and say why once per run of failures.
    if (!failure) ++group->failures;
    if (failure && group->failures == 1) {
      service::log_event(
          spdlog::level::warn, "mailbox_watch_failed",
          {{"group", group->id},
           {"error", failure->message},
           {"code", failure->protocol_code},
           {"detail",
            fmt::format(
                "{} mailboxes are polled every {} s; Subscribe is tried again "
                "in {} ms",
                group->members.size(),
                std::chrono::duration_cast<std::chrono::seconds>(options_.poll_unwatched).count(),
                backoff.count())}});
    }
    schedule_cycle(group, backoff);
    return;
  }
  if (open_streams_.load() >= stream_budget_) {
    // Delegate mode: the account's streaming connections are all in use. These mailboxes
    // are polled; the group tries again after a while (a stream may have ended by then).
    if (!budget_logged_.exchange(true)) {
      service::log_event(
          spdlog::level::warn, "streaming_budget_reached",
          {{"streaming_connections", std::to_string(stream_budget_)},
           {"detail",
            fmt::format("[exchange] access = \"delegate\": the service account holds at most "
                        "{} streaming connections (Exchange's HangingConnectionLimit), {} "
                        "mailboxes each; the other mailboxes are synced every {} s "
                        "(agendasync_watched_mailboxes{{state=\"unwatched\"}}). Impersonation "
                        "watches every mailbox",
                        stream_budget_, options_.max_group_size,
                        std::chrono::duration_cast<std::chrono::seconds>(options_.poll_unwatched)
                            .count())}});
    }
    schedule_cycle(group, options_.restart_after);
    return;
  }
  open_stream(group);
  if (failure) {
    // Some mailboxes could not subscribe for a reason that is the server's, not theirs: the
    // others stream meanwhile; the stream is reopened after the back-off to try them again.
    service::log_event(spdlog::level::warn, "mailbox_watch_failed",
                       {{"group", group->id},
                        {"error", failure->message},
                        {"code", failure->protocol_code},
                        {"detail", fmt::format("Subscribe is tried again in {} ms; the "
                                               "mailboxes not subscribed are polled meanwhile",
                                               backoff.count())}});
    std::weak_ptr<StreamState> stream = group->stream;
    tasks_->post(
        [stream] {
          if (auto open = stream.lock()) open->cancel->store(true);
        },
        backoff);
  }
}

milliseconds MailboxWatchers::backoff_after(const Group& group, const Error& failure) const {
  auto wait = options_.retry_delay * (1 << std::min(std::max(group.failures, 1) - 1, 10));
  if (failure.retry_after) wait = std::max<milliseconds>(wait, *failure.retry_after);
  return std::min<milliseconds>(wait, options_.restart_after);
}

void MailboxWatchers::subscribe_missing(Group& group) {
  const auto now = Clock::now();
  // The anchor is the group's first mailbox in alphabetical order; it subscribes first so the
  // server's affinity cookie exists before the others subscribe.
  for (auto& [mailbox, member] : group.members) {
    if (!member.subscription_id.empty()) continue;
    if (member.retry_at && now < *member.retry_at) continue;
    auto options = app::ews_side_options(config_, password_, mailbox);
    if (!options) {
      group.stream_failure = options.error();
      return;
    }
    options->affinity = ews::Affinity{group.members.begin()->first, group.cookie};
    ews::EwsCalendarSide side(*http_, std::move(*options));
    auto response = side.send_raw(ews::build_subscribe_streaming(side.context()));
    std::optional<Error> error;
    std::string id;
    if (!response) {
      error = response.error();
    } else if (auto parsed = ews::parse_response(response->body); !parsed) {
      error = parsed.error();
    } else if (parsed->fault) {
      error = side.message_error(*parsed->fault);
    } else if (parsed->messages.empty()) {
      error = Error::make(ErrorKind::kTransient, "Exchange answered Subscribe without a result");
    } else if (!parsed->messages.front().ok()) {
      error = side.message_error(parsed->messages.front());
    } else {
      id = parsed->messages.front().subscription_id;
      if (group.cookie.empty()) group.cookie = ews::backend_override_cookie(response->headers);
    }
    if (!error && id.empty()) {
      error = Error::make(ErrorKind::kTransient, "Exchange answered Subscribe without an id");
    }
    // EWSMaxSubscriptions is the charged account's: in delegate mode that is the service
    // account, so every later Subscribe would be refused too and the group backs off; when
    // impersonating, each mailbox has its own and only this one waits.
    const bool mailbox_budget = error && error->protocol_code == "ErrorExceededSubscriptionCount" &&
                                config_.exchange.access != config::EwsAccess::kDelegate;
    if (error && is_group_wide(*error) && !mailbox_budget) {
      group.stream_failure = *error;
      return;  // the whole group backs off; what is subscribed streams meanwhile
    }
    if (error) {
      member.retry_at = now + options_.restart_after;
      service::log_event(
          spdlog::level::warn, "mailbox_watch_failed",
          {{"user", member.user},
           {"error", error->message},
           {"detail", "this mailbox is polled every " +
                          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                             options_.poll_unwatched)
                                             .count()) +
                          " s until it can be subscribed"}});
      continue;
    }
    member.retry_at.reset();
    ++subscribed_since_trim_;
    member.subscription_id = id;
    group.mailbox_of[id] = mailbox;
    // A subscription reports what changes from now on: what changed since the pair's last
    // run and before this moment (a user just enabled, a mailbox that moved here, a lost
    // subscription) is picked up by one run of the pair, not by the safety net minutes later.
    // Posted: wake_ runs outside the group's lock, as for stream news.
    tasks_->post([this, user = member.user] { wake_(user); });
  }
}

void MailboxWatchers::open_stream(const std::shared_ptr<Group>& group) {
  // Impersonates the first subscribed mailbox (normally the anchor): Exchange charges the
  // connection to it (HangingConnectionLimit), so each group spends one of its anchor's own.
  std::vector<std::string> ids;
  std::string impersonated;
  for (const auto& [mailbox, member] : group->members) {
    if (member.subscription_id.empty()) continue;
    if (impersonated.empty()) impersonated = mailbox;
    ids.push_back(member.subscription_id);
  }
  auto options = app::ews_side_options(config_, password_, impersonated);
  if (!options) return;
  options->affinity = ews::Affinity{group->members.begin()->first, group->cookie};
  ews::EwsCalendarSide side(*http_, std::move(*options));
  auto stream = std::make_shared<StreamState>();
  group->stream = stream;
  ++open_streams_;
  group->streaming = std::set<std::string>(ids.begin(), ids.end());
  group->stream_failure.reset();
  const auto timeout = std::chrono::minutes{options_.connection_timeout_minutes + 1};
  service::log_event(
      spdlog::level::info, "mailbox_watch_started",
      {{"group", group->id}, {"anchor", impersonated}, {"mailboxes", std::to_string(ids.size())}});
  if (group->closed_by_us) {
    // Exchange takes a change off a subscription as it writes it to the stream; one written
    // into the connection this group closed reached nobody. The subscriptions report what
    // changes from here on; one run of each pair picks up what may have been lost.
    group->closed_by_us = false;
    for (const auto& [mailbox, member] : group->members) {
      if (member.subscription_id.empty()) continue;
      tasks_->post([this, user = member.user] { wake_(user); });
    }
  }
  side.stream_raw(
      ews::build_get_streaming_events(side.context(), ids, options_.connection_timeout_minutes),
      timeout,
      [this, group, stream](std::string_view piece) {
        bool post = false;
        {
          std::lock_guard lock(stream->mutex);
          auto complete = stream->splitter.feed(piece);
          if (!complete) {
            stream->broken = complete.error();
          } else {
            for (auto& envelope : *complete) stream->envelopes.push_back(std::move(envelope));
          }
          post = !stream->envelopes.empty() && !stream->read_queued;
          if (post) stream->read_queued = true;
        }
        if (post) tasks_->post([this, group] { read_news(group); });
        return !stream->broken && !stream->cancel->load();
      },
      [this, group](Result<net::Response> result) {
        tasks_->post([this, group, result = std::move(result)]() mutable {
          stream_ended(group, std::move(result));
        });
      },
      stream->cancel);
  stats_changed();
}

namespace {

/// What read_news found, acted on outside the group's lock.
struct News {
  std::set<std::string> wake;  ///< users
  bool restart = false;
};

}  // namespace

void MailboxWatchers::read_news(const std::shared_ptr<Group>& group) {
  News news;
  {
    std::lock_guard lock(group->mutex);
    std::shared_ptr<StreamState> stream = group->stream;
    if (!stream) return;
    std::deque<std::string> envelopes;
    {
      std::lock_guard stream_lock(stream->mutex);
      envelopes.swap(stream->envelopes);
      stream->read_queued = false;
    }
    const auto error_of = [&](const ews::ResponseMessage& message) {
      return group_error(*group, message);
    };
    auto lose = [&](const std::string& id) {
      auto mailbox = group->mailbox_of.find(id);
      if (mailbox == group->mailbox_of.end()) return;
      auto member = group->members.find(mailbox->second);
      if (member != group->members.end()) {
        // Changes may have happened while the subscription was gone: sync, then resubscribe.
        news.wake.insert(member->second.user);
        member->second.subscription_id.clear();
      }
      group->mailbox_of.erase(mailbox);
      news.restart = true;
    };
    for (const std::string& envelope : envelopes) {
      auto read = ews::read_group_envelope(envelope, error_of);
      if (!read) {
        group->stream_failure = read.error();
        news.restart = true;
        break;
      }
      for (const std::string& id : read->changed) {
        auto mailbox = group->mailbox_of.find(id);
        if (mailbox == group->mailbox_of.end()) continue;
        if (auto member = group->members.find(mailbox->second); member != group->members.end())
          news.wake.insert(member->second.user);
      }
      for (const std::string& id : read->lost) lose(id);
      if (read->all_lost) {
        for (const std::string& id : std::set<std::string>(group->streaming)) lose(id);
      }
      if (read->failure) {
        group->stream_failure = *read->failure;
        news.restart = true;
      }
    }
    if (news.restart) {
      stream->cancel->store(true);
      group->closed_by_us = true;
    }
  }
  for (const std::string& user : news.wake) {
    service::log_event(spdlog::level::info, "mailbox_changed", {{"user", user}});
    wake_(user);
  }
}

Error MailboxWatchers::group_error(const Group& group, const ews::ResponseMessage& message) const {
  const std::string anchor = group.members.empty() ? "" : group.members.begin()->first;
  return ews::error_from_response_code(
      message.response_code, message.message_text,
      ews::ErrorContext{config_.exchange.user, anchor, config::to_string(config_.exchange.auth)},
      message.back_off);
}

void MailboxWatchers::stream_ended(const std::shared_ptr<Group>& group,
                                   Result<net::Response> result) {
  read_news(group);  // whatever arrived last
  std::lock_guard lock(group->mutex);
  std::shared_ptr<StreamState> stream = std::move(group->stream);
  if (stream) --open_streams_;
  group->streaming.clear();
  if (group->retired || stopping_) return;
  std::optional<Error> failure = group->stream_failure;
  if (!failure && stream && stream->broken) failure = stream->broken;
  const bool cancelled = stream && stream->cancel->load();
  if (!failure && !result) failure = result.error();
  if (!failure && result && result->status != 200) {
    // EWS answers a refused GetStreamingEvents (ErrorExceededConnectionCount, ErrorServerBusy)
    // with a SOAP fault and HTTP 500: keep Exchange's code and back-off.
    auto parsed = ews::parse_response(result->body);
    if (parsed && parsed->fault) {
      failure = group_error(*group, *parsed->fault);
    } else {
      failure = Error::make(ErrorKind::kTransient,
                            fmt::format("GetStreamingEvents answered HTTP {}", result->status));
    }
  }
  // A stream the server ends at once, again and again, is a failure too (no busy loop).
  const bool short_lived =
      stream && Clock::now() - stream->opened < std::chrono::seconds(1) && !cancelled;
  if (!failure && !short_lived) {
    group->failures = 0;
    schedule_cycle(group);
    stats_changed();
    return;
  }
  if (failure && failure->protocol_code == "ErrorExceededConnectionCount") {
    // The hanging-connection budget, not EWSMaxConcurrency: syncs keep their concurrency.
    failure->message = fmt::format(
        "Exchange refused the streaming connection (ErrorExceededConnectionCount): the account "
        "it is charged to ({}) already holds its HangingConnectionLimit of open streams. "
        "Another client may share that budget; raise HangingConnectionLimit in the EWS "
        "web.config, or in delegate mode lower [exchange] streaming_connections",
        stream_budget_ == std::numeric_limits<std::size_t>::max()
            ? "the impersonated anchor " +
                  (group->members.empty() ? std::string() : group->members.begin()->first)
            : "the service account " + config_.exchange.user);
  }
  ++group->failures;
  const milliseconds wait = backoff_after(
      *group, failure ? *failure : Error::make(ErrorKind::kTransient, "the stream ended at once"));
  service::log_event(
      spdlog::level::warn, "mailbox_watch_failed",
      {{"group", group->id},
       {"error", failure ? failure->message : std::string("the stream ended at once")},
       {"code", failure ? failure->protocol_code : std::string()},
       {"detail",
        fmt::format(
            "{} mailboxes are polled every {} s until the stream is back, "
            "in {} ms",
            group->members.size(),
            std::chrono::duration_cast<std::chrono::seconds>(options_.poll_unwatched).count(),
            wait.count())}});
  schedule_cycle(group, wait);
  stats_changed();
}

void MailboxWatchers::poll_unwatched() {
  std::vector<std::string> users;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (const auto& [id, group] : groups_) {
      std::lock_guard group_lock(group->mutex);
      // A group still on its first subscribe round gets its chance first.
      if (group->failures == 0 && now - group->created < options_.poll_unwatched) continue;
      for (const auto& [mailbox, member] : group->members) {
        if (!group->stream || !group->streaming.contains(member.subscription_id))
          users.push_back(member.user);
      }
    }
  }
  for (const std::string& user : users) wake_(user);
}

}  // namespace agendasync::daemon
