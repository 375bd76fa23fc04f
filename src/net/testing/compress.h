#pragma once
/// Test data for the body decoder and the client: text compressed by zlib in the three
/// wrappers a "gzip" or "deflate" answer may use.
#include <zlib.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace agendasync::net::testing {

enum class Wrapper { kGzip, kZlib, kRaw };

inline std::string compress(std::string_view text, Wrapper wrapper) {
  z_stream stream{};
  const int bits = wrapper == Wrapper::kGzip   ? MAX_WBITS + 16
                   : wrapper == Wrapper::kZlib ? MAX_WBITS
                                               : -MAX_WBITS;
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(text.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int code = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (code != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

/// An answer like exsim's to an idle SyncFolderItems, `repeat` times over (each copy a little
/// different, so the data spans several deflate blocks when long).
inline std::string soap_text(int repeat = 1) {
  std::string text;
  for (int i = 0; i < repeat; ++i) {
    text +=
        "<s:Envelope><s:Body><m:SyncFolderItemsResponse><m:ResponseMessages>"
        "<m:SyncFolderItemsResponseMessage ResponseClass=\"Success\"><m:ResponseCode>"
        "NoError</m:ResponseCode><m:SyncState>H4sIAAAAAAAEAO29B2AcSZYlJi9tynt/";
    text += std::to_string(i);
    text +=
        "</m:SyncState></m:SyncFolderItemsResponseMessage></m:ResponseMessages>"
        "</m:SyncFolderItemsResponse></s:Body></s:Envelope>\n";
  }
  return text;
}

}  // namespace agendasync::net::testing
