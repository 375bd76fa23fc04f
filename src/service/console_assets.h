#pragma once
/// The admin console's static files (web/console/), embedded into the daemon at build time by
/// cmake/embed_files.cmake: packaging installs nothing for it and tests need no path.
#include <span>
#include <string_view>

namespace agendasync::service {

struct ConsoleAsset {
  std::string_view name;  ///< file name under web/console/, e.g. "app.js"
  std::string_view content_type;
  std::string_view bytes;
};

/// Every embedded file (generated console_assets.cpp).
std::span<const ConsoleAsset> console_assets();

}  // namespace agendasync::service
