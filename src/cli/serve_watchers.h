#pragma once
/// R23: wake-ups per mailbox. EWS: one streaming subscription per synced mailbox, each waking
/// only its own pair when Exchange reports a calendar change. Graph: one change-notification
/// subscription per synced mailbox (service::GraphSubscriptionKeeper over the connector's
/// graph::Subscriber); Graph posts to the daemon's notification route. Both follow the agenda
/// (users enabled, blocked or given another address through the API) by a periodic refresh.
#include <chrono>
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
#include "net/http.h"
#include "service/graph_subscriptions.h"
#include "store/agenda_store.h"

namespace agendasync::service {
class Server;
}

namespace agendasync::cli {

class ClosableHttpClient;

/// The path Graph posts change and lifecycle notifications to, after [server] public_url.
inline constexpr const char* kGraphNotificationPath = "/api/v1/notifications/graph";

/// R23 for Graph: subscribes every synced mailbox at Graph with notifications to
/// `<[server] public_url>/api/v1/notifications/graph` (the server must be listening: Graph
/// validates the URL first), keeps the subscriptions renewed and follows the agenda. Without
/// public_url it logs once that notifications are off and that `safety_net` is the latency.
/// Returns the stop function (deletes the subscriptions at Graph). Only a Graph backend's
/// credential failing to load is an error; a missing key ring is logged and leaves
/// notifications off.
Result<std::function<void()>> start_graph_watch(const config::Config& config,
                                                service::Server& server,
                                                service::GraphKeeperOptions options,
                                                std::chrono::minutes safety_net);

/// user -> mailbox address of every user whose mailbox should be watched now: sync enabled,
/// not blocked, with an address (the organisation's mail domain from the agenda, else the
/// configuration's). Shared by the EWS watchers and the Graph subscription keeper.
Result<std::map<std::string, std::string>> synced_mailboxes(const config::Config& config,
                                                            store::AgendaStore& store);

struct WatcherOptions {
  /// How often the agenda's users are re-read to start and stop watchers.
  std::chrono::milliseconds refresh{std::chrono::seconds(30)};
  /// Pause after a watcher gave up (too many failed connections in a row) before it starts
  /// over; the safety-net sync covers the mailbox meanwhile.
  std::chrono::milliseconds restart_after{std::chrono::seconds(60)};
};

class MailboxWatchers {
 public:
  /// `wake(user)` runs on a watcher thread when `user`'s mailbox changed. `store` must
  /// outlive the watchers (it is read on the refresh thread only).
  static Result<std::unique_ptr<MailboxWatchers>> start(
      const config::Config& config, store::AgendaStore& store,
      std::function<void(const std::string&)> wake, WatcherOptions options = {});
  ~MailboxWatchers();
  /// Ends every streaming connection at once (without waiting for Exchange's next
  /// keep-alive) and joins the threads. Idempotent.
  void stop();

  /// The users watched now (tests, logs).
  std::vector<std::string> watched() const;

 private:
  MailboxWatchers(const config::Config& config, store::AgendaStore& store,
                  std::function<void(const std::string&)> wake, WatcherOptions options,
                  Secret password);
  void refresh_loop(std::stop_token stop);
  void refresh();
  void watch(const std::string& user, const std::string& mailbox);

  config::Config config_;
  store::AgendaStore& store_;
  std::function<void(const std::string&)> wake_;
  WatcherOptions options_;
  Secret password_;
  std::shared_ptr<ClosableHttpClient> http_;

  struct Watch {
    std::string mailbox;
    std::jthread thread;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Watch> watches_;  // by user name
  std::vector<std::jthread> retiring_;    // stopped, ending at their stream's next piece
  std::jthread refresher_;
  bool stopped_ = false;
};

}  // namespace agendasync::cli
