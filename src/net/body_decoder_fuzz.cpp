// libFuzzer target for the body decoder: whatever a server sends as a gzip or deflate body,
// in pieces of any size, must end in decoded bytes, a refusal by the sink's cap, or an error
// with a message; never a crash, a hang or more bytes than the cap.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/body_decoder.h"

namespace {

struct Capped final : agendasync::net::BodySink {
  bool take(std::string_view decoded) override {
    if (total + decoded.size() > kCap) return false;
    total += decoded.size();
    return true;
  }
  static constexpr std::size_t kCap = std::size_t{1} << 20;
  std::size_t total = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace agendasync::net;
  if (size < 2) return 0;
  // The first byte picks the coding and the piece size; the rest is the body.
  const BodyCoding coding = data[0] % 2 == 0 ? BodyCoding::kGzip : BodyCoding::kDeflate;
  const std::size_t piece = 1 + data[1] % 64;
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
  static BodyDecoder decoder;  // reused across inputs, as the client reuses its decoders
  Capped sink;
  decoder.start(coding);
  BodyDecoder::Fed fed = BodyDecoder::Fed::kOk;
  for (std::size_t at = 0; at < body.size() && fed == BodyDecoder::Fed::kOk; at += piece) {
    fed = decoder.feed(body.substr(at, piece), sink);
  }
  if (fed == BodyDecoder::Fed::kCorrupt && decoder.error().empty()) __builtin_trap();
  if (fed == BodyDecoder::Fed::kOk && !decoder.finish() && decoder.error().empty()) {
    __builtin_trap();
  }
  if (sink.total > Capped::kCap) __builtin_trap();
  return 0;
}
