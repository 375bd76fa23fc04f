#include "cluster/pg_listener.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <condition_variable>

#include "store/pg_connection.h"

namespace agendasync::cluster {

namespace {

/// One statement on the listening connection; false when it failed (the connection is then
/// dropped and made again).
bool exec(PGconn* conn, const std::string& sql) {
  PGresult* result = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  return ok;
}

PGconn* connect(const std::string& conninfo) {
  // Keepalives: a server that vanished without closing the socket (a network partition) is
  // noticed within seconds, not at the kernel's two-hour default.
  const char* keywords[] = {
      "connect_timeout",     "application_name", "keepalives", "keepalives_idle",
      "keepalives_interval", "keepalives_count", "dbname",     nullptr};
  const char* values[] = {"5", "agendasync-listen", "1", "5", "2", "3", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn && PQstatus(conn) == CONNECTION_OK && PQsetnonblocking(conn, 1) == 0) {
    // The server's notices ("terminating connection due to administrator command") are not
    // for stderr: a lost connection is handled (and logged by the caller's rescan).
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return conn;
  }
  if (conn) PQfinish(conn);
  return nullptr;
}

}  // namespace

PgListener::PgListener(std::string conninfo) : conninfo_(std::move(conninfo)) {
  if (pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) wake_pipe_[0] = wake_pipe_[1] = -1;
}

PgListener::~PgListener() {
  stop();
  for (int fd : wake_pipe_) {
    if (fd >= 0) close(fd);
  }
}

void PgListener::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void PgListener::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void PgListener::wake() {
  if (wake_pipe_[1] >= 0) {
    const char byte = 1;
    (void)!write(wake_pipe_[1], &byte, 1);
  }
}

void PgListener::listen(const std::string& channel, Handler handler) {
  {
    std::lock_guard lock(mutex_);
    const bool known = channels_.contains(channel);
    channels_[channel] = std::move(handler);
    if (known) return;
    to_listen_.push_back(channel);
    std::erase(to_unlisten_, channel);
    synced_ = false;
  }
  wake();
}

void PgListener::unlisten(const std::string& channel) {
  {
    std::lock_guard lock(mutex_);
    if (channels_.erase(channel) == 0) return;
    to_unlisten_.push_back(channel);
    std::erase(to_listen_, channel);
  }
  wake();
}

void PgListener::on_reconnect(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  reconnect_hooks_.push_back(std::move(hook));
}

bool PgListener::wait_connected(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return synced_ || stopping_; }) && synced_;
}

void PgListener::run() {
  PGconn* conn = nullptr;
  bool connected_before = false;
  auto retry = std::chrono::milliseconds(100);
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    if (!conn) {
      conn = connect(conninfo_);
      if (!conn) {
        // Wait on the pipe so stop() is not delayed by the back-off.
        pollfd waiting{wake_pipe_[0], POLLIN, 0};
        poll(&waiting, 1, static_cast<int>(retry.count()));
        retry = std::min<std::chrono::milliseconds>(retry * 2, std::chrono::seconds(2));
        continue;
      }
      retry = std::chrono::milliseconds(100);
      std::vector<std::function<void()>> hooks;
      bool ok = true;
      {
        std::lock_guard lock(mutex_);
        // Every channel again: the server forgot them with the old connection.
        to_listen_.clear();
        to_unlisten_.clear();
        std::string sql;
        for (const auto& [channel, handler] : channels_) {
          sql += "LISTEN " + store::pg::quote_identifier(channel) + ";";
        }
        ok = sql.empty() || exec(conn, sql);
        if (ok) {
          synced_ = true;
          backend_pid_ = PQbackendPID(conn);
          if (connected_before) hooks = reconnect_hooks_;
        }
      }
      if (!ok) {
        PQfinish(conn);
        conn = nullptr;
        continue;
      }
      changed_.notify_all();
      if (connected_before) ++reconnects_;
      connected_before = true;
      for (auto& hook : hooks) hook();
    }

    // Channels asked for since: LISTEN / UNLISTEN them now.
    std::string changes;
    {
      std::lock_guard lock(mutex_);
      for (const auto& channel : to_listen_) {
        changes += "LISTEN " + store::pg::quote_identifier(channel) + ";";
      }
      for (const auto& channel : to_unlisten_) {
        changes += "UNLISTEN " + store::pg::quote_identifier(channel) + ";";
      }
      to_listen_.clear();
      to_unlisten_.clear();
    }
    if (!changes.empty()) {
      if (!exec(conn, changes)) {
        PQfinish(conn);
        conn = nullptr;
        backend_pid_ = 0;
        std::lock_guard lock(mutex_);
        synced_ = false;
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        synced_ = to_listen_.empty();
      }
      changed_.notify_all();
    }

    pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    poll(fds, 2, 1000);
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(wake_pipe_[0], drain, sizeof drain) > 0) {
      }
    }
    if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
      // The server ended the connection (restart, pg_terminate_backend, network).
      PQfinish(conn);
      conn = nullptr;
      backend_pid_ = 0;
      std::lock_guard lock(mutex_);
      synced_ = false;
      continue;
    }
    while (PGnotify* notify = PQnotifies(conn)) {
      Handler handler;
      {
        std::lock_guard lock(mutex_);
        if (auto found = channels_.find(notify->relname); found != channels_.end()) {
          handler = found->second;
        }
      }
      if (handler) handler(notify->extra ? notify->extra : "");
      PQfreemem(notify);
    }
  }
  if (conn) PQfinish(conn);
  backend_pid_ = 0;
  {
    std::lock_guard lock(mutex_);
    synced_ = false;
  }
  changed_.notify_all();
}

}  // namespace agendasync::cluster
