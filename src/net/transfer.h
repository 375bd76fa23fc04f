#pragma once
/// One request's life inside the curl client: what was asked, who waits for the answer, and
/// the state of the current attempt (easy handle, response being received).
#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/body_decoder.h"
#include "net/http.h"
#include "net/server_address.h"

namespace agendasync::net {

/// Responses larger than this (decoded) are cut off with an error rather than exhausting
/// memory; a decompression bomb stops here too.
inline constexpr std::size_t kMaxResponseBytes = std::size_t{512} << 20;

struct Transfer {
  Transfer() = default;
  ~Transfer() { end_attempt(); }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  std::uint64_t id = 0;
  /// What was asked: the caller's own Request for a blocking send on its thread (it outlives
  /// the send, so its body and headers are not copied), else a copy the transfer owns.
  const Request& request() const { return *request_; }
  void own_request(Request request) {
    owned_request_ = std::move(request);
    request_ = &owned_request_;
  }
  void borrow_request(const Request& request) { request_ = &request; }
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
  /// The client's idle decoders, lent to an attempt whose answer is compressed.
  BodyDecoderPool* decoders = nullptr;
  /// The most decoded bytes an answer may hold (kMaxResponseBytes, lower in tests).
  std::size_t max_body_bytes = kMaxResponseBytes;

  // The current attempt.
  CURL* easy = nullptr;
  /// The request's header lines, each ending in '\0', and the curl_slist nodes pointing into
  /// them: one buffer instead of a malloc'ed node and string per line (easy_setup.cpp).
  std::string header_text;
  std::vector<curl_slist> header_nodes;
  Response response;
  long status_so_far = 0;            ///< from the latest status line, while headers arrive
  bool body_handed_over = false;     ///< on_body_piece got something: no retry after this
  bool stopped_by_caller = false;    ///< on_body_piece returned false, or Request::cancel
  bool piece_handler_threw = false;  ///< on_body_piece threw: a bug on the caller's side
  bool body_begun = false;           ///< the current header block's body chose its coding
  BodyCoding body_coding = BodyCoding::kIdentity;
  std::unique_ptr<BodyDecoder> decoder;  ///< while a compressed body arrives
  bool body_too_large = false;           ///< the decoded body passed max_body_bytes
  /// Why the body could not be decoded (an unknown coding, corrupt or truncated data).
  std::string undecodable;
  char error_buffer[CURL_ERROR_SIZE] = {};

  /// Frees the easy handle of the current attempt (after it left the multi) and lends its
  /// decoder back; wipes the header lines (they may carry an Authorization).
  void end_attempt();

 private:
  Request owned_request_;
  const Request* request_ = &owned_request_;
};

}  // namespace agendasync::net
