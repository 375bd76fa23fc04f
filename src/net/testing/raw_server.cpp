#include "net/testing/raw_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace agendasync::net::testing {
namespace {

int bind_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("bind(127.0.0.1:0) failed");
  }
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

}  // namespace

bool wait_readable(int fd, milliseconds timeout) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, static_cast<int>(timeout.count())) > 0;
}

RawServer::RawServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = bind_loopback(port_);
  if (::listen(listen_fd_, 64) != 0) throw std::runtime_error("listen() failed");
  acceptor_ = std::thread([this] { accept_loop(); });
}

RawServer::~RawServer() {
  stopping_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard lock(mutex_);
  for (auto& thread : handlers_) thread.join();
}

void RawServer::accept_loop() {
  while (!stopping_) {
    if (!wait_readable(listen_fd_, milliseconds(50))) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    const int index = connections_++;
    std::lock_guard lock(mutex_);
    handlers_.emplace_back([this, fd, index] {
      handler_(fd, index);
      ::close(fd);
    });
  }
}

std::string read_http_request(int fd, milliseconds timeout) {
  std::string data;
  char buffer[4096];
  std::size_t head_end = std::string::npos;
  std::size_t wanted = 0;
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string lowered = data.substr(0, head_end);
        for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto at = lowered.find("content-length:");
        const std::size_t body = at == std::string::npos ? 0 : std::stoul(lowered.substr(at + 15));
        wanted = head_end + 4 + body;
      }
    }
    if (head_end != std::string::npos && data.size() >= wanted) return data;
    if (!wait_readable(fd, timeout)) return {};
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) return {};
    data.append(buffer, static_cast<std::size_t>(got));
  }
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

void arm_reset(int fd) {
  linger option{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
}

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void relay(int a, int b, milliseconds idle) {
  char buffer[16384];
  for (;;) {
    pollfd entries[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (::poll(entries, 2, static_cast<int>(idle.count())) <= 0) return;
    for (int i = 0; i < 2; ++i) {
      if ((entries[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const int from = i == 0 ? a : b;
      const int to = i == 0 ? b : a;
      const ssize_t got = ::recv(from, buffer, sizeof buffer, 0);
      if (got <= 0) return;
      if (!send_all(to, std::string_view(buffer, static_cast<std::size_t>(got)))) return;
    }
  }
}

int unused_port() {
  int port = 0;
  const int fd = bind_loopback(port);
  ::close(fd);
  return port;
}

}  // namespace agendasync::net::testing
