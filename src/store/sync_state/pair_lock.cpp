#include "store/sync_state/pair_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>

namespace agendasync::store {

namespace {

/// FNV-1a: stable across processes and builds (std::hash is neither promised).
std::uint64_t byte_of(std::string_view pair) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : pair) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash & ((std::uint64_t{1} << 40) - 1);
}

}  // namespace

Result<PairLock> PairLock::acquire(const std::filesystem::path& state_path, std::string_view pair,
                                   std::chrono::milliseconds wait) {
  const std::string file = state_path.string() + ".pairs.lock";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(ErrorKind::kPermission,
                "cannot open the pair lock file " + file + ": " + std::strerror(errno) +
                    "; its folder must be writable by the user agendasync runs as");
  }
  struct flock range {};
  range.l_type = F_WRLCK;
  range.l_whence = SEEK_SET;
  range.l_start = static_cast<off_t>(byte_of(pair));
  range.l_len = 1;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (::fcntl(fd, F_OFD_SETLK, &range) == 0) return PairLock(fd);
    int error = errno;
    if ((error != EAGAIN && error != EACCES) || std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      if (error != EAGAIN && error != EACCES) {
        return fail(ErrorKind::kPermanent,
                    "cannot lock the pair lock file " + file + ": " + std::strerror(error));
      }
      return fail(ErrorKind::kTransient,
                  "the pair of " + std::string(pair) +
                      " is being synced by another agendasync process (the daemon or another "
                      "`agendasync sync`); it did not finish within " +
                      std::to_string(wait.count() / 1000) +
                      " s. Nothing was changed; retry later (the daemon syncs it anyway)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

PairLock::PairLock(PairLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

PairLock::~PairLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the description releases its OFD lock
}

}  // namespace agendasync::store
