#pragma once
/// One LISTEN connection per node (issue 17 §4): a thread that holds it, LISTENs on the
/// channels its users ask for and hands each notification to the channel's handler.
/// NOTIFY is not durable — what is sent while the connection is down is lost — so the thread
/// reconnects (100 ms, doubling to 2 s) and, once LISTENing again, runs the reconnect hooks:
/// the node rescans what it may have missed. libpq directly (PQnotifies needs the raw
/// connection); the store's Connection is for statements.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace agendasync::cluster {

class PgListener {
 public:
  using Handler = std::function<void(const std::string& payload)>;

  /// `conninfo`: the server (a libpq URI or keyword string). Nothing connects before start().
  explicit PgListener(std::string conninfo);
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  void start();
  /// Closes the connection and joins the thread. Idempotent.
  void stop();

  /// LISTENs on `channel` (at once when connected, else at the next connect); `handler` runs
  /// on the listener's thread for each notification: keep it short, never block on it.
  void listen(const std::string& channel, Handler handler);
  void unlisten(const std::string& channel);
  /// Runs after every reconnect (not the first connect), on the listener's thread, once the
  /// channels are LISTENed again.
  void on_reconnect(std::function<void()> hook);

  /// Waits up to `timeout` for the connection to be up with every channel LISTENed.
  bool wait_connected(std::chrono::milliseconds timeout) const;
  /// The server process of the current connection (0 when down): tests end it with
  /// pg_terminate_backend.
  int backend_pid() const { return backend_pid_.load(); }
  std::uint64_t reconnects() const { return reconnects_.load(); }

 private:
  void run();
  void wake();

  std::string conninfo_;
  mutable std::mutex mutex_;
  mutable std::condition_variable_any changed_;
  std::map<std::string, Handler> channels_;
  std::vector<std::string> to_listen_, to_unlisten_;
  std::vector<std::function<void()>> reconnect_hooks_;
  bool stopping_ = false;
  bool synced_ = false;  ///< connected and every channel LISTENed
  int wake_pipe_[2] = {-1, -1};
  std::atomic<int> backend_pid_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::thread thread_;
};

}  // namespace agendasync::cluster
