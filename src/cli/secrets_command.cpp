// agendasync secrets new-key: the key ring that encrypts secrets at rest (R9). A new file is
// created with mode 0600; --rotate puts a new current key in front of an existing ring, so
// values sealed with the older keys still open until `POST /api/v1/settings/secrets/rotate`
// re-seals them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/context.h"
#include "service/secrets/key_ring.h"

namespace agendasync::cli {
namespace {

struct KeyFlags {
  std::string file;
  std::string id;
  bool rotate = false;
};

/// Writes `text` to `path` readable by the owner only. Replaces atomically (a temporary file
/// renamed over it), so a crash never leaves half a key ring.
Result<void> write_private_file(const std::string& path, const std::string& text, bool replace) {
  const std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(ErrorKind::kPermanent,
                fmt::format("cannot create {}: {}; check the folder exists and is writable, and "
                            "remove a stale {} left by an interrupted run",
                            temporary, std::strerror(errno), temporary));
  }
  const char* data = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t written = ::write(fd, data, left);
    if (written <= 0) {
      ::close(fd);
      ::unlink(temporary.c_str());
      return fail(ErrorKind::kPermanent, "cannot write " + temporary + "; is the disk full?");
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  ::fsync(fd);
  ::close(fd);
  // link() refuses an existing target: a new key file never overwrites a ring by accident.
  int moved =
      replace ? ::rename(temporary.c_str(), path.c_str()) : ::link(temporary.c_str(), path.c_str());
  int saved = errno;
  if (!replace) ::unlink(temporary.c_str());
  if (moved != 0) {
    if (replace) ::unlink(temporary.c_str());
    return fail(
        ErrorKind::kPermanent,
        saved == EEXIST
            ? fmt::format("{} exists; add --rotate to put a new key in front of its keys", path)
            : fmt::format("cannot write {}: {}", path, std::strerror(saved)));
  }
  return {};
}

void new_key(Context& context, const KeyFlags& flags) {
  std::string id = flags.id;
  if (id.empty()) {
    id = fmt::format("k{:%Y%m%d%H%M%S}", std::chrono::time_point_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now()));
  }
  auto key = service::secrets::generate_key_text(id);
  if (!key) return context.fail(key.error(), kExitUsage);
  std::string ring = *key + "\n";
  if (flags.rotate) {
    std::ifstream in(flags.file);
    if (!in) {
      return context.fail("cannot read " + flags.file + "; without --rotate a new file is made",
                          kExitRuntime);
    }
    std::stringstream old;
    old << in.rdbuf();
    // Validate before touching it: a broken ring must not gain a key and hide the problem.
    auto parsed = service::secrets::parse_key_ring(old.str());
    if (!parsed) return context.fail(parsed.error(), kExitRuntime);
    if (parsed->find(id)) {
      return context.fail("key id " + id + " is already in " + flags.file + "; choose another --id",
                          kExitUsage);
    }
    ring += old.str();
  }
  if (auto written = write_private_file(flags.file, ring, flags.rotate); !written) {
    return context.fail(written.error(), kExitRuntime);
  }
  std::cout << "key " << id << " written to " << flags.file << " (mode 0600)\n";
  if (flags.rotate) {
    std::cout << "next: restart `agendasync serve --secret-key-file " << flags.file
              << "`, then POST /api/v1/settings/secrets/rotate (admin) to re-seal every secret "
                 "with the new key; older keys can be removed from the file afterwards\n";
  } else {
    std::cout << "use it: agendasync serve --secret-key-file " << flags.file
              << "  (or put its content in AGENDASYNC_SECRET_KEY)\n";
  }
}

}  // namespace

void add_secrets_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<KeyFlags>();
  auto* secrets = app.add_subcommand("secrets", "Keys that encrypt secrets at rest");
  secrets->require_subcommand(1);
  auto* create = secrets->add_subcommand("new-key", "Write a new AES-256 key ring file (0600)");
  create->add_option("--file", flags->file, "The key ring file")->required();
  create->add_option("--id", flags->id, "The key's id (default: k<UTC date and time>)");
  create->add_flag("--rotate", flags->rotate,
                   "Add the new key in front of an existing ring (it becomes current)");
  create->callback([&context, flags] { new_key(context, *flags); });
}

}  // namespace agendasync::cli
