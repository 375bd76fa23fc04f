// Writes the configuration the Debian package installs as its conffile
// (/etc/agendasync/agendasync.toml): `agendasync init`'s commented file, with the agenda
// under the service's state folder. A build tool, not installed.
#include <iostream>

#include "config/config.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: agendasync_default_config OUT.toml DATABASE\n";
    return 2;
  }
  std::filesystem::remove(argv[1]);  // a rebuild writes it afresh
  auto written = agendasync::config::write_default_config(argv[1], argv[2]);
  if (!written) {
    std::cerr << written.error().message << "\n";
    return 1;
  }
  return 0;
}
