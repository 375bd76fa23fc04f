#pragma once
// A client that speaks HTTP/1.1 byte by byte over a plain socket, for what a well-behaved client
// library cannot do: trickle a header line every few seconds, promise a body and never send it,
// sit idle on a keep-alive connection, send a malformed request.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace agendasync::apitest {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto found = headers.find(lower_name);
    return found == headers.end() ? std::string() : found->second;
  }
};

class RawConnection {
 public:
  /// Connects to 127.0.0.1:port (blocking); `ok()` says whether it worked.
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  /// Sends every byte; false when the server has closed or reset the connection.
  bool send(std::string_view bytes);
  /// One response (status line, headers, a Content-Length body; no body when `head_request`,
  /// the answer to a HEAD); nullopt when none arrived within `limit` or the connection ended.
  std::optional<RawResponse> read_response(std::chrono::milliseconds limit,
                                           bool head_request = false);
  /// True when the server closed (or reset) the connection within `limit`; bytes that arrive
  /// meanwhile are kept for read_response.
  bool closed_within(std::chrono::milliseconds limit);

 private:
  /// Reads what is there within `limit`; false on timeout, and sets eof_ when the peer closed.
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

}  // namespace agendasync::apitest
