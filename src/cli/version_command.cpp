// agendasync version, agendasync --version
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"

#ifndef AGENDASYNC_VERSION
#define AGENDASYNC_VERSION "0.0.0"
#endif

namespace agendasync::cli {

void add_version_command(CLI::App& app, Context& context) {
  // `agendasync --version` as well: what packaging checks and operators type first.
  app.set_version_flag("--version", std::string("agendasync ") + AGENDASYNC_VERSION);
  auto* version = app.add_subcommand("version", "Print the agendasync version");
  version->callback([&context] {
    std::cout << "agendasync " << AGENDASYNC_VERSION << "\n";
    context.exit_code = kExitOk;
  });
}

}  // namespace agendasync::cli
