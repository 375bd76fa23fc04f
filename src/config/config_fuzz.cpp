// libFuzzer: any text as a configuration file must give a Config or an Error, never a crash,
// and an error must name the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = agendasync::config::parse_config(text, "/fuzz/agendasync.toml");
  if (!config && config.error().message.find("/fuzz/agendasync.toml") == std::string::npos) {
    std::abort();
  }
  return 0;
}
