#pragma once
/// A response body's Content-Encoding undone as its pieces arrive (gzip, deflate, identity),
/// by us rather than libcurl: a decoder keeps its zlib stream and 32 KB window from one
/// response to the next (inflateReset), where libcurl initialises a stream and callocs a
/// window for every response; an idle mailbox's tiny SyncFolderItems answer paid more for
/// that than for inflating it (docs/DECISIONS.md, "Our own gzip decoding").
#include <zlib.h>

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agendasync::net {

/// The codings the client asks for (Accept-Encoding) and reads.
enum class BodyCoding { kIdentity, kGzip, kDeflate };

/// The coding a Content-Encoding value names ("gzip", "x-gzip", "deflate", "identity" or
/// empty, in any case, with spaces); nullopt for any other value, e.g. "br", or for more than
/// one coding ("deflate, gzip"): nothing the client asked for.
std::optional<BodyCoding> body_coding(std::string_view content_encoding);

/// Receives decoded bytes; returns false to stop (the body is too large, or a streamed
/// answer's reader is done).
class BodySink {
 public:
  virtual bool take(std::string_view decoded) = 0;

 protected:
  ~BodySink() = default;
};

class BodyDecoder {
 public:
  enum class Fed {
    kOk,           ///< everything given was decoded and handed on
    kSinkStopped,  ///< the sink returned false
    kCorrupt,      ///< not valid data of the coding (error() says what zlib saw)
  };

  BodyDecoder() = default;
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  /// Begins a new body in `coding`, dropping whatever an earlier one left.
  void start(BodyCoding coding);
  /// Decodes the next piece of the body and hands the result to `sink`.
  Fed feed(std::string_view piece, BodySink& sink);
  /// After the body's last piece: false when a compressed body stopped before its end (a
  /// body of no bytes at all is an empty body, as HEAD and 204 answers carry).
  bool finish();
  /// What was wrong, after kCorrupt or finish() false; for an error message.
  const std::string& error() const { return error_; }

 private:
  /// Sets the stream up for a wrapper (inflateInit2 once, then inflateReset2, which keeps the
  /// window); false when zlib has no memory.
  bool ready(int window_bits);
  /// Inflates `piece` into `sink`, in parts zlib's counters can hold.
  Fed inflate_piece(std::string_view piece, BodySink& sink);
  /// Inflates the stream's pending input into `sink`.
  Fed inflate_into(BodySink& sink);

  z_stream stream_{};
  bool initialised_ = false;
  int window_bits_ = 0;  ///< of the stream's current wrapper (gzip, zlib, raw)
  BodyCoding coding_ = BodyCoding::kIdentity;
  bool ended_ = false;  ///< the compressed stream's end (and trailer) was read
  bool any_input_ = false;
  bool raw_tried_ = false;  ///< deflate: the zlib wrapper was missing, read as raw deflate
  bool broken_ = false;     ///< zlib could not be set up for this body
  /// deflate: the body's first bytes, kept until the zlib header was read, so a body without
  /// it (raw deflate, as old IIS sent) can be read again from its start.
  std::array<unsigned char, 2> head_{};
  std::size_t head_size_ = 0;
  std::string error_;
  std::array<unsigned char, 16 * 1024> out_{};
};

/// Idle decoders of one client, shared by callers' threads and the loop: a decoder is taken
/// when a compressed body begins and given back when its attempt ends.
class BodyDecoderPool {
 public:
  explicit BodyDecoderPool(std::size_t max_idle) : max_idle_(max_idle) {}
  std::unique_ptr<BodyDecoder> take();
  void give_back(std::unique_ptr<BodyDecoder> decoder);

 private:
  const std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<BodyDecoder>> idle_;
};

}  // namespace agendasync::net
