#include "daemon/ews_watchers.h"

#include <condition_variable>
#include <shared_mutex>

#include "app/exchange_connection.h"
#include "app/pair_settings.h"
#include "connectors/ews/streaming.h"
#include "core/settings.h"
#include "daemon/synced_mailboxes.h"
#include "service/log.h"

namespace agendasync::daemon {

/// The watchers' HTTP client, which can be closed while streams are open: closing destroys
/// the libcurl client, which ends every open GetStreamingEvents transfer at once; later
/// calls fail fast instead of touching a destroyed client.
class ClosableHttpClient final : public net::HttpClient {
 public:
  explicit ClosableHttpClient(std::unique_ptr<net::HttpClient> inner) : inner_(std::move(inner)) {}

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
      if (inner_)
        return inner_->send_async(std::move(request), std::move(credentials), std::move(done));
    }
    done(closed());
  }

  /// Waits for blocking calls in progress (short requests: Subscribe), then ends the rest.
  void close() {
    std::unique_ptr<net::HttpClient> closing;
    {
      std::unique_lock lock(mutex_);
      closing = std::move(inner_);
    }
    closing.reset();  // outside the lock: abandoned transfers report to their callbacks
  }

 private:
  static std::unexpected<Error> closed() {
    return std::unexpected(
        Error::make(ErrorKind::kTransient, "the daemon is stopping; mailbox watching has ended"));
  }
  std::shared_mutex mutex_;
  std::unique_ptr<net::HttpClient> inner_;
};

namespace {

/// Waits `duration` unless `stop` is requested first.
void pause(std::stop_token stop, std::chrono::milliseconds duration) {
  std::mutex mutex;
  std::condition_variable_any never;
  std::unique_lock lock(mutex);
  never.wait_for(lock, stop, duration, [] { return false; });
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
  watchers->refresher_ = std::jthread([self](std::stop_token stop) { self->refresh_loop(stop); });
  return watchers;
}

MailboxWatchers::MailboxWatchers(const config::Config& config, store::AgendaStore& store,
                                 std::function<void(const std::string&)> wake,
                                 WatcherOptions options, Secret password)
    : config_(config),
      store_(store),
      wake_(std::move(wake)),
      options_(options),
      password_(std::move(password)) {
  net::ClientOptions client;
  client.tls.ca_bundle_path = config_.tls.ca_bundle.string();
  client.proxy = config_.tls.proxy;
  http_ = std::make_shared<ClosableHttpClient>(net::make_curl_client(std::move(client)));
}

MailboxWatchers::~MailboxWatchers() { stop(); }

void MailboxWatchers::stop() {
  std::vector<std::jthread> threads;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    refresher_.request_stop();
    for (auto& [user, watch] : watches_) {
      watch.thread.request_stop();
      threads.push_back(std::move(watch.thread));
    }
    watches_.clear();
    for (auto& thread : retiring_) threads.push_back(std::move(thread));
    retiring_.clear();
  }
  if (refresher_.joinable()) refresher_.join();
  http_->close();
  threads.clear();  // joins: every stream has ended with the client
}

std::vector<std::string> MailboxWatchers::watched() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> users;
  for (const auto& [user, watch] : watches_) users.push_back(user);
  return users;
}

void MailboxWatchers::refresh_loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    pause(stop, options_.refresh);
    if (!stop.stop_requested()) refresh();
  }
}

void MailboxWatchers::refresh() {
  auto wanted = synced_mailboxes(config_, store_);
  if (!wanted) {
    // Keep watching what is watched: the agenda could not be read for a moment.
    service::log_event(spdlog::level::warn, "mailbox_watch_refresh_failed",
                       {{"error", wanted.error().message}});
    return;
  }
  const auto& mailboxes = *wanted;
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  for (auto it = watches_.begin(); it != watches_.end();) {
    auto want = mailboxes.find(it->first);
    if (want != mailboxes.end() && want->second == it->second.mailbox) {
      ++it;
      continue;
    }
    it->second.thread.request_stop();
    retiring_.push_back(std::move(it->second.thread));
    service::log_event(spdlog::level::info, "mailbox_watch_stopped", {{"user", it->first}});
    it = watches_.erase(it);
  }
  for (const auto& [user, mailbox] : mailboxes) {
    if (!watches_.contains(user)) watch(user, mailbox);
  }
}

void MailboxWatchers::watch(const std::string& user, const std::string& mailbox) {
  Watch& entry = watches_[user];
  entry.mailbox = mailbox;
  entry.thread = std::jthread([this, user, mailbox](std::stop_token stop) {
    auto side_options = app::ews_side_options(config_, password_, mailbox);
    if (!side_options) {
      service::log_event(spdlog::level::warn, "mailbox_watch_failed",
                         {{"user", user}, {"error", side_options.error().message}});
      return;
    }
    ews::EwsCalendarSide side(*http_, std::move(*side_options));
    ews::MailboxWatcher watcher(side, [this, user] {
      service::log_event(spdlog::level::info, "mailbox_changed", {{"user", user}});
      wake_(user);
    });
    service::log_event(spdlog::level::info, "mailbox_watch_started",
                       {{"user", user}, {"mailbox", mailbox}});
    while (!stop.stop_requested()) {
      auto ran = watcher.run(stop);
      if (stop.stop_requested()) break;
      service::log_event(
          spdlog::level::warn, "mailbox_watch_failed",
          {{"user", user},
           {"error", ran ? std::string("stream ended") : ran.error().message},
           {"detail", "the safety-net sync covers this mailbox until the watch restarts"}});
      pause(stop, options_.restart_after);
    }
  });
}

}  // namespace agendasync::daemon
