// Content-Encoding through the whole client, on both paths: the client asks for gzip and
// decodes gzip, deflate (zlib or raw) and identity answers itself, body after body on one
// kept-alive connection, also streamed and chunked; an encoding it did not ask for, corrupt
// or cut-short compressed data and a decompression bomb end in errors that say so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "net/http.h"
#include "net/testing/both_sends.h"
#include "net/testing/compress.h"
#include "net/testing/raw_server.h"

namespace agendasync::net {
namespace {

using testing::compress;
using ::testing::HasSubstr;
using testing::RawServer;
using testing::soap_text;
using testing::Wrapper;

const std::string kText = soap_text(40);

/// An answer with `headers` (each line ending in \r\n) and `body`, framed by Content-Length.
std::string answer(std::string_view headers, std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" + std::string(headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

/// The same, chunked in pieces of `piece` bytes.
std::string chunked_answer(std::string_view headers, std::string_view body, std::size_t piece) {
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" + std::string(headers) +
                    "Transfer-Encoding: chunked\r\n\r\n";
  for (std::size_t at = 0; at < body.size(); at += piece) {
    const std::string_view part = body.substr(at, piece);
    out += fmt::format("{:x}\r\n", part.size());
    out += part;
    out += "\r\n";
  }
  return out + "0\r\n\r\n";
}

/// Answers by path, as many requests per connection as the client sends; keeps every
/// request head it saw.
class EncodingServer {
 public:
  EncodingServer()
      : server_([this](int fd, int) {
          for (;;) {
            const std::string request = testing::read_http_request(fd);
            if (request.empty()) return;
            const auto space = request.find(' ');
            const std::string path =
                request.substr(space + 1, request.find(' ', space + 1) - space - 1);
            {
              std::lock_guard lock(mutex_);
              heads_.push_back(request.substr(0, request.find("\r\n\r\n")));
            }
            if (!testing::send_all(fd, answer_for(path))) return;
          }
        }) {}

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + std::string(path);
  }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  int connections() const { return server_.connections(); }
  std::vector<std::string> heads() {
    std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  static std::string answer_for(const std::string& path) {
    const std::string gzip = compress(kText, Wrapper::kGzip);
    if (path == "/gzip") return answer("Content-Encoding: gzip\r\n", gzip);
    if (path == "/x-gzip") return answer("Content-Encoding: X-GZIP\r\n", gzip);
    if (path == "/deflate") {
      return answer("Content-Encoding: deflate\r\n", compress(kText, Wrapper::kZlib));
    }
    if (path == "/raw-deflate") {
      return answer("Content-Encoding: deflate\r\n", compress(kText, Wrapper::kRaw));
    }
    if (path == "/identity") return answer("Content-Encoding: identity\r\n", kText);
    if (path == "/plain") return answer("", kText);
    if (path == "/chunked-gzip") return chunked_answer("Content-Encoding: gzip\r\n", gzip, 7);
    if (path == "/br") return answer("Content-Encoding: br\r\n", "\x1b\x03\x00\xf8");
    if (path == "/corrupt") {
      std::string broken = gzip;
      broken[broken.size() / 2] ^= 0x5a;
      broken[broken.size() / 2 + 1] ^= 0x5a;
      return answer("Content-Encoding: gzip\r\n", broken);
    }
    if (path == "/cut-short") {
      return answer("Content-Encoding: gzip\r\n",
                    std::string_view(gzip).substr(0, gzip.size() - 12));
    }
    if (path == "/bomb") {
      // 16 MiB of zeros in about 16 KB.
      return answer("Content-Encoding: gzip\r\n",
                    compress(std::string(std::size_t{16} << 20, '\0'), Wrapper::kGzip));
    }
    if (path == "/head") {
      return "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 123\r\n\r\n";
    }
    return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  }

  std::mutex mutex_;
  std::vector<std::string> heads_;
  RawServer server_;  // last: its threads use the members above
};

Request get(std::string url) {
  Request request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

class CurlClientEncodingTest : public testing::BothSends {
 protected:
  std::unique_ptr<HttpClient> client_with_a_small_limit() const {
    CurlClientLimits limits;
    limits.max_response_bytes = std::size_t{1} << 20;
    return make_curl_client({}, GetParam(), limits);
  }
};
AGENDASYNC_FOR_BOTH_SENDS(CurlClientEncodingTest);

TEST_P(CurlClientEncodingTest, EveryEncodingAskedForIsDecodedBodyAfterBodyOnOneConnection) {
  EncodingServer server;
  auto client = make_client();
  for (int round = 0; round < 2; ++round) {
    for (const char* path :
         {"/gzip", "/x-gzip", "/deflate", "/raw-deflate", "/identity", "/plain", "/chunked-gzip"}) {
      auto got = client->send(get(server.url(path)), {});
      ASSERT_TRUE(got) << path << ": " << got.error().message;
      EXPECT_EQ(got->status, 200) << path;
      EXPECT_EQ(got->body, kText) << path;
    }
  }
  EXPECT_EQ(server.connections(), 1);
  // The client asks for gzip alone, once per request, and names itself.
  for (const std::string& head : server.heads()) {
    EXPECT_THAT(head, HasSubstr("\r\nAccept-Encoding: gzip\r\n"));
    EXPECT_EQ(head.find("Accept-Encoding"), head.rfind("Accept-Encoding")) << head;
    EXPECT_THAT(head, HasSubstr("\r\nUser-Agent: AgendaSync/"));
  }
}

TEST_P(CurlClientEncodingTest, AHeadAnswerNamingGzipHasAnEmptyBody) {
  EncodingServer server;
  Request head = get(server.url("/head"));
  head.method = "HEAD";
  auto got = make_client()->send(head, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "");
}

TEST_P(CurlClientEncodingTest, AStreamedGzipAnswerIsHandedOverDecoded) {
  EncodingServer server;
  std::string pieces;
  int count = 0;
  Request request = get(server.url("/chunked-gzip"));
  request.on_body_piece = [&](std::string_view piece) {
    pieces += piece;
    ++count;
    return true;
  };
  auto got = make_client()->send(request, {});
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "");
  EXPECT_EQ(pieces, kText);
  EXPECT_GE(count, 1);
}

TEST_P(CurlClientEncodingTest, AnEncodingNotAskedForIsAClearError) {
  EncodingServer server;
  auto got = make_client()->send(get(server.url("/br")), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kPermanent);
  EXPECT_THAT(got.error().message, HasSubstr("the answer from " + server.host_port()));
  EXPECT_THAT(got.error().message, HasSubstr("encoded as \"br\", which AgendaSync did not ask"));
  EXPECT_THAT(got.error().message, HasSubstr("proxy"));
}

TEST_P(CurlClientEncodingTest, CorruptGzipIsAClearErrorAndNotSentAgain) {
  EncodingServer server;
  auto client = make_client();
  auto got = client->send(get(server.url("/corrupt")), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kPermanent);
  EXPECT_THAT(got.error().message, HasSubstr("the answer from " + server.host_port() +
                                             " cannot be read: its gzip data is corrupt ("));
  EXPECT_EQ(server.heads().size(), 1u);
  // The client goes on: the next answer on a new connection reads well.
  auto next = client->send(get(server.url("/gzip")), {});
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->body, kText);
}

TEST_P(CurlClientEncodingTest, GzipCutShortIsAClearError) {
  EncodingServer server;
  auto got = make_client()->send(get(server.url("/cut-short")), {});
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message,
              HasSubstr("cannot be read: its gzip data is cut short (the compressed data stops "
                        "before its end)"));
}

TEST_P(CurlClientEncodingTest, ADecompressionBombStopsAtTheLimit) {
  EncodingServer server;
  auto client = client_with_a_small_limit();
  auto got = client->send(get(server.url("/bomb")), {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::kPermanent);
  EXPECT_THAT(got.error().message,
              HasSubstr("the answer from " + server.host_port() +
                        " is larger than AgendaSync accepts (1 MiB, after decompression)"));
  EXPECT_EQ(server.heads().size(), 1u);
  // Below the limit the same client reads compressed answers as before.
  auto next = client->send(get(server.url("/gzip")), {});
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->body, kText);
}

TEST_P(CurlClientEncodingTest, AsyncRequestsDecodeTheirOwnAnswersAtOnce) {
  EncodingServer server;
  auto client = make_client();
  constexpr int kRequests = 12;
  std::mutex mutex;
  std::condition_variable all_done;
  int done = 0;
  std::map<int, std::string> bodies;
  for (int i = 0; i < kRequests; ++i) {
    const char* path = i % 3 == 0 ? "/gzip" : i % 3 == 1 ? "/raw-deflate" : "/chunked-gzip";
    client->send_async(get(server.url(path)), {}, [&, i](Result<Response> got) {
      std::lock_guard lock(mutex);
      bodies[i] = got ? got->body : got.error().message;
      if (++done == kRequests) all_done.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(60), [&] { return done == kRequests; }));
  for (const auto& [i, body] : bodies) EXPECT_EQ(body, kText) << "request " << i;
}

}  // namespace
}  // namespace agendasync::net
