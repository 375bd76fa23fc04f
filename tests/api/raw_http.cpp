#include "raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace agendasync::apitest {

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a server that closed on us is a test outcome, not a SIGPIPE.
    auto sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

bool RawConnection::fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() < 0) return false;
  pollfd watch{fd_, POLLIN, 0};
  if (::poll(&watch, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[16384];
  auto got = ::recv(fd_, chunk, sizeof chunk, 0);
  if (got <= 0) {
    eof_ = true;  // closed (0) or reset (-1, ECONNRESET)
    return true;
  }
  buffer_.append(chunk, static_cast<std::size_t>(got));
  return true;
}

std::optional<RawResponse> RawConnection::read_response(std::chrono::milliseconds limit,
                                                        bool head_request) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::size_t end_of_head;
  while ((end_of_head = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (eof_ || !fill(deadline)) return std::nullopt;
  }
  RawResponse response;
  std::string head = buffer_.substr(0, end_of_head);
  auto first_space = head.find(' ');
  if (first_space == std::string::npos) return std::nullopt;
  response.status = std::atoi(head.c_str() + first_space + 1);
  std::size_t line = head.find("\r\n");
  while (line != std::string::npos) {
    std::size_t next = head.find("\r\n", line + 2);
    std::string field =
        head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
    auto colon = field.find(':');
    if (colon != std::string::npos) {
      std::string name = field.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string value = field.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers[name] = value;
    }
    line = next;
  }
  std::size_t length =
      head_request
          ? 0
          : static_cast<std::size_t>(std::atoll(response.header("content-length").c_str()));
  std::size_t body_start = end_of_head + 4;
  while (buffer_.size() < body_start + length) {
    if (eof_ || !fill(deadline)) return std::nullopt;
  }
  response.body = buffer_.substr(body_start, length);
  buffer_.erase(0, body_start + length);
  return response;
}

bool RawConnection::closed_within(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!eof_) {
    if (!fill(deadline)) return false;
  }
  return true;
}

}  // namespace agendasync::apitest
