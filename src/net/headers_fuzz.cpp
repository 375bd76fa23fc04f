// libFuzzer target for the text net/ reads from servers and settings itself (curl parses the
// HTTP framing): Retry-After, WWW-Authenticate challenges, URLs and their redaction.
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/http.h"
#include "net/server_address.h"
#include "net/transfer_errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace agendasync::net;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Response response;
  response.status = 401;
  response.headers.emplace_back("retry-after", text);
  response.headers.emplace_back("www-authenticate", text);
  if (auto wait = retry_after(response); wait && wait->count() < 0) __builtin_trap();
  for (const auto& scheme : offered_auth_schemes(response)) {
    if (scheme.empty() || scheme.find('=') != std::string::npos) __builtin_trap();
  }
  (void)auth_rejected(Credentials{}, response, "fuzz:443");
  if (auto server = parse_server_address(text); server && server->host.empty()) __builtin_trap();
  const std::string redacted = redact_url(text);
  if (redacted.size() > text.size()) __builtin_trap();
  return 0;
}
