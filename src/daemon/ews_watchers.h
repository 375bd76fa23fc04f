#pragma once
/// R23 for EWS: one streaming subscription per synced mailbox, each waking only its own pair
/// when Exchange reports a calendar change. Follows the agenda (users enabled, blocked or
/// given another address through the API) by a periodic refresh.
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
#include "store/agenda_store.h"

namespace agendasync::daemon {

class ClosableHttpClient;

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

}  // namespace agendasync::daemon
