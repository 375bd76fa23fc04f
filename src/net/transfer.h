#pragma once
/// One request's life inside the curl client: what was asked, who waits for the answer, and
/// the state of the current attempt (easy handle, response being received).
#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "net/http.h"
#include "net/server_address.h"

namespace agendasync::net {

struct Transfer {
  Transfer() = default;
  ~Transfer() { end_attempt(); }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  std::uint64_t id = 0;
  Request request;
  Credentials credentials;
  ServerAddress server;
  /// The concurrency slots it waits for: the server's key, or its Request::budget_key's
  /// (budget_slot_key), with the cap that key starts with (0: the client's default).
  std::string slot_key;
  int slot_limit = 0;
  /// Receives the final result exactly once.
  std::function<void(Result<Response>)> done;
  /// send(): `done` only fulfils a promise, so it runs on the loop thread without a hop.
  bool complete_inline = false;

  Secret bearer_token;            ///< the token of the current attempt (Bearer only)
  bool bearer_refreshed = false;  ///< a 401 already led to one fresh token
  int attempts = 0;
  std::chrono::milliseconds waited{0};
  /// The next attempt opens a new connection (Request::fresh_connection, or the retry
  /// after a stray answer).
  bool fresh_connection = false;
  bool stray_retried = false;  ///< a stray answer already led to the one retry

  // The current attempt.
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  Response response;
  long status_so_far = 0;            ///< from the latest status line, while headers arrive
  bool body_handed_over = false;     ///< on_body_piece got something: no retry after this
  bool stopped_by_caller = false;    ///< on_body_piece returned false, or Request::cancel
  bool piece_handler_threw = false;  ///< on_body_piece threw: a bug on the caller's side
  char error_buffer[CURL_ERROR_SIZE] = {};

  /// Frees the easy handle and header list of the current attempt (after it left the multi).
  void end_attempt() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (header_list != nullptr) curl_slist_free_all(header_list);
    easy = nullptr;
    header_list = nullptr;
  }
};

}  // namespace agendasync::net
