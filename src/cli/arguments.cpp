#include "cli/arguments.h"

#include <string_view>

#include "core/utf8.h"

namespace agendasync::cli {

namespace {

/// "--subject" for "--subject=..." or for the value after "--subject"; empty otherwise.
std::string option_of(std::string_view argument, std::string_view previous) {
  if (argument.starts_with("--")) {
    auto equals = argument.find('=');
    if (equals != std::string_view::npos) return std::string(argument.substr(0, equals));
  }
  if (previous.starts_with("-") && valid_utf8(previous)) return std::string(previous);
  return {};
}

}  // namespace

std::optional<std::string> invalid_utf8_argument(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    auto at = first_invalid_utf8(argument);
    if (!at) continue;
    const std::string option = option_of(argument, i > 1 ? argv[i - 1] : "");
    const std::string what =
        option.empty() ? "argument " + std::to_string(i)
                       : "the value of " + option + " (argument " + std::to_string(i) + ")";
    return what + " is not valid UTF-8 (ill-formed byte at offset " + std::to_string(*at) +
           "); nothing was changed. Pass text encoded as UTF-8: set a UTF-8 locale (e.g. "
           "LANG=C.UTF-8) or convert the script (iconv -f LATIN1 -t UTF-8)";
  }
  return std::nullopt;
}

}  // namespace agendasync::cli
