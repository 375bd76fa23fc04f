#include "net/body_decoder.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "net/ascii_text.h"

namespace agendasync::net {
namespace {

/// zlib's window bits per wrapper; all use the largest window, so switching between them
/// (inflateReset2) keeps the window already allocated.
constexpr int kGzipBits = MAX_WBITS + 16;
constexpr int kZlibBits = MAX_WBITS;
constexpr int kRawBits = -MAX_WBITS;

}  // namespace

std::optional<BodyCoding> body_coding(std::string_view content_encoding) {
  std::optional<BodyCoding> found = BodyCoding::kIdentity;
  int compressed = 0;
  // "identity" may stand beside a coding; two compressions would be stacked, which nobody
  // sends to a client that asked for gzip alone.
  while (!content_encoding.empty()) {
    const auto comma = content_encoding.find(',');
    const std::string_view name = trim(content_encoding.substr(0, comma));
    content_encoding.remove_prefix(comma == std::string_view::npos ? content_encoding.size()
                                                                   : comma + 1);
    if (name.empty() || equals_ignoring_case(name, "identity")) continue;
    if (equals_ignoring_case(name, "gzip") || equals_ignoring_case(name, "x-gzip")) {
      found = BodyCoding::kGzip;
    } else if (equals_ignoring_case(name, "deflate")) {
      found = BodyCoding::kDeflate;
    } else {
      return std::nullopt;
    }
    if (++compressed > 1) return std::nullopt;
  }
  return found;
}

BodyDecoder::~BodyDecoder() {
  if (initialised_) inflateEnd(&stream_);
}

bool BodyDecoder::ready(int window_bits) {
  int code = Z_OK;
  if (!initialised_) {
    code = inflateInit2(&stream_, window_bits);
    initialised_ = code == Z_OK;
  } else if (window_bits == window_bits_) {
    code = inflateReset(&stream_);
  } else {
    code = inflateReset2(&stream_, window_bits);
  }
  if (code != Z_OK) {
    broken_ = true;
    error_ = code == Z_MEM_ERROR ? "out of memory for the decompressor" : "zlib refused to start";
    return false;
  }
  window_bits_ = window_bits;
  return true;
}

void BodyDecoder::start(BodyCoding coding) {
  coding_ = coding;
  ended_ = false;
  any_input_ = false;
  raw_tried_ = false;
  broken_ = false;
  head_size_ = 0;
  error_.clear();
  // zlib is set up at the first compressed byte: a HEAD or 304 answer never needs it.
}

BodyDecoder::Fed BodyDecoder::feed(std::string_view piece, BodySink& sink) {
  if (coding_ == BodyCoding::kIdentity) {
    if (piece.empty()) return Fed::kOk;
    any_input_ = true;
    return sink.take(piece) ? Fed::kOk : Fed::kSinkStopped;
  }
  if (piece.empty()) return Fed::kOk;
  if (broken_) return Fed::kCorrupt;
  if (ended_) {
    error_ = "there are bytes after the end of the compressed data";
    return Fed::kCorrupt;
  }
  if (!any_input_) {
    any_input_ = true;
    if (!ready(coding_ == BodyCoding::kGzip ? kGzipBits : kZlibBits)) return Fed::kCorrupt;
  }
  const std::size_t earlier = stream_.total_in;  // bytes of this body before `piece`
  if (coding_ == BodyCoding::kDeflate && !raw_tried_) {
    while (head_size_ < head_.size() && head_size_ < earlier + piece.size()) {
      head_[head_size_] = static_cast<unsigned char>(piece[head_size_ - earlier]);
      ++head_size_;
    }
  }
  Fed fed = inflate_piece(piece, sink);
  if (fed != Fed::kCorrupt || coding_ != BodyCoding::kDeflate || raw_tried_ ||
      stream_.total_out != 0 || earlier > head_size_) {
    return fed;
  }
  // "deflate" is the zlib format (RFC 9110), but some servers send raw deflate data without
  // the zlib header; libcurl reads those too. Read the body again from its start as raw.
  raw_tried_ = true;
  if (!ready(kRawBits)) return Fed::kCorrupt;
  error_.clear();
  const std::string_view head(reinterpret_cast<const char*>(head_.data()), earlier);
  if (fed = inflate_piece(head, sink); fed != Fed::kOk) return fed;
  return inflate_piece(piece, sink);
}

BodyDecoder::Fed BodyDecoder::inflate_piece(std::string_view piece, BodySink& sink) {
  Fed fed = Fed::kOk;
  while (!piece.empty() && fed == Fed::kOk) {
    const auto size = std::min<std::size_t>(piece.size(), std::numeric_limits<uInt>::max());
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    stream_.avail_in = static_cast<uInt>(size);
    piece.remove_prefix(size);
    fed = inflate_into(sink);
  }
  return fed;
}

BodyDecoder::Fed BodyDecoder::inflate_into(BodySink& sink) {
  for (;;) {
    stream_.next_out = out_.data();
    stream_.avail_out = static_cast<uInt>(out_.size());
    const int code = inflate(&stream_, Z_NO_FLUSH);
    const std::size_t produced = out_.size() - stream_.avail_out;
    if (code != Z_OK && code != Z_STREAM_END && code != Z_BUF_ERROR) {
      if (code == Z_NEED_DICT) {
        error_ = "the compressed data needs a preset dictionary";
      } else if (code == Z_MEM_ERROR) {
        error_ = "out of memory for the decompressor";
      } else {
        error_ = stream_.msg != nullptr ? stream_.msg : "invalid compressed data";
      }
      return Fed::kCorrupt;
    }
    if (produced > 0 &&
        !sink.take(std::string_view(reinterpret_cast<const char*>(out_.data()), produced))) {
      return Fed::kSinkStopped;
    }
    if (code == Z_STREAM_END) {
      ended_ = true;
      if (stream_.avail_in > 0) {
        error_ = "there are bytes after the end of the compressed data";
        return Fed::kCorrupt;
      }
      return Fed::kOk;
    }
    // Z_BUF_ERROR: no progress without more input. A full output buffer may hold more back.
    if (code == Z_BUF_ERROR || (stream_.avail_in == 0 && stream_.avail_out > 0)) {
      return Fed::kOk;
    }
  }
}

bool BodyDecoder::finish() {
  if (coding_ == BodyCoding::kIdentity || !any_input_ || ended_ || broken_) return !broken_;
  error_ = "the compressed data stops before its end";
  return false;
}

std::unique_ptr<BodyDecoder> BodyDecoderPool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto decoder = std::move(idle_.back());
      idle_.pop_back();
      return decoder;
    }
  }
  return std::make_unique<BodyDecoder>();
}

void BodyDecoderPool::give_back(std::unique_ptr<BodyDecoder> decoder) {
  if (!decoder) return;
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(decoder));
  // else it is freed here, under the lock: rare, and only a free.
}

}  // namespace agendasync::net
