#include "net/testing/stray_answer_proxy.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace agendasync::net::testing {
namespace {

bool says_close(const std::string& message) {
  std::string head = message.substr(0, message.find("\r\n\r\n"));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head.find("\r\nconnection: close") != std::string::npos;
}

/// Closes the upstream connection when the client connection ends.
struct Upstream {
  int fd = -1;
  ~Upstream() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

StrayAnswerProxy::StrayAnswerProxy(int upstream_port)
    : upstream_port_(upstream_port), server_([this](int fd, int) { serve(fd); }) {}

void StrayAnswerProxy::stray_answer_to(int n, When when) {
  std::lock_guard lock(mutex_);
  plan_[n] = when;
}

bool StrayAnswerProxy::planned(int n, When when) {
  std::lock_guard lock(mutex_);
  const auto it = plan_.find(n);
  if (it == plan_.end() || it->second != when) return false;
  // A plan is used up by the request it was for.
  plan_.erase(it);
  return true;
}

void StrayAnswerProxy::serve(int client_fd) {
  Upstream upstream;
  for (;;) {
    // libcurl looks at an idle connection before reusing it and drops one with unread data,
    // so a stray answer written while the connection is idle is never read as an answer.
    // The stray answer crossed the next request on the wire: it goes out when that
    // request starts to arrive, before the server reads a byte of it.
    char first = 0;
    if (!wait_readable(client_fd, milliseconds(5000)) ||
        ::recv(client_fd, &first, 1, MSG_PEEK) <= 0) {
      return;  // the client closed the connection (or went quiet)
    }
    if (planned(requests_.load() + 1, When::kBeforeForwarding)) {
      ++requests_;
      send_all(client_fd, kStrayAnswer);
      ++strays_;
      // Read and dropped: the server never sees it. libcurl may stop sending a large body
      // once it has read the answer, so the request is counted as soon as it began.
      read_http_request(client_fd);
      return;
    }
    const std::string request = read_http_request(client_fd);
    if (request.empty()) return;  // the client closed the connection (or went quiet)
    const int n = ++requests_;
    if (upstream.fd < 0) upstream.fd = connect_loopback(upstream_port_);
    if (upstream.fd < 0 || !send_all(upstream.fd, request)) return;
    // httplib and exsim frame every answer with Content-Length, which read_http_request
    // follows for answers as well as requests.
    const std::string answer = read_http_request(upstream.fd);
    if (answer.empty()) return;
    if (planned(n, When::kAfterForwarding)) {
      send_all(client_fd, kStrayAnswer);
      ++strays_;
      return;
    }
    if (!send_all(client_fd, answer) || says_close(answer)) return;
  }
}

}  // namespace agendasync::net::testing
