// The body decoder on its own: gzip, deflate (with and without the zlib header) and identity,
// fed whole and byte by byte, one decoder reused across bodies, and what it says about
// corrupt, truncated and oversized (a decompression bomb) data.
#include "net/body_decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "net/testing/compress.h"

namespace agendasync::net {
namespace {

using testing::compress;
using testing::soap_text;
using testing::Wrapper;

/// Collects what the decoder hands over, refusing beyond `cap` bytes as the client does.
struct Collect final : BodySink {
  explicit Collect(std::size_t cap = std::string::npos) : cap(cap) {}
  bool take(std::string_view decoded) override {
    if (text.size() + decoded.size() > cap) return false;
    text.append(decoded);
    return true;
  }
  std::size_t cap;
  std::string text;
};

std::string decode_whole(BodyDecoder& decoder, BodyCoding coding, std::string_view body) {
  Collect out;
  decoder.start(coding);
  EXPECT_EQ(decoder.feed(body, out), BodyDecoder::Fed::kOk) << decoder.error();
  EXPECT_TRUE(decoder.finish()) << decoder.error();
  return out.text;
}

std::string decode_bytewise(BodyDecoder& decoder, BodyCoding coding, std::string_view body) {
  Collect out;
  decoder.start(coding);
  for (char c : body) {
    EXPECT_EQ(decoder.feed(std::string_view(&c, 1), out), BodyDecoder::Fed::kOk) << decoder.error();
  }
  EXPECT_TRUE(decoder.finish()) << decoder.error();
  return out.text;
}

TEST(BodyCoding, NamesWhatTheClientReadsAndNothingElse) {
  EXPECT_EQ(body_coding("gzip"), BodyCoding::kGzip);
  EXPECT_EQ(body_coding(" GZip "), BodyCoding::kGzip);
  EXPECT_EQ(body_coding("x-gzip"), BodyCoding::kGzip);
  EXPECT_EQ(body_coding("deflate"), BodyCoding::kDeflate);
  EXPECT_EQ(body_coding("identity"), BodyCoding::kIdentity);
  EXPECT_EQ(body_coding(""), BodyCoding::kIdentity);
  EXPECT_EQ(body_coding("identity, gzip"), BodyCoding::kGzip);
  EXPECT_EQ(body_coding("br"), std::nullopt);
  EXPECT_EQ(body_coding("compress"), std::nullopt);
  EXPECT_EQ(body_coding("gzip, br"), std::nullopt);
  EXPECT_EQ(body_coding("deflate, gzip"), std::nullopt);  // stacked: never asked for
}

TEST(BodyDecoder, GzipIsDecodedWholeAndByteByByte) {
  const std::string text = soap_text(50);
  const std::string gzip = compress(text, Wrapper::kGzip);
  ASSERT_LT(gzip.size(), text.size() / 5);
  BodyDecoder decoder;
  EXPECT_EQ(decode_whole(decoder, BodyCoding::kGzip, gzip), text);
  EXPECT_EQ(decode_bytewise(decoder, BodyCoding::kGzip, gzip), text);
}

TEST(BodyDecoder, DeflateIsReadWithTheZlibHeaderAndWithout) {
  const std::string text = soap_text(20);
  BodyDecoder decoder;
  EXPECT_EQ(decode_whole(decoder, BodyCoding::kDeflate, compress(text, Wrapper::kZlib)), text);
  // Raw deflate, as old IIS sent for "deflate": libcurl reads it, so do we.
  EXPECT_EQ(decode_whole(decoder, BodyCoding::kDeflate, compress(text, Wrapper::kRaw)), text);
  EXPECT_EQ(decode_bytewise(decoder, BodyCoding::kDeflate, compress(text, Wrapper::kRaw)), text);
  EXPECT_EQ(decode_bytewise(decoder, BodyCoding::kDeflate, compress(text, Wrapper::kZlib)), text);
}

TEST(BodyDecoder, IdentityPassesBytesThrough) {
  BodyDecoder decoder;
  EXPECT_EQ(decode_whole(decoder, BodyCoding::kIdentity, "<plain/>"), "<plain/>");
  EXPECT_EQ(decode_bytewise(decoder, BodyCoding::kIdentity, "<plain/>"), "<plain/>");
}

TEST(BodyDecoder, OneDecoderServesBodyAfterBodyInAnyCoding) {
  BodyDecoder decoder;
  for (int round = 0; round < 3; ++round) {
    const std::string text = soap_text(round + 1);
    EXPECT_EQ(decode_whole(decoder, BodyCoding::kGzip, compress(text, Wrapper::kGzip)), text);
    EXPECT_EQ(decode_whole(decoder, BodyCoding::kDeflate, compress(text, Wrapper::kRaw)), text);
    EXPECT_EQ(decode_whole(decoder, BodyCoding::kIdentity, text), text);
    EXPECT_EQ(decode_whole(decoder, BodyCoding::kDeflate, compress(text, Wrapper::kZlib)), text);
  }
  // A body that failed leaves nothing behind for the next one.
  Collect out;
  decoder.start(BodyCoding::kGzip);
  EXPECT_EQ(decoder.feed("not gzip at all", out), BodyDecoder::Fed::kCorrupt);
  EXPECT_EQ(decode_whole(decoder, BodyCoding::kGzip, compress("again", Wrapper::kGzip)), "again");
}

TEST(BodyDecoder, AnEmptyCompressedBodyIsEmpty) {
  // HEAD, 204 and 304 answers name the coding but carry no bytes.
  BodyDecoder decoder;
  Collect out;
  decoder.start(BodyCoding::kGzip);
  EXPECT_EQ(decoder.feed("", out), BodyDecoder::Fed::kOk);
  EXPECT_TRUE(decoder.finish());
  EXPECT_EQ(out.text, "");
}

TEST(BodyDecoder, CorruptGzipIsRefusedWithWhatZlibSaw) {
  const std::string text = soap_text(10);
  BodyDecoder decoder;

  std::string not_gzip = "<s:Envelope/>";
  Collect out;
  decoder.start(BodyCoding::kGzip);
  EXPECT_EQ(decoder.feed(not_gzip, out), BodyDecoder::Fed::kCorrupt);
  EXPECT_EQ(decoder.error(), "incorrect header check");

  // A flipped byte in the trailer's checksum: the data decodes, the check fails.
  std::string bad_crc = compress(text, Wrapper::kGzip);
  bad_crc[bad_crc.size() - 6] ^= 0x55;
  Collect crc_out;
  decoder.start(BodyCoding::kGzip);
  EXPECT_EQ(decoder.feed(bad_crc, crc_out), BodyDecoder::Fed::kCorrupt);
  EXPECT_EQ(decoder.error(), "incorrect data check");

  // Bytes after the end of the gzip data.
  Collect trailing_out;
  decoder.start(BodyCoding::kGzip);
  EXPECT_EQ(decoder.feed(compress(text, Wrapper::kGzip) + "junk", trailing_out),
            BodyDecoder::Fed::kCorrupt);
  EXPECT_EQ(decoder.error(), "there are bytes after the end of the compressed data");
}

TEST(BodyDecoder, ATruncatedBodyDoesNotFinish) {
  const std::string gzip = compress(soap_text(10), Wrapper::kGzip);
  BodyDecoder decoder;
  Collect out;
  decoder.start(BodyCoding::kGzip);
  EXPECT_EQ(decoder.feed(std::string_view(gzip).substr(0, gzip.size() - 10), out),
            BodyDecoder::Fed::kOk);
  EXPECT_FALSE(decoder.finish());
  EXPECT_EQ(decoder.error(), "the compressed data stops before its end");
}

TEST(BodyDecoder, ABombStopsAtTheSinksCap) {
  // 64 MiB of zeros compress to about 64 KB: the sink refuses past 1 MiB, and the decoder
  // stops there instead of inflating the rest.
  const std::string bomb = compress(std::string(std::size_t{64} << 20, '\0'), Wrapper::kGzip);
  ASSERT_LT(bomb.size(), std::size_t{100} << 10);
  BodyDecoder decoder;
  Collect out(std::size_t{1} << 20);
  decoder.start(BodyCoding::kGzip);
  EXPECT_EQ(decoder.feed(bomb, out), BodyDecoder::Fed::kSinkStopped);
  EXPECT_LE(out.text.size(), std::size_t{1} << 20);
  EXPECT_GT(out.text.size(), std::size_t{1000} << 10);
}

TEST(BodyDecoderPool, GivesBackTheDecodersItKeeps) {
  BodyDecoderPool pool(1);
  auto first = pool.take();
  auto second = pool.take();
  BodyDecoder* kept = first.get();
  pool.give_back(std::move(first));
  pool.give_back(std::move(second));  // beyond max_idle: freed
  auto again = pool.take();
  EXPECT_EQ(again.get(), kept);
  EXPECT_NE(pool.take().get(), kept);
}

}  // namespace
}  // namespace agendasync::net
