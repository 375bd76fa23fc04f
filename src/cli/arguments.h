#pragma once
/// The command line before CLI11 reads it: every argument must be valid UTF-8, or nothing
/// runs. Text from a Latin-1 terminal or script would otherwise reach the agenda and, from
/// there, every JSON reply and Exchange.
#include <optional>
#include <string>

namespace agendasync::cli {

/// nullopt when every argument is valid UTF-8; else the error message, naming the option the
/// bad value belongs to ("the value of --subject") or the argument's position.
std::optional<std::string> invalid_utf8_argument(int argc, const char* const* argv);

}  // namespace agendasync::cli
